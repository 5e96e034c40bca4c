// Ready lists: FIFO with requeue-in-place, and the priority list (highest first, FIFO within a level,
// priorities clamped to the queue's maximum), byte accounting and expiry at the heads.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Message } from "../src/message.js";
import { PriorityReadyList, priorityLevel } from "../src/priority-ready-list.js";
import type { QueueEntry } from "../src/queue.js";
import { FifoReadyList } from "../src/ready-list.js";

function entry(
  seq: number,
  priority?: number,
  options: { bodyBytes?: number; expiresAtMs?: number } = {},
): QueueEntry {
  const message: Message = {
    id: seq,
    exchange: "",
    routingKey: "q",
    properties: priority === undefined ? {} : { priority },
    rawProperties: Buffer.alloc(2),
    body: Buffer.alloc(options.bodyBytes ?? 1),
    bodySize: options.bodyBytes ?? 1,
    persistent: false,
  };
  return {
    id: seq,
    message,
    seq,
    deliveryCount: 0,
    stored: false,
    settled: false,
    expiresAtMs: options.expiresAtMs,
    bodySize: message.bodySize,
    priority: priorityLevel(priority),
  };
}

function drain(list: FifoReadyList | PriorityReadyList): number[] {
  const out: number[] = [];
  for (let next = list.shift(); next; next = list.shift()) out.push(next.seq);
  return out;
}

describe("FifoReadyList", () => {
  it("hands out in order and puts a requeued entry back at its place", () => {
    const list = new FifoReadyList();
    const entries = [1, 2, 3, 4, 5].map((seq) => entry(seq));
    for (const e of entries) list.push(e);
    const first = list.shift() as QueueEntry;
    list.shift();
    const third = list.shift() as QueueEntry;
    list.restore(third);
    list.restore(first);
    expect(drain(list)).toEqual([1, 3, 4, 5]);
  });

  it("keeps the byte count of its bodies", () => {
    const list = new FifoReadyList();
    list.push(entry(1, undefined, { bodyBytes: 10 }));
    list.push(entry(2, undefined, { bodyBytes: 5 }));
    expect(list.bodyBytes).toBe(15);
    const head = list.shift() as QueueEntry;
    expect(list.bodyBytes).toBe(5);
    list.restore(head);
    expect(list.bodyBytes).toBe(15);
    expect(list.drain(() => {})).toBe(2);
    expect(list.bodyBytes).toBe(0);
  });

  it("expires only at the head", () => {
    const list = new FifoReadyList();
    list.push(entry(1, undefined, { expiresAtMs: 500 }));
    list.push(entry(2, undefined, { expiresAtMs: 100 }));
    expect(list.nextExpiryMs()).toBe(500);
    expect(list.shiftExpired(200)).toBeUndefined();
    expect(list.shiftExpired(501)?.seq).toBe(1);
    expect(list.shiftExpired(501)?.seq).toBe(2);
    expect(list.length).toBe(0);
  });
});

describe("PriorityReadyList", () => {
  it("serves higher priorities first, FIFO within one, and clamps to the maximum (RabbitMQ's order)", () => {
    // The same publishes against RabbitMQ 3.10 (x-max-priority 5) come out as 9 5 7 3 1 none 0.
    const list = new PriorityReadyList(5);
    const priorities = [undefined, 1, 9, 5, 3, 0, 7];
    for (const [i, priority] of priorities.entries()) list.push(entry(i + 1, priority));
    expect(drain(list).map((seq) => priorities[seq - 1] ?? "none")).toEqual([9, 5, 7, 3, 1, "none", 0]);
  });

  it("matches a stable sort by (clamped priority desc, seq) for any publishes and requeues", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10 }),
        fc.array(fc.option(fc.integer({ min: -2, max: 300 }), { nil: undefined }), { maxLength: 60 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (max, priorities, requeuePicks) => {
          const list = new PriorityReadyList(max);
          const entries = priorities.map((p, i) => entry(i + 1, p));
          for (const e of entries) list.push(e);
          const taken: QueueEntry[] = [];
          for (let i = 0; i < requeuePicks.length && list.length > 0; i++)
            taken.push(list.shift() as QueueEntry);
          for (const e of taken.reverse()) list.restore(e);
          const level = (e: QueueEntry) => list.priorityOf(e);
          const expected = [...entries]
            .sort((a, b) => level(b) - level(a) || a.seq - b.seq)
            .map((e) => e.seq);
          expect(list.bodyBytes).toBe(entries.length);
          expect(drain(list)).toEqual(expected);
        },
      ),
    );
  });

  it("expires at the head of every level and reports the earliest head expiry", () => {
    const list = new PriorityReadyList(3);
    list.push(entry(1, 3, { expiresAtMs: 1000 }));
    list.push(entry(2, 0, { expiresAtMs: 100 }));
    list.push(entry(3, 0, { expiresAtMs: 50 }));
    expect(list.nextExpiryMs()).toBe(100);
    expect(list.shiftExpired(150)?.seq).toBe(2);
    expect(list.shiftExpired(150)?.seq).toBe(3);
    expect(list.shiftExpired(150)).toBeUndefined();
    expect(list.length).toBe(1);
    expect(list.peek()?.seq).toBe(1);
  });

  it("drain visits everything, highest first", () => {
    const list = new PriorityReadyList(2);
    list.push(entry(1, 0));
    list.push(entry(2, 2));
    list.push(entry(3, 1));
    const seen: number[] = [];
    list.drain((id) => seen.push(id));
    expect(seen).toEqual([2, 3, 1]);
    expect(list.length).toBe(0);
    expect(list.shift()).toBeUndefined();
  });
});
