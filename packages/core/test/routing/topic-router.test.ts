import { describe, expect, it } from "vitest";
import { TopicRouter, TopicTrie } from "../../src/routing/index.js";

function routeOf<D>(router: TopicRouter<D>, routingKey: string): D[] {
  const out = new Set<D>();
  router.route(routingKey, undefined, out);
  return [...out];
}

function sortedRoute(router: TopicRouter<string>, routingKey: string): string[] {
  return routeOf(router, routingKey).sort();
}

/** A router where each pattern is bound to a destination named after it. */
function routerOf(patterns: string[]): TopicRouter<string> {
  const router = new TopicRouter<string>();
  for (const pattern of patterns) router.bind(pattern, pattern, {});
  return router;
}

describe("TopicRouter: the RabbitMQ topic tutorial", () => {
  // Q1 is bound with "*.orange.*"; Q2 with "*.*.rabbit" and "lazy.#".
  const router = new TopicRouter<string>();
  router.bind("Q1", "*.orange.*", {});
  router.bind("Q2", "*.*.rabbit", {});
  router.bind("Q2", "lazy.#", {});

  it.each([
    ["quick.orange.rabbit", ["Q1", "Q2"]],
    ["lazy.orange.elephant", ["Q1", "Q2"]],
    ["quick.orange.fox", ["Q1"]],
    ["lazy.brown.fox", ["Q2"]],
    ["lazy.pink.rabbit", ["Q2"]], // matches both of Q2's bindings, delivered once
    ["quick.brown.fox", []],
    ["orange", []],
    ["quick.orange.new.rabbit", []],
    ["lazy.orange.new.rabbit", ["Q2"]],
    ["quick.orange.male.rabbit", []],
  ])("routes %s to %j", (routingKey, expected) => {
    expect(sortedRoute(router, routingKey)).toEqual(expected);
  });

  it("behaves like fanout with '#' and like direct without wildcards", () => {
    const r = routerOf(["#", "kern.critical"]);
    expect(sortedRoute(r, "kern.critical")).toEqual(["#", "kern.critical"]);
    expect(sortedRoute(r, "kern.info")).toEqual(["#"]);
  });
});

describe("TopicRouter: word edge cases", () => {
  it("gives the empty key zero words", () => {
    const r = routerOf(["", "#", "*", "#.#", "*.#", "#.*", "a.#"]);
    expect(sortedRoute(r, "")).toEqual(["", "#", "#.#"]);
  });

  it("lets '#' match zero words at the start, middle and end", () => {
    const r = routerOf(["a.#", "#.a", "a.#.b", "#.a.#"]);
    expect(sortedRoute(r, "a")).toEqual(["#.a", "#.a.#", "a.#"]);
    expect(sortedRoute(r, "a.b")).toEqual(["#.a.#", "a.#", "a.#.b"]);
    expect(sortedRoute(r, "a.x.y.b")).toEqual(["#.a.#", "a.#", "a.#.b"]);
    expect(sortedRoute(r, "x.a")).toEqual(["#.a", "#.a.#"]);
    expect(sortedRoute(r, "b")).toEqual([]);
  });

  it("counts empty words as words", () => {
    const r = routerOf(["a..b", "a.*.b", "*", "*.*", "#.b", "."]);
    expect(sortedRoute(r, "a..b")).toEqual(["#.b", "a.*.b", "a..b"]);
    expect(sortedRoute(r, ".")).toEqual(["*.*", "."]);
    expect(sortedRoute(r, "a.")).toEqual(["*.*"]);
    expect(sortedRoute(r, "x")).toEqual(["*"]);
  });

  it("handles several '#'s and '*.#.*'", () => {
    const r = routerOf(["#.#", "#.#.#", "*.#.*", "#.*.#", "a.#.#.b"]);
    expect(sortedRoute(r, "a")).toEqual(["#.#", "#.#.#", "#.*.#"]);
    expect(sortedRoute(r, "a.b")).toEqual(["#.#", "#.#.#", "#.*.#", "*.#.*", "a.#.#.b"]);
    expect(sortedRoute(r, "a.x.x.x.b")).toEqual(["#.#", "#.#.#", "#.*.#", "*.#.*", "a.#.#.b"]);
    expect(sortedRoute(r, "")).toEqual(["#.#", "#.#.#"]);
  });

  it("treats '*' and '#' as wildcards only when they are a whole word", () => {
    const r = routerOf(["a*", "#b", "a.*x"]);
    expect(sortedRoute(r, "a*")).toEqual(["a*"]);
    expect(sortedRoute(r, "ab")).toEqual([]);
    expect(sortedRoute(r, "#b")).toEqual(["#b"]);
    expect(sortedRoute(r, "x.b")).toEqual([]);
    expect(sortedRoute(r, "a.*x")).toEqual(["a.*x"]);
    expect(sortedRoute(r, "a.yx")).toEqual([]);
  });

  it("matches a literal '*' or '#' word in a routing key only through wildcards", () => {
    const r = routerOf(["*", "#", "a"]);
    expect(sortedRoute(r, "*")).toEqual(["#", "*"]);
    expect(sortedRoute(r, "#")).toEqual(["#", "*"]);
  });

  it("stays polynomial on many '#'s against a long key", () => {
    const pattern = `${Array.from({ length: 30 }, () => "#").join(".")}.z`;
    const key = Array.from({ length: 200 }, () => "a").join(".");
    const r = routerOf([pattern]);
    expect(sortedRoute(r, key)).toEqual([]);
    expect(sortedRoute(r, `${key}.z`)).toEqual([pattern]);
  });
});

// What RabbitMQ 3.10.8 routed for these patterns and keys (sent with pika), recorded by hand.
describe("TopicRouter: routing observed on RabbitMQ", () => {
  const patterns = [
    "",
    "#",
    "*",
    "#.#",
    "*.#",
    "#.*",
    "a.#",
    "a..b",
    "a.*.b",
    ".",
    "*.*",
    "#.b",
    "a*",
    "*.#.*",
    "#.a.#",
  ];
  const r = routerOf(patterns);

  it.each([
    ["", ["", "#", "#.#"]],
    ["a", ["#", "#.#", "#.*", "#.a.#", "*", "*.#", "a.#"]],
    ["a.b", ["#", "#.#", "#.*", "#.a.#", "#.b", "*.#", "*.#.*", "*.*", "a.#"]],
    ["a..b", ["#", "#.#", "#.*", "#.a.#", "#.b", "*.#", "*.#.*", "a.#", "a.*.b", "a..b"]],
    [".", ["#", "#.#", "#.*", "*.#", "*.#.*", "*.*", "."]],
    ["a.", ["#", "#.#", "#.*", "#.a.#", "*.#", "*.#.*", "*.*", "a.#"]],
    ["x.b", ["#", "#.#", "#.*", "#.b", "*.#", "*.#.*", "*.*"]],
    ["a*", ["#", "#.#", "#.*", "*", "*.#", "a*"]],
    ["*", ["#", "#.#", "#.*", "*", "*.#"]],
    ["#", ["#", "#.#", "#.*", "*", "*.#"]],
    ["b", ["#", "#.#", "#.*", "#.b", "*", "*.#"]],
  ])("routes %j to %j", (routingKey, expected) => {
    expect(sortedRoute(r, routingKey)).toEqual(expected);
  });
});

describe("TopicRouter: bindings", () => {
  it("makes re-binding a no-op and unbinding absent bindings return false", () => {
    const r = new TopicRouter<string>();
    expect(r.bind("q", "a.*", {})).toBe(true);
    expect(r.bind("q", "a.*", { other: true })).toBe(false);
    expect(r.bind("p", "a.*", {})).toBe(true);
    expect(r.size).toBe(2);
    expect(r.unbind("q", "a.#", {})).toBe(false);
    expect(r.unbind("q", "a.*", {})).toBe(true);
    expect(r.unbind("q", "a.*", {})).toBe(false);
    expect(sortedRoute(r, "a.b")).toEqual(["p"]);
    expect([...r.bindings()]).toEqual([{ destination: "p", routingKey: "a.*", arguments: {} }]);
  });

  it("unbindAll removes a destination's patterns and keeps shared trie paths for others", () => {
    const r = new TopicRouter<string>();
    r.bind("q", "a.b.c", {});
    r.bind("q", "a.#", {});
    r.bind("p", "a.b.*", {});
    expect(r.unbindAll("q")).toBe(3 - 1);
    expect(r.hasBindingsTo("q")).toBe(false);
    expect(r.size).toBe(1);
    expect(sortedRoute(r, "a.b.c")).toEqual(["p"]);
    expect(sortedRoute(r, "a")).toEqual([]);
  });

  it("prunes trie nodes when the last binding on a path goes", () => {
    const trie = new TopicTrie<string>();
    trie.add("a.b.c", "q");
    trie.add("a.*.#", "q");
    trie.add("a.b", "p");
    expect(trie.nodeCount).toBe(1 + 5);
    expect(trie.remove("a.b.c", "q")).toBe(true);
    expect(trie.nodeCount).toBe(1 + 4);
    expect(trie.remove("a.*.#", "q")).toBe(true);
    expect(trie.remove("a.b", "p")).toBe(true);
    expect(trie.nodeCount).toBe(1);
    expect(trie.remove("a.b", "p")).toBe(false);
    expect(trie.remove("x", "p")).toBe(false);
  });
});

describe("TopicRouter: route cache", () => {
  it("answers from the cache and forgets it when a bind changes the answer", () => {
    const r = new TopicRouter<string>();
    r.bind("q1", "stock.*", {});
    expect(sortedRoute(r, "stock.nyse")).toEqual(["q1"]);
    expect(r.cachedRoutes).toBe(1);
    expect(sortedRoute(r, "stock.nyse")).toEqual(["q1"]);
    r.bind("q2", "#.nyse", {});
    expect(r.cachedRoutes).toBe(0);
    expect(sortedRoute(r, "stock.nyse")).toEqual(["q1", "q2"]);
  });

  it("forgets cached answers on unbind and unbindAll, including cached empty answers", () => {
    const r = new TopicRouter<string>();
    expect(sortedRoute(r, "a.b")).toEqual([]); // caches "nothing"
    r.bind("q", "a.*", {});
    expect(sortedRoute(r, "a.b")).toEqual(["q"]);
    r.unbind("q", "a.*", {});
    expect(sortedRoute(r, "a.b")).toEqual([]);
    r.bind("q", "#", {});
    expect(sortedRoute(r, "a.b")).toEqual(["q"]);
    r.unbindAll("q");
    expect(sortedRoute(r, "a.b")).toEqual([]);
  });

  it("keeps the cache when a bind or unbind changes nothing", () => {
    const r = new TopicRouter<string>();
    r.bind("q", "a", {});
    sortedRoute(r, "a");
    r.bind("q", "a", {});
    r.unbind("q", "zzz", {});
    expect(r.unbindAll("nobody")).toBe(0);
    expect(r.cachedRoutes).toBe(1);
  });

  it("bounds the cache and routes correctly with it disabled or saturated", () => {
    const small = new TopicRouter<string>({ routeCacheEntries: 2 });
    const none = new TopicRouter<string>({ routeCacheEntries: 0 });
    for (const r of [small, none]) r.bind("q", "k.*", {});
    for (const key of ["k.1", "k.2", "k.3", "x", "k.1"]) {
      expect(sortedRoute(small, key)).toEqual(sortedRoute(none, key));
    }
    expect(small.cachedRoutes).toBe(2);
    expect(none.cachedRoutes).toBe(0);
  });

  it("does not cache results larger than the per-entry limit", () => {
    const r = new TopicRouter<number>({ routeCacheMaxDestinations: 3 });
    for (let i = 0; i < 4; i++) r.bind(i, "#", {});
    expect(routeOf(r, "a").length).toBe(4);
    expect(r.cachedRoutes).toBe(0);
    r.unbind(3, "#", {});
    expect(routeOf(r, "a").length).toBe(3);
    expect(r.cachedRoutes).toBe(1);
  });
});

describe("TopicRouter: scale", () => {
  it("routes correctly among 100,000 bindings", () => {
    const r = new TopicRouter<number>();
    for (let i = 0; i < 100_000; i++) {
      r.bind(i, `tenant${i % 10_000}.svc${Math.floor(i / 10_000)}.*`, {});
    }
    expect(r.size).toBe(100_000);
    expect(routeOf(r, "tenant42.svc3.created")).toEqual([30_042]);
    expect(routeOf(r, "tenant42.svc3")).toEqual([]);
    r.bind(-1, "tenant42.#", {});
    expect(routeOf(r, "tenant42.svc3.created").sort((a, b) => a - b)).toEqual([-1, 30_042]);
  });
});
