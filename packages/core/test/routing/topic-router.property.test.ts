import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TopicRouter } from "../../src/routing/index.js";
import { referenceTopicMatch } from "./topic-reference.js";

// A small alphabet so that random patterns and keys often meet; "" makes empty words, and '*'/'#' in a
// routing key are plain words that only wildcards match.
const word = fc.constantFrom("a", "b", "c", "", "*", "#");
const patternOrKey = fc.array(word, { maxLength: 6 }).map((words) => words.join("."));
const destinationId = fc.integer({ min: 0, max: 5 });

function expectedRoute(bindings: Iterable<[number, string]>, routingKey: string): number[] {
  const matched = new Set<number>();
  for (const [destination, pattern] of bindings) {
    if (referenceTopicMatch(pattern, routingKey)) matched.add(destination);
  }
  return [...matched].sort((x, y) => x - y);
}

function actualRoute(router: TopicRouter<number>, routingKey: string): number[] {
  const out = new Set<number>();
  router.route(routingKey, undefined, out);
  return [...out].sort((x, y) => x - y);
}

describe("TopicRouter agrees with a naive recursive matcher", () => {
  it("for random bindings and keys", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(destinationId, patternOrKey), { maxLength: 25 }),
        fc.array(patternOrKey, { minLength: 1, maxLength: 20 }),
        (bindings, keys) => {
          const router = new TopicRouter<number>();
          for (const [destination, pattern] of bindings) router.bind(destination, pattern, {});
          for (const key of keys) {
            // Twice: the second answer comes from the cache.
            expect(actualRoute(router, key)).toEqual(expectedRoute(bindings, key));
            expect(actualRoute(router, key)).toEqual(expectedRoute(bindings, key));
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it("for random patterns on long keys with many '#'s", () => {
    const longKey = fc.array(fc.constantFrom("a", "b", ""), { maxLength: 14 }).map((w) => w.join("."));
    const hashHeavy = fc
      .array(fc.constantFrom("a", "b", "*", "#", "#"), { minLength: 1, maxLength: 8 })
      .map((w) => w.join("."));
    fc.assert(
      fc.property(hashHeavy, fc.array(longKey, { minLength: 1, maxLength: 10 }), (pattern, keys) => {
        const router = new TopicRouter<number>({ routeCacheEntries: 0 });
        router.bind(1, pattern, {});
        for (const key of keys) {
          expect(actualRoute(router, key)).toEqual(referenceTopicMatch(pattern, key) ? [1] : []);
        }
      }),
      { numRuns: 500 },
    );
  });
});

type Command =
  | { kind: "bind"; destination: number; pattern: string }
  | { kind: "unbind"; destination: number; pattern: string }
  | { kind: "unbindAll"; destination: number }
  | { kind: "route"; key: string };

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ kind: fc.constant("bind" as const), destination: destinationId, pattern: patternOrKey }),
  fc.record({ kind: fc.constant("unbind" as const), destination: destinationId, pattern: patternOrKey }),
  fc.record({ kind: fc.constant("unbindAll" as const), destination: destinationId }),
  fc.record({ kind: fc.constant("route" as const), key: patternOrKey }),
  fc.record({ kind: fc.constant("route" as const), key: patternOrKey }),
);

describe("TopicRouter under a random mix of binds, unbinds and routes", () => {
  it("matches a model of its bindings, with a tiny cache that evicts and invalidates", () => {
    fc.assert(
      fc.property(fc.array(command, { maxLength: 60 }), fc.integer({ min: 0, max: 3 }), (commands, size) => {
        const router = new TopicRouter<number>({ routeCacheEntries: size });
        const model = new Map<string, [number, string]>();
        const id = (destination: number, pattern: string) => `${destination}\u0000${pattern}`;
        for (const c of commands) {
          if (c.kind === "bind") {
            expect(router.bind(c.destination, c.pattern, {})).toBe(!model.has(id(c.destination, c.pattern)));
            model.set(id(c.destination, c.pattern), [c.destination, c.pattern]);
          } else if (c.kind === "unbind") {
            expect(router.unbind(c.destination, c.pattern, {})).toBe(
              model.delete(id(c.destination, c.pattern)),
            );
          } else if (c.kind === "unbindAll") {
            const mine = [...model.entries()].filter(([, [d]]) => d === c.destination);
            for (const [key] of mine) model.delete(key);
            expect(router.unbindAll(c.destination)).toBe(mine.length);
          } else {
            expect(actualRoute(router, c.key)).toEqual(expectedRoute(model.values(), c.key));
          }
          expect(router.size).toBe(model.size);
        }
        for (let d = 0; d <= 5; d++) {
          expect(router.hasBindingsTo(d)).toBe([...model.values()].some(([m]) => m === d));
        }
        const listed = [...router.bindings()].map((b) => id(b.destination, b.routingKey)).sort();
        expect(listed).toEqual([...model.keys()].sort());
      }),
      { numRuns: 300 },
    );
  });
});
