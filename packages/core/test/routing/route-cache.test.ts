import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CoreError } from "../../src/errors.js";
import { RouteCache } from "../../src/routing/index.js";

describe("RouteCache", () => {
  it("evicts the least recently used key, where a get counts as a use", () => {
    const cache = new RouteCache<string>(2, 10);
    cache.set("a", ["qa"]);
    cache.set("b", ["qb"]);
    expect(cache.get("a")).toEqual(["qa"]);
    cache.set("c", ["qc"]); // "b" is now the oldest
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("a")).toEqual(["qa"]);
    expect(cache.get("c")).toEqual(["qc"]);
    expect(cache.size).toBe(2);
  });

  it("replaces a key in place without evicting another", () => {
    const cache = new RouteCache<string>(2, 10);
    cache.set("a", ["1"]);
    cache.set("b", ["2"]);
    cache.set("a", ["3"]);
    expect(cache.size).toBe(2);
    expect(cache.get("a")).toEqual(["3"]);
    expect(cache.get("b")).toEqual(["2"]);
  });

  it("skips results over the per-entry limit and stores nothing when sized 0", () => {
    const cache = new RouteCache<number>(4, 2);
    cache.set("big", [1, 2, 3]);
    cache.set("ok", [1, 2]);
    expect(cache.get("big")).toBeUndefined();
    expect(cache.get("ok")).toEqual([1, 2]);
    const off = new RouteCache<number>(0, 2);
    off.set("k", []);
    expect(off.get("k")).toBeUndefined();
    expect(off.accepts(0)).toBe(false);
  });

  it("clears", () => {
    const cache = new RouteCache<number>(4, 2);
    cache.set("k", []);
    cache.clear();
    expect(cache.get("k")).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it("refuses nonsense limits", () => {
    expect(() => new RouteCache(-1, 1)).toThrow(CoreError);
    expect(() => new RouteCache(1.5, 1)).toThrow(CoreError);
    expect(() => new RouteCache(1, Number.NaN)).toThrow(CoreError);
  });
});

describe("RouteCache agrees with an array-based LRU", () => {
  type Op = { kind: "get"; key: string } | { kind: "set"; key: string; size: number } | { kind: "clear" };
  const key = fc.constantFrom("a", "b", "c", "d", "e", "f");
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant("get" as const), key }),
    fc.record({ kind: fc.constant("set" as const), key, size: fc.integer({ min: 0, max: 3 }) }),
    fc.record({ kind: fc.constant("clear" as const) }),
  );

  it("for random gets, sets and clears", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4 }), fc.array(op, { maxLength: 80 }), (capacity, ops) => {
        const cache = new RouteCache<number>(capacity, 2);
        let model: [string, number[]][] = []; // least recently used first
        ops.forEach((o, step) => {
          if (o.kind === "clear") {
            cache.clear();
            model = [];
          } else if (o.kind === "get") {
            const at = model.findIndex(([k]) => k === o.key);
            const hit = at >= 0 ? model.splice(at, 1)[0] : undefined;
            if (hit !== undefined) model.push(hit);
            expect(cache.get(o.key)).toEqual(hit?.[1]);
          } else {
            const value = Array.from({ length: o.size }, () => step);
            cache.set(o.key, value);
            if (capacity > 0 && o.size <= 2) {
              model = model.filter(([k]) => k !== o.key);
              if (model.length >= capacity) model.shift();
              model.push([o.key, value]);
            }
          }
          expect(cache.size).toBe(model.length);
        });
        for (const [k, v] of model) expect(cache.get(k)).toEqual(v);
      }),
      { numRuns: 500 },
    );
  });
});
