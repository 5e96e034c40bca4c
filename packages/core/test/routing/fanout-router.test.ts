import { describe, expect, it } from "vitest";
import { FanoutRouter } from "../../src/routing/index.js";

describe("FanoutRouter", () => {
  it("routes every message to every bound destination once, whatever the key", () => {
    const router = new FanoutRouter<string>();
    router.bind("q1", "", {});
    router.bind("q2", "ignored", {});
    router.bind("q2", "another", {}); // a second binding of the same queue
    const out = new Set<string>();
    router.route("anything.at.all", { h: 1 }, out);
    expect([...out].sort()).toEqual(["q1", "q2"]);
    expect(router.size).toBe(3);
  });

  it("keeps the routing key as part of the binding's identity", () => {
    const router = new FanoutRouter<string>();
    expect(router.bind("q", "a", {})).toBe(true);
    expect(router.bind("q", "a", {})).toBe(false);
    expect(router.bind("q", "b", {})).toBe(true);
    expect(router.unbind("q", "a", {})).toBe(true);
    const out = new Set<string>();
    router.route("", undefined, out);
    expect([...out]).toEqual(["q"]); // still bound through "b"
    expect(router.unbind("q", "b", {})).toBe(true);
    out.clear();
    router.route("", undefined, out);
    expect(out.size).toBe(0);
    expect(router.hasBindingsTo("q")).toBe(false);
  });

  it("unbindAll counts and removes the destination's bindings", () => {
    const router = new FanoutRouter<string>();
    router.bind("q1", "a", {});
    router.bind("q1", "b", {});
    router.bind("q2", "a", {});
    expect(router.unbindAll("q1")).toBe(2);
    expect([...router.bindings()]).toEqual([{ destination: "q2", routingKey: "a", arguments: {} }]);
    const out = new Set<string>();
    router.route("x", undefined, out);
    expect([...out]).toEqual(["q2"]);
  });
});
