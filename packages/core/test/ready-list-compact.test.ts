// The FIFO ready list as typed-array rows: order under pushes and requeues across ring wrap-around and
// growth (against a sorted-array model), and the sweep that lets go of Message objects whose body left
// memory, waiting at one whose body the cache has not decided on yet.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Message } from "../src/message.js";
import { FifoReadyList, type ReadyEntry } from "../src/ready-list.js";

function message(id: number, inMemory = true): Message {
  const body = inMemory ? Buffer.alloc(3) : undefined;
  return { id, exchange: "", routingKey: "q", properties: {}, rawProperties: Buffer.alloc(2), body, bodySize: 3, persistent: true };
}

function entry(seq: number, held: Message | undefined = message(seq)): ReadyEntry {
  return { id: seq * 10, seq, deliveryCount: seq % 3, stored: seq % 2 === 0, settled: false, expiresAtMs: seq % 5 === 0 ? seq : undefined, bodySize: 3, priority: 0, message: held };
}

describe("FifoReadyList rows", () => {
  it("keeps seq order and every field through pushes, shifts and requeues", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant("push"), fc.constant("shift"), fc.nat({ max: 50 })), { maxLength: 300 }), (ops) => {
        const list = new FifoReadyList(4);
        let model: ReadyEntry[] = [];
        const out: ReadyEntry[] = [];
        let seq = 1;
        for (const op of ops) {
          if (op === "push") {
            const e = entry(seq++);
            list.push(e);
            model.push(e);
          } else if (op === "shift") {
            const got = list.shift();
            const want = model.shift();
            expect(got?.seq).toBe(want?.seq);
            if (got) out.push(got);
          } else if (out.length > 0) {
            const back = out.splice(op % out.length, 1)[0] as ReadyEntry;
            list.restore(back);
            model = [...model, back].sort((a, b) => a.seq - b.seq);
          }
          expect(list.length).toBe(model.length);
          expect(list.bodyBytes).toBe(3 * model.length);
        }
        const drained: ReadyEntry[] = [];
        for (let next = list.shift(); next; next = list.shift()) drained.push(next);
        expect(drained.map(({ id, seq, deliveryCount, stored, expiresAtMs }) => ({ id, seq, deliveryCount, stored, expiresAtMs }))).toEqual(
          model.map(({ id, seq, deliveryCount, stored, expiresAtMs }) => ({ id, seq, deliveryCount, stored, expiresAtMs })),
        );
      }),
    );
  });

  it("gives the columns of a drained backlog back, keeping order across the shrinks", () => {
    const list = new FifoReadyList();
    for (let seq = 1; seq <= 20_000; seq++) list.push(entry(seq, undefined));
    expect(list.capacityRows).toBeGreaterThanOrEqual(20_000);
    let expected = 1;
    while (list.length > 100) expect(list.shift()?.seq).toBe(expected++);
    expect(list.capacityRows).toBeLessThanOrEqual(2048);
    list.restore(entry(expected - 1, undefined)); // a requeue after the shrinks still lands in order
    while (list.length > 0) expect(list.shift()?.seq).toBe(expected++ - 1);
    for (let seq = 1; seq <= 5000; seq++) list.push(entry(seq, undefined));
    list.drain(() => {});
    expect(list.capacityRows).toBe(1024);
  });

  it("lets go of a message whose body left memory, but waits while the cache has not decided", () => {
    const list = new FifoReadyList();
    const evicted = message(1, false);
    const pending = { ...message(2), evictionPending: true };
    const later = message(3, false);
    list.push(entry(1, evicted));
    list.push(entry(2, pending));
    list.push(entry(3, later));
    expect(list.headMessage()).toBeUndefined(); // row 1 forgot its object
    const seen: (Message | undefined)[] = [];
    list.visitFirst(3, (_seq, _id, held) => seen.push(held));
    expect(seen).toEqual([undefined, pending, later]); // the sweep stopped at the undecided one
    pending.body = undefined;
    pending.evictionPending = false;
    list.push(entry(4));
    seen.length = 0;
    list.visitFirst(4, (_seq, _id, held) => seen.push(held));
    expect(seen.slice(0, 3)).toEqual([undefined, undefined, undefined]);
    expect(seen[3]?.id).toBe(4); // a body still in memory keeps its object
  });

  it("keeps the object of a message with CC/BCC keys (only the object knows them)", () => {
    const list = new FifoReadyList();
    const routed = { ...message(1, false), extraRoutingKeys: ["other"] };
    list.push(entry(1, routed));
    expect(list.headMessage()).toBe(routed);
  });

  it("attaches a message read back to its row by seq, and refuses a row that is gone", () => {
    const list = new FifoReadyList();
    list.push(entry(1, undefined));
    list.push(entry(2, undefined));
    const read = message(20);
    expect(list.attach(2, 20, read)).toBe(true);
    expect(list.attach(2, 99, read)).toBe(false); // another message at that seq: not ours
    list.shift();
    expect(list.headMessage()).toBe(read);
    list.shift();
    expect(list.attach(2, 20, read)).toBe(false);
  });
});
