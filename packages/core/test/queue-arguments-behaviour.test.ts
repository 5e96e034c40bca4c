// Queue arguments at work inside one vhost (no sockets): dead-lettering, TTL with its timer, length
// limits, refused publishes, the quorum delivery limit, single active consumer, x-expires, and what
// the store is told. Time is vitest's fake clock.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CoreError } from "../src/errors.js";
import { MemoryStore } from "../src/memory-store.js";
import type { Message, MessageProperties } from "../src/message.js";
import type { Queue, QueueEntry } from "../src/queue.js";
import { VHost } from "../src/vhost.js";
import { jsonPropertiesCodec } from "./support/json-properties-codec.js";
import { RecordingConsumer } from "./support/recording-consumer.js";

const owner = {};

/** Records the order of appends and settles, as the WAL would see them. */
class RecordingStore extends MemoryStore {
  readonly log: string[] = [];
  override appendMessage(message: Message, queueIds: readonly string[]): void {
    super.appendMessage(message, queueIds);
    this.log.push(`append ${message.id} -> ${queueIds.join(",")}`);
  }
  override settle(queueId: string, messageId: number): void {
    super.settle(queueId, messageId);
    this.log.push(`settle ${messageId} @ ${queueId}`);
  }
}

function setup(store = new RecordingStore()) {
  let id = 1;
  const vhost = new VHost("/", store, () => id++, { propertiesCodec: jsonPropertiesCodec });
  const declare = (name: string, args: Record<string, unknown> = {}, durable = false) =>
    vhost.declareQueue(
      name,
      { passive: false, durable, exclusive: false, autoDelete: false, arguments: args },
      owner,
    ).queue;
  const publish = (queue: string, body: string, properties: MessageProperties = {}) =>
    vhost.publish("", queue, properties, jsonPropertiesCodec.encode(properties), Buffer.from(body));
  const bodies = (queue: Queue) => {
    const out: string[] = [];
    for (let entry = queue.get(true); entry; entry = queue.get(true)) out.push(String(entry.message.body));
    return out;
  };
  return { vhost, store, declare, publish, bodies };
}

function deaths(entry: QueueEntry | undefined): Array<Record<string, unknown>> {
  const headers = entry?.message.properties.headers as Record<string, unknown> | undefined;
  return (headers?.["x-death"] as Array<Record<string, unknown>>) ?? [];
}

beforeEach(() => {
  vi.useFakeTimers({ now: Date.UTC(2026, 5, 1) });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("dead-lettering", () => {
  it("re-publishes a rejected message through the DLX with x-death, without expiration, as a new message", () => {
    const { vhost, declare, publish } = setup();
    vhost.declareExchange("dlx", {
      type: "direct",
      passive: false,
      durable: false,
      autoDelete: false,
      internal: false,
      arguments: {},
    });
    const dlq = declare("dlq");
    vhost.bindQueue("dlq", "dlx", "dead", {}, owner);
    const source = declare("src", { "x-dead-letter-exchange": "dlx", "x-dead-letter-routing-key": "dead" });
    publish("src", "m1", { expiration: "60000", headers: { CC: ["elsewhere"], h: 1 } });
    const entry = source.get(false) as QueueEntry;
    source.reject(entry);
    expect(source.unackedCount).toBe(0);
    const dead = dlq.get(true) as QueueEntry;
    expect(dead.message.body?.toString()).toBe("m1");
    expect(dead.message.id).not.toBe(entry.message.id);
    expect(dead.message.exchange).toBe("dlx");
    expect(dead.message.routingKey).toBe("dead");
    const properties = dead.message.properties;
    expect(properties.expiration).toBeUndefined();
    expect(properties.headers).toMatchObject({
      h: 1,
      "x-first-death-reason": "rejected",
      "x-first-death-queue": "src",
      "x-first-death-exchange": "",
    });
    expect(properties.headers).not.toHaveProperty("CC"); // a dead-letter routing key replaces the CC keys
    expect(deaths(dead)).toEqual([
      {
        count: 1,
        reason: "rejected",
        queue: "src",
        time: Math.floor(Date.now() / 1000),
        exchange: "",
        "routing-keys": ["src", "elsewhere"],
        "original-expiration": "60000",
      },
    ]);
  });

  it("stores a dead-lettered persistent message for a durable queue before settling the old copy", () => {
    const { store, declare, publish } = setup();
    const dlq = declare("dlq", {}, true);
    const source = declare("src", { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": "dlq" }, true);
    publish("src", "p", { deliveryMode: 2 });
    source.reject(source.get(false) as QueueEntry);
    expect(store.log).toEqual([
      `append 1 -> ${source.id}`,
      `append 2 -> ${dlq.id}`,
      `settle 1 @ ${source.id}`,
    ]);
    expect(dlq.get(true)?.message.persistent).toBe(true);
  });

  it("drops a message whose dead-letter exchange does not exist, and still settles it", () => {
    const { store, declare, publish } = setup();
    const source = declare("src", { "x-dead-letter-exchange": "missing" }, true);
    publish("src", "p", { deliveryMode: 2 });
    source.reject(source.get(false) as QueueEntry);
    expect(store.log).toEqual([`append 1 -> ${source.id}`, `settle 1 @ ${source.id}`]);
  });

  it("cuts automatic cycles but lets rejections loop", () => {
    const { declare, publish } = setup();
    const looping = declare("loop", {
      "x-message-ttl": 10,
      "x-dead-letter-exchange": "",
      "x-dead-letter-routing-key": "loop",
    });
    publish("loop", "expires once");
    vi.advanceTimersByTime(11);
    expect(looping.messageCount).toBe(0); // it would come back to the queue it expired in: dropped

    const rejecting = declare("rej", { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": "rej" });
    publish("rej", "again and again");
    for (let i = 0; i < 3; i++) rejecting.reject(rejecting.get(false) as QueueEntry);
    const entry = rejecting.get(true);
    expect(deaths(entry).map((d) => [d.queue, d.reason, d.count])).toEqual([["rej", "rejected", 3]]);
  });

  it("cannot declare a dead-lettering queue without a properties codec", () => {
    const vhost = new VHost("/", new MemoryStore(), () => 1);
    const declare = () =>
      vhost.declareQueue(
        "q",
        {
          passive: false,
          durable: false,
          exclusive: false,
          autoDelete: false,
          arguments: { "x-dead-letter-exchange": "" },
        },
        owner,
      );
    expect(declare).toThrow(/PropertiesCodec/);
  });
});

describe("message TTL", () => {
  it("dead-letters expired messages from a timer, without any consumer", () => {
    const { declare, publish } = setup();
    const dlq = declare("dlq");
    const queue = declare("ttl", {
      "x-message-ttl": 100,
      "x-dead-letter-exchange": "",
      "x-dead-letter-routing-key": "dlq",
    });
    publish("ttl", "a");
    vi.advanceTimersByTime(50);
    publish("ttl", "b", { expiration: "10" }); // expires at 60, but waits behind "a" (head-only expiry)
    expect(vi.getTimerCount()).toBe(1); // one timer per queue
    vi.advanceTimersByTime(50);
    expect(queue.messageCount).toBe(2);
    vi.advanceTimersByTime(1);
    expect(queue.messageCount).toBe(0);
    const dead = [dlq.get(true), dlq.get(true)];
    expect(dead.map((e) => e?.message.body?.toString())).toEqual(["a", "b"]);
    expect(deaths(dead[1])[0]).toMatchObject({
      reason: "expired",
      queue: "ttl",
      "original-expiration": "10",
    });
    expect(vi.getTimerCount()).toBe(0);
  });

  it("never hands out an expired message: basic.get and consumers skip it", () => {
    const { declare, publish } = setup();
    const queue = declare("ttl", { "x-message-ttl": 100 });
    publish("ttl", "old");
    vi.setSystemTime(Date.now() + 500); // the clock moves but the timer has not run yet
    publish("ttl", "new");
    expect(queue.get(true)?.message.body?.toString()).toBe("new");
    publish("ttl", "old again");
    vi.setSystemTime(Date.now() + 500);
    const consumer = new RecordingConsumer("c");
    queue.addConsumer(consumer);
    expect(consumer.received).toHaveLength(0);
  });

  it("TTL 0 reaches a consumer that is ready now, and otherwise expires at once", () => {
    const { declare, publish } = setup();
    const queue = declare("zero", { "x-message-ttl": 0 });
    publish("zero", "nobody waiting");
    expect(queue.messageCount).toBe(0);
    const consumer = new RecordingConsumer("c");
    queue.addConsumer(consumer);
    publish("zero", "taken");
    expect(consumer.received.map((e) => e.message.body?.toString())).toEqual(["taken"]);
  });

  it("a requeued message keeps its original expiry", () => {
    const { declare, publish } = setup();
    const queue = declare("ttl", { "x-message-ttl": 100 });
    publish("ttl", "m");
    const entry = queue.get(false) as QueueEntry;
    vi.advanceTimersByTime(150);
    queue.requeue([entry]);
    expect(queue.messageCount).toBe(0);
  });
});

describe("length limits", () => {
  it("drop-head drops (and dead-letters) the oldest, by count and by body bytes", () => {
    const { declare, publish, bodies } = setup();
    const dlq = declare("dlq");
    const byCount = declare("count", {
      "x-max-length": 2,
      "x-dead-letter-exchange": "",
      "x-dead-letter-routing-key": "dlq",
    });
    for (const body of ["1", "2", "3", "4"]) publish("count", body);
    expect(bodies(byCount)).toEqual(["3", "4"]);
    expect(deaths(dlq.get(true))[0]).toMatchObject({ reason: "maxlen", queue: "count" });
    const byBytes = declare("bytes", { "x-max-length-bytes": 10 });
    for (const body of ["aaaa", "bbbb", "cccc", "dd"]) publish("bytes", body);
    expect(bodies(byBytes)).toEqual(["bbbb", "cccc", "dd"]);
  });

  it("counts only ready messages: unacked ones do not take room", () => {
    const { declare, publish, bodies } = setup();
    const queue = declare("q", { "x-max-length": 1 });
    publish("q", "1");
    queue.get(false);
    publish("q", "2");
    expect(bodies(queue)).toEqual(["2"]);
  });

  it("reject-publish refuses the publish and reports it; reject-publish-dlx also dead-letters it", () => {
    const { declare, publish, bodies } = setup();
    const dlq = declare("dlq");
    const queue = declare("q", { "x-max-length": 1, "x-overflow": "reject-publish" });
    expect(publish("q", "1")).toEqual({ queues: 1, stored: false, rejected: false });
    expect(publish("q", "2")).toEqual({ queues: 1, stored: false, rejected: true });
    expect(bodies(queue)).toEqual(["1"]);
    expect(dlq.messageCount).toBe(0);
    const withDlx = declare("qd", {
      "x-max-length": 0,
      "x-overflow": "reject-publish-dlx",
      "x-dead-letter-exchange": "",
      "x-dead-letter-routing-key": "dlq",
    });
    expect(publish("qd", "refused").rejected).toBe(true);
    expect(withDlx.messageCount).toBe(0);
    expect(deaths(dlq.get(true))[0]).toMatchObject({ reason: "maxlen", queue: "qd" });
  });

  it("a refused persistent message is not stored for the refusing queue, but is for the others", () => {
    const { vhost, store, declare } = setup();
    const full = declare("full", { "x-max-length": 0, "x-overflow": "reject-publish" }, true);
    const open = declare("open", {}, true);
    vhost.bindQueue("full", "amq.fanout", "", {}, owner);
    vhost.bindQueue("open", "amq.fanout", "", {}, owner);
    const result = vhost.publish(
      "amq.fanout",
      "",
      { deliveryMode: 2 },
      jsonPropertiesCodec.encode({ deliveryMode: 2 }),
      Buffer.from("x"),
    );
    expect(result).toEqual({ queues: 2, stored: true, rejected: true });
    expect(store.log).toEqual([`append 1 -> ${open.id}`]);
    expect(full.messageCount).toBe(0);
  });
});

describe("priority queues", () => {
  it("deliver higher priorities first, clamped to x-max-priority", () => {
    const { declare, publish, bodies } = setup();
    const queue = declare("p", { "x-max-priority": 5 });
    for (const priority of [undefined, 1, 9, 5, 3, 0, 7])
      publish("p", String(priority), priority === undefined ? {} : { priority });
    expect(bodies(queue)).toEqual(["9", "5", "7", "3", "1", "undefined", "0"]);
  });
});

describe("quorum queues", () => {
  it("dead-letter a message returned more often than x-delivery-limit, and count returns in x-delivery-count", () => {
    const { declare, publish } = setup();
    const dlq = declare("dlq", {}, true);
    const queue = declare(
      "qq",
      {
        "x-queue-type": "quorum",
        "x-delivery-limit": 2,
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": "dlq",
      },
      true,
    );
    publish("qq", "poison");
    const counts: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      const entry = queue.get(false) as QueueEntry;
      counts.push(
        jsonPropertiesCodec.decode(queue.deliveryProperties(entry, true)).headers?.["x-delivery-count"],
      );
      queue.requeue([entry]);
    }
    expect(counts).toEqual([0, 1, 2]);
    expect(queue.messageCount).toBe(0);
    expect(deaths(dlq.get(true))[0]).toMatchObject({ reason: "delivery_limit", queue: "qq", count: 1 });
  });

  it("refuse non-durable, exclusive and auto-delete declarations", () => {
    const { vhost } = setup();
    const declare = (flags: { durable: boolean; exclusive: boolean; autoDelete: boolean }) => () =>
      vhost.declareQueue("qq", { passive: false, ...flags, arguments: { "x-queue-type": "quorum" } }, owner);
    expect(declare({ durable: false, exclusive: false, autoDelete: false })).toThrow(
      /invalid property 'non-durable'/,
    );
    expect(declare({ durable: true, exclusive: true, autoDelete: false })).toThrow(
      /invalid property 'exclusive-owner'/,
    );
    expect(declare({ durable: true, exclusive: false, autoDelete: true })).toThrow(
      /invalid property 'auto-delete'/,
    );
  });
});

describe("single active consumer", () => {
  it("delivers only to the first consumer; the next takes over when it leaves", () => {
    const { declare, publish } = setup();
    const queue = declare("sac", { "x-single-active-consumer": true });
    const first = new RecordingConsumer("first");
    const second = new RecordingConsumer("second", false, 10);
    queue.addConsumer(first);
    queue.addConsumer(second);
    publish("sac", "1");
    publish("sac", "2");
    queue.removeConsumer(first);
    publish("sac", "3");
    expect(first.received.map((e) => e.message.body?.toString())).toEqual(["1", "2"]);
    expect(second.received.map((e) => e.message.body?.toString())).toEqual(["3"]);
    expect(queue.consumerCount).toBe(1);
  });

  it("waits for the active consumer's credit instead of passing messages to others", () => {
    const { declare, publish } = setup();
    const queue = declare("sac", { "x-single-active-consumer": true });
    const first = new RecordingConsumer("first");
    first.credit = 1;
    const second = new RecordingConsumer("second");
    queue.addConsumer(first);
    queue.addConsumer(second);
    publish("sac", "1");
    publish("sac", "2");
    expect(first.received).toHaveLength(1);
    expect(second.received).toHaveLength(0);
    expect(queue.messageCount).toBe(1);
  });
});

describe("x-expires", () => {
  it("deletes a queue unused for the period; declare, get and consumers renew the lease", () => {
    const { vhost, declare, publish } = setup();
    const queue = declare("lease", { "x-expires": 1000 });
    publish("lease", "messages do not keep it alive");
    vi.advanceTimersByTime(900);
    vhost.declareQueue(
      "lease",
      { passive: true, durable: false, exclusive: false, autoDelete: false, arguments: {} },
      owner,
    );
    vi.advanceTimersByTime(900);
    queue.get(false);
    vi.advanceTimersByTime(900);
    const consumer = new RecordingConsumer("c");
    queue.addConsumer(consumer);
    vi.advanceTimersByTime(5000);
    expect(vhost.queues.get("lease")).toBe(queue);
    queue.removeConsumer(consumer);
    vi.advanceTimersByTime(999);
    expect(vhost.queues.has("lease")).toBe(true);
    vi.advanceTimersByTime(1);
    expect(vhost.queues.has("lease")).toBe(false);
    expect(queue.deleted).toBe(true);
  });
});

describe("declaration and publish checks", () => {
  it("refuses invalid arguments and a malformed expiration with PRECONDITION_FAILED", () => {
    const { declare, publish } = setup();
    const codeOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return (error as CoreError).code;
      }
      return undefined;
    };
    expect(codeOf(() => declare("bad", { "x-max-length": -1 }))).toBe("CORE_PRECONDITION_FAILED");
    expect(codeOf(() => publish("nowhere", "x", { expiration: "soon" }))).toBe("CORE_PRECONDITION_FAILED");
    expect(() => publish("nowhere", "x", { expiration: "soon" })).toThrow(CoreError);
  });

  it("accepts a re-declare that differs only in unknown arguments", () => {
    const { declare } = setup();
    const queue = declare("q", { "x-max-length": 5, "x-foo": 1 });
    expect(declare("q", { "x-max-length": 5, "x-foo": 2 })).toBe(queue);
    expect(() => declare("q", { "x-max-length": 6 })).toThrow("received '6' but current is '5'");
  });
});
