import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Fifo } from "../src/fifo.js";

type Op =
  | { kind: "push"; value: number }
  | { kind: "shift" }
  | { kind: "front"; values: number[] }
  | { kind: "remove"; index: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("push" as const), value: fc.integer() }),
  fc.record({ kind: fc.constant("shift" as const) }),
  fc.record({ kind: fc.constant("front" as const), values: fc.array(fc.integer(), { maxLength: 5 }) }),
  fc.record({ kind: fc.constant("remove" as const), index: fc.nat(20) }),
);

describe("Fifo", () => {
  it("behaves like an array model under any sequence of operations", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 3000 }), (ops) => {
        const fifo = new Fifo<{ value: number }>();
        const model: Array<{ value: number }> = [];
        for (const o of ops) {
          if (o.kind === "push") {
            const item = { value: o.value };
            fifo.push(item);
            model.push(item);
          } else if (o.kind === "shift") {
            expect(fifo.shift()).toBe(model.shift());
          } else if (o.kind === "front") {
            const items = o.values.map((value) => ({ value }));
            fifo.unshiftAll(items);
            model.unshift(...items);
          } else {
            const item = model[o.index];
            if (item === undefined) {
              expect(fifo.remove({ value: 0 })).toBe(false);
            } else {
              expect(fifo.remove(item)).toBe(true);
              model.splice(o.index, 1);
            }
          }
          expect(fifo.length).toBe(model.length);
        }
        expect(fifo.drain()).toEqual(model);
        expect(fifo.length).toBe(0);
      }),
    );
  });

  it("compacts a long-lived queue without losing order", () => {
    const fifo = new Fifo<number>();
    let next = 0;
    let expected = 0;
    for (let round = 0; round < 10_000; round++) {
      fifo.push(next++);
      fifo.push(next++);
      expect(fifo.shift()).toBe(expected++);
    }
    expect(fifo.length).toBe(10_000);
    expect(fifo.shift()).toBe(expected);
  });
});
