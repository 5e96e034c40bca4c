import { describe, expect, it } from "vitest";
import { DirectRouter } from "../../src/routing/index.js";

interface Queue {
  name: string;
}
const queue = (name: string): Queue => ({ name });

function routeNames(router: DirectRouter<Queue>, routingKey: string): string[] {
  const out = new Set<Queue>();
  router.route(routingKey, undefined, out);
  return [...out].map((q) => q.name).sort();
}

describe("DirectRouter", () => {
  // The "routing" tutorial: Q1 takes errors, Q2 takes info, warning and error.
  it("routes the tutorial's log levels by exact key", () => {
    const router = new DirectRouter<Queue>();
    const q1 = queue("q1");
    const q2 = queue("q2");
    router.bind(q1, "error", {});
    for (const level of ["info", "warning", "error"]) router.bind(q2, level, {});
    expect(routeNames(router, "error")).toEqual(["q1", "q2"]);
    expect(routeNames(router, "info")).toEqual(["q2"]);
    expect(routeNames(router, "debug")).toEqual([]);
    expect(routeNames(router, "Error")).toEqual([]);
    expect(router.size).toBe(4);
  });

  it("treats the empty key as a key and does not match prefixes", () => {
    const router = new DirectRouter<Queue>();
    const q = queue("q");
    router.bind(q, "", {});
    expect(routeNames(router, "")).toEqual(["q"]);
    expect(routeNames(router, "a")).toEqual([]);
    router.bind(q, "a.b", {});
    expect(routeNames(router, "a")).toEqual([]);
    expect(routeNames(router, "a.b")).toEqual(["q"]);
  });

  it("makes re-binding a no-op and unbinding an absent binding return false", () => {
    const router = new DirectRouter<Queue>();
    const q = queue("q");
    expect(router.bind(q, "k", { a: 1 })).toBe(true);
    expect(router.bind(q, "k", { a: 2 })).toBe(false);
    expect(router.size).toBe(1);
    expect([...router.bindings()]).toEqual([{ destination: q, routingKey: "k", arguments: { a: 1 } }]);
    expect(router.unbind(q, "other", {})).toBe(false);
    expect(router.unbind(queue("q"), "k", {})).toBe(false); // identity, not structural equality
    expect(router.unbind(q, "k", {})).toBe(true);
    expect(router.unbind(q, "k", {})).toBe(false);
    expect(router.size).toBe(0);
    expect(routeNames(router, "k")).toEqual([]);
    expect(router.hasBindingsTo(q)).toBe(false);
  });

  it("removes every binding of a destination with unbindAll and leaves the others", () => {
    const router = new DirectRouter<Queue>();
    const q1 = queue("q1");
    const q2 = queue("q2");
    router.bind(q1, "a", {});
    router.bind(q1, "b", {});
    router.bind(q2, "a", {});
    expect(router.unbindAll(q1)).toBe(2);
    expect(router.unbindAll(q1)).toBe(0);
    expect(router.hasBindingsTo(q1)).toBe(false);
    expect(router.hasBindingsTo(q2)).toBe(true);
    expect(routeNames(router, "a")).toEqual(["q2"]);
    expect(routeNames(router, "b")).toEqual([]);
    expect(router.size).toBe(1);
  });

  it("adds to out without clearing it and copies the arguments it keeps", () => {
    const router = new DirectRouter<Queue>();
    const q = queue("q");
    const earlier = queue("earlier");
    const args: Record<string, unknown> = { a: 1 };
    router.bind(q, "k", args);
    args.a = 2;
    const out = new Set<Queue>([earlier, q]);
    router.route("k", undefined, out);
    expect([...out]).toEqual([earlier, q]);
    expect([...router.bindings()][0]?.arguments).toEqual({ a: 1 });
  });
});
