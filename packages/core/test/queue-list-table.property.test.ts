import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EMPTY_LIST, QueueListTable } from "../src/queue-list-table.js";

/** A message's lists go through acquire, with (deliver) and without (settle) in any order. */
type Op = { kind: "acquire"; queues: string[] } | { kind: "with" | "without"; pick: number; queue: string } | { kind: "release"; pick: number };

const queueId = fc.constantFrom("q1", "q2", "q3");
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.uniqueArray(queueId, { maxLength: 3 }).map((queues) => ({ kind: "acquire" as const, queues })),
  fc.record({ kind: fc.constant("with" as const), pick: fc.nat(), queue: queueId }),
  fc.record({ kind: fc.constant("without" as const), pick: fc.nat(), queue: queueId }),
  fc.record({ kind: fc.constant("release" as const), pick: fc.nat() }),
);

describe("QueueListTable", () => {
  it("hands out the list that was asked for, shares equal lists, and frees what nobody holds", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const table = new QueueListTable();
        // What each holder (a message's list) should contain.
        const held: { list: number; queues: string[] }[] = [];
        for (const o of ops) {
          if (o.kind === "acquire") {
            held.push({ list: table.acquire(o.queues), queues: [...o.queues] });
            continue;
          }
          if (held.length === 0) continue;
          const at = o.pick % held.length;
          const holder = held[at]!;
          if (o.kind === "release") {
            table.release(holder.list);
            held.splice(at, 1);
          } else if (o.kind === "with") {
            holder.list = table.with(holder.list, o.queue);
            if (!holder.queues.includes(o.queue)) holder.queues.push(o.queue);
          } else {
            holder.list = table.without(holder.list, o.queue);
            holder.queues = holder.queues.filter((q) => q !== o.queue);
          }
        }
        for (const { list, queues } of held) {
          expect(table.get(list)).toEqual(queues);
          expect(list === EMPTY_LIST).toBe(queues.length === 0);
        }
        // Equal lists share one number; nothing unheld is kept (the empty list always is).
        const distinct = new Set(held.filter((h) => h.queues.length > 0).map((h) => h.queues.join(",")));
        expect(table.size).toBe(distinct.size + 1);
        for (const a of held) for (const b of held) {
          expect(a.list === b.list).toBe(a.queues.join(",") === b.queues.join(","));
        }
      }),
      { numRuns: 300 },
    );
  });
});
