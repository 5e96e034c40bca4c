// Bodies on disk: a WalStore with a tiny body cache drops the bodies of durable messages, queues read
// them back before handing them out (in order, also for priority queues and basic.get), dead-lettering
// reads them back first, and a reopened store keeps no bodies at all until asked.
import { MemoryFileIo } from "@leveret/wal";
import { describe, expect, it, vi } from "vitest";
import { BodyCache } from "../src/body-cache.js";
import { Broker } from "../src/broker.js";
import type { Consumer } from "../src/consumer.js";
import type { Message } from "../src/message.js";
import type { Queue, QueueEntry } from "../src/queue.js";
import { WalStore } from "../src/wal-store.js";
import { jsonPropertiesCodec } from "./support/json-properties-codec.js";

const BODY_BYTES = 1000;

function bodyOf(i: number): Buffer {
  const body = Buffer.alloc(BODY_BYTES, i % 251);
  body.write(`m-${i}-`, 0);
  return body;
}

async function openBroker(io: MemoryFileIo, bodyCacheBytes: number) {
  const store = new WalStore({
    dataDir: "/data",
    fileIo: io,
    segmentSizeBytes: 64 * 1024,
    bodyCacheBytes,
    logger: { error() {}, warn() {} },
  });
  const fatal: Error[] = [];
  store.onFatal((error) => fatal.push(error));
  const broker = await Broker.open({ store, propertiesCodec: jsonPropertiesCodec });
  return { store, broker, fatal };
}

function publish(broker: Broker, queue: string, i: number, properties: Message["properties"] = {}) {
  const all = { deliveryMode: 2, ...properties };
  broker.vhost("/").publish("", queue, all, jsonPropertiesCodec.encode(all), bodyOf(i));
}

function declare(broker: Broker, name: string, args: Record<string, unknown> = {}): Queue {
  const owner = {};
  return broker.vhost("/").declareQueue(name, { passive: false, durable: true, exclusive: false, autoDelete: false, arguments: args }, owner)
    .queue;
}

class CollectingConsumer implements Consumer {
  readonly tag = "c";
  readonly noAck = false;
  readonly exclusive = false;
  readonly priority = 0;
  readonly received: QueueEntry[] = [];
  private waiter: { count: number; resolve: () => void } | undefined;
  constructor(
    private readonly credit: number,
    private readonly settle?: (queue: Queue, entry: QueueEntry) => void,
  ) {}
  hasCredit(): boolean {
    return this.received.length < this.credit;
  }
  deliver(queue: Queue, entry: QueueEntry): void {
    // The queue promises a body in memory at the moment of delivery.
    expect(entry.message.body).toBeDefined();
    this.received.push(entry);
    this.settle?.(queue, entry);
    if (this.waiter && this.received.length >= this.waiter.count) this.waiter.resolve();
  }
  cancelledByServer(): void {}
  until(count: number): Promise<void> {
    if (this.received.length >= count) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiter = { count, resolve };
    });
  }
}

describe("BodyCache", () => {
  it("keeps the oldest bodies within the budget and drops the newest", () => {
    const cache = new BodyCache(2500);
    const messages = [1, 2, 3, 4].map((id) => ({ id, body: Buffer.alloc(1000), bodySize: 1000 }) as Message);
    for (const message of messages) cache.admit(message);
    expect(messages.map((m) => m.body !== undefined)).toEqual([true, true, false, false]);
    expect(cache.stats()).toEqual({ cachedBytes: 2000, cachedMessages: 2, evictions: 2 });
    cache.forget(1);
    expect(cache.stats().cachedBytes).toBe(1000);
  });
});

describe("bodies on disk", () => {
  it("evicts durable bodies past the budget and delivers every message in order, read back from the log", async () => {
    const io = new MemoryFileIo();
    const { store, broker, fatal } = await openBroker(io, 8 * 1024);
    const queue = declare(broker, "backlog");
    for (let i = 0; i < 500; i++) publish(broker, "backlog", i);
    await store.commit();
    // Bodies enter the cache off the confirm path, shortly after their commit.
    await vi.waitFor(() => expect(store.bodyCacheStats().evictions).toBeGreaterThan(480));
    expect(store.bodyCacheStats().cachedBytes).toBeLessThanOrEqual(8 * 1024);
    const consumer = new CollectingConsumer(500, (q, entry) => q.settle(entry));
    queue.addConsumer(consumer);
    await consumer.until(500);
    expect(consumer.received.map((e, i) => e.message.body?.equals(bodyOf(i)))).toEqual(Array(500).fill(true));
    expect(fatal).toEqual([]);
    await broker.close();
  });

  it("recovers no bodies, then serves basic.get, requeues and priorities from disk", async () => {
    const io = new MemoryFileIo();
    const first = await openBroker(io, 1024 * 1024);
    declare(first.broker, "prio", { "x-max-priority": 3 });
    for (let i = 0; i < 40; i++) publish(first.broker, "prio", i, { priority: i % 4 });
    await first.store.commit();
    await first.broker.close();

    const { store, broker, fatal } = await openBroker(io, 0);
    const queue = broker.vhost("/").queue("prio", {});
    expect(queue.messageCount).toBe(40);
    // basic.get waits for the head's body, which is the highest priority's oldest message.
    expect(() => queue.get(false)).toThrow(/before the head's body was loaded/);
    expect(queue.messageCount).toBe(40);
    await queue.nextBodyLoaded();
    const got = queue.get(false) as QueueEntry;
    expect(got.message.body?.equals(bodyOf(3))).toBe(true);
    // Never handed out before the restart: this is its first delivery, not a redelivery.
    expect(got.deliveryCount).toBe(1);
    queue.requeue([got]);
    const expected = [3, 2, 1, 0].flatMap((p) => Array.from({ length: 10 }, (_, k) => k * 4 + p));
    const consumer = new CollectingConsumer(40);
    queue.addConsumer(consumer);
    await consumer.until(40);
    expect(consumer.received.map((e, i) => e.message.body?.equals(bodyOf(expected[i] as number)))).toEqual(Array(40).fill(true));
    expect(store.bodyCacheStats().cachedBytes).toBe(0);
    expect(fatal).toEqual([]);
    await broker.close();
  });

  it("after a restart flags redelivered only the messages handed out before it", async () => {
    const io = new MemoryFileIo();
    const first = await openBroker(io, 0);
    const queue = declare(first.broker, "q");
    for (let i = 0; i < 10; i++) publish(first.broker, "q", i);
    await first.store.commit();
    const early = new CollectingConsumer(4);
    queue.addConsumer(early);
    await early.until(4);
    // Messages 0 and 1 are acked; 2 and 3 were delivered but not acked when the broker went down.
    queue.settle(early.received[0] as QueueEntry);
    queue.settle(early.received[1] as QueueEntry);
    await first.broker.close();

    const { broker, fatal } = await openBroker(io, 0);
    const again = new CollectingConsumer(8);
    broker.vhost("/").queue("q", {}).addConsumer(again);
    await again.until(8);
    const seen = again.received.map((e) => [e.message.body?.subarray(0, 4).toString(), e.deliveryCount > 1]);
    expect(seen).toEqual([2, 3, 4, 5, 6, 7, 8, 9].map((i) => [`m-${i}-`, i < 4]));
    expect(fatal).toEqual([]);
    await broker.close();
  });

  it("reads a body back before dead-lettering a message dropped from the head while its body is on disk", async () => {
    const io = new MemoryFileIo();
    const first = await openBroker(io, 0);
    declare(first.broker, "dlq");
    declare(first.broker, "src", { "x-max-length": 20, "x-dead-letter-exchange": "", "x-dead-letter-routing-key": "dlq" });
    for (let i = 0; i < 20; i++) publish(first.broker, "src", i);
    await first.store.commit();
    await first.broker.close();

    const { store, broker, fatal } = await openBroker(io, 0);
    const src = broker.vhost("/").queue("src", {});
    const dlq = broker.vhost("/").queue("dlq", {});
    expect(src.messageCount).toBe(20);
    // Each publish over x-max-length drops the oldest, whose body was never read back after recovery.
    for (let i = 20; i < 25; i++) publish(broker, "src", i);
    expect(src.messageCount).toBe(20);
    const dead = new CollectingConsumer(5);
    dlq.addConsumer(dead);
    await dead.until(5);
    expect(dead.received.map((e, i) => e.message.body?.equals(bodyOf(i)))).toEqual(Array(5).fill(true));
    // Acked dead letters and settled heads leave nothing behind but the 20 still queued.
    for (const entry of dead.received) dlq.settle(entry);
    await store.commit();
    await new Promise((resolve) => setImmediate(resolve));
    expect(store.messageStats().liveMessages).toBe(20);
    expect(fatal).toEqual([]);
    await broker.close();
  });
});
