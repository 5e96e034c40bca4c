import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Deque } from "../src/deque.js";

describe("Deque", () => {
  it("behaves like an array under any sequence of operations", () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("push" as const), value: fc.integer() }),
      fc.record({ kind: fc.constant("unshift" as const), value: fc.integer() }),
      fc.record({ kind: fc.constant("shift" as const) }),
      fc.record({ kind: fc.constant("pop" as const) }),
      fc.record({ kind: fc.constant("insertAt" as const), value: fc.integer(), at: fc.nat(40) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const deque = new Deque<number>(2);
        const model: number[] = [];
        for (const o of ops) {
          if (o.kind === "push") {
            deque.push(o.value);
            model.push(o.value);
          }
          else if (o.kind === "unshift") {
            deque.unshift(o.value);
            model.unshift(o.value);
          }
          else if (o.kind === "shift") expect(deque.shift()).toBe(model.shift());
          else if (o.kind === "pop") expect(deque.pop()).toBe(model.pop());
          else {
            const at = Math.min(o.at, model.length);
            deque.insertAt(at, o.value);
            model.splice(at, 0, o.value);
          }
          expect(deque.length).toBe(model.length);
        }
        expect(deque.toArray()).toEqual(model);
      }),
    );
  });
});
