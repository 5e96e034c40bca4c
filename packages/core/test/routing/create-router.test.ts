import { describe, expect, it } from "vitest";
import {
  createRouter,
  DirectRouter,
  FanoutRouter,
  HeadersRouter,
  isRoutingType,
  TopicRouter,
} from "../../src/routing/index.js";

describe("createRouter", () => {
  it("builds the router of each exchange type", () => {
    expect(createRouter("direct")).toBeInstanceOf(DirectRouter);
    expect(createRouter("fanout")).toBeInstanceOf(FanoutRouter);
    expect(createRouter("topic")).toBeInstanceOf(TopicRouter);
    expect(createRouter("headers")).toBeInstanceOf(HeadersRouter);
  });

  it("passes topic options through", () => {
    const router = createRouter<string>("topic", { topic: { routeCacheEntries: 0 } }) as TopicRouter<string>;
    router.bind("q", "#", {});
    router.route("a", undefined, new Set());
    expect(router.cachedRoutes).toBe(0);
  });

  it("throws for a type it does not know", () => {
    expect(() => createRouter("x-consistent-hash" as "direct")).toThrow(/no router for exchange type/);
  });

  it("tells known types apart", () => {
    expect(isRoutingType("topic")).toBe(true);
    expect(isRoutingType("x-delayed-message")).toBe(false);
  });

  it("routes the same message differently per type", () => {
    const routed = (type: "direct" | "fanout" | "topic" | "headers") => {
      const router = createRouter<string>(type);
      router.bind("q", "a.*", { h: 1 });
      const out = new Set<string>();
      router.route("a.b", { h: 2 }, out);
      return out.has("q");
    };
    expect([routed("direct"), routed("fanout"), routed("topic"), routed("headers")]).toEqual([
      false,
      true,
      true,
      false,
    ]);
  });
});
