import { describe, expect, it } from "vitest";
import { CoreError } from "../src/errors.js";
import { MemoryStore } from "../src/memory-store.js";
import type { QueueEntry } from "../src/queue.js";
import { VHost } from "../src/vhost.js";
import { RecordingConsumer } from "./support/recording-consumer.js";

const owner = {};
const other = {};
const queueDeclaration = { passive: false, durable: false, exclusive: false, autoDelete: false, arguments: {} };
const exchangeDeclaration = { type: "direct", passive: false, durable: false, autoDelete: false, internal: false, arguments: {} };

function makeVhost(store = new MemoryStore()) {
  let id = 1;
  return new VHost("/", store, () => id++);
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof CoreError) return error.code;
    throw error;
  }
  return undefined;
}

function publish(vhost: VHost, exchange: string, key: string, body: string, deliveryMode = 1) {
  return vhost.publish(exchange, key, { deliveryMode }, Buffer.alloc(0), Buffer.from(body));
}

describe("VHost declarations", () => {
  it("has the default and amq.* exchanges", () => {
    const vhost = makeVhost();
    for (const name of ["", "amq.direct", "amq.fanout", "amq.topic", "amq.headers", "amq.match"]) {
      expect(vhost.exchanges.has(name)).toBe(true);
    }
  });

  it("refuses reserved names and the default exchange with ACCESS_REFUSED", () => {
    const vhost = makeVhost();
    expect(codeOf(() => vhost.declareExchange("amq.mine", exchangeDeclaration))).toBe("CORE_ACCESS_REFUSED");
    expect(codeOf(() => vhost.declareQueue("amq.q", queueDeclaration, owner))).toBe("CORE_ACCESS_REFUSED");
    expect(codeOf(() => vhost.deleteExchange("amq.direct", false))).toBe("CORE_ACCESS_REFUSED");
    expect(codeOf(() => vhost.bindQueue("q", "", "k", {}, owner))).toBe("CORE_NOT_FOUND");
    vhost.declareQueue("q", queueDeclaration, owner);
    expect(codeOf(() => vhost.bindQueue("q", "", "k", {}, owner))).toBe("CORE_ACCESS_REFUSED");
  });

  it("redeclaring amq.direct with the same properties is allowed", () => {
    const vhost = makeVhost();
    expect(() => vhost.declareExchange("amq.direct", { ...exchangeDeclaration, durable: true })).not.toThrow();
  });

  it("answers an unknown exchange type with COMMAND_INVALID", () => {
    expect(codeOf(() => makeVhost().declareExchange("x", { ...exchangeDeclaration, type: "bogus" }))).toBe("CORE_COMMAND_INVALID");
  });

  it("detects inequivalent redeclarations, naming the property", () => {
    const vhost = makeVhost();
    vhost.declareQueue("q", queueDeclaration, owner);
    expect(() => vhost.declareQueue("q", { ...queueDeclaration, durable: true }, owner)).toThrow(
      "inequivalent arg 'durable' for queue 'q' in vhost '/': received 'true' but current is 'false'",
    );
    expect(() =>
      vhost.declareQueue("q", { ...queueDeclaration, arguments: { "x-max-length": 5 } }, owner),
    ).toThrow(/inequivalent arg 'x-max-length'/);
    vhost.declareExchange("x", exchangeDeclaration);
    expect(() => vhost.declareExchange("x", { ...exchangeDeclaration, type: "fanout" })).toThrow(/inequivalent arg 'type'/);
  });

  it("generates server names for queues declared with an empty name", () => {
    const vhost = makeVhost();
    const a = vhost.declareQueue("", queueDeclaration, owner).queue.name;
    const b = vhost.declareQueue("", queueDeclaration, owner).queue.name;
    expect(a).toMatch(/^amq\.gen-/);
    expect(a).not.toBe(b);
  });

  it("locks exclusive queues to their owner and deletes them with it", () => {
    const vhost = makeVhost();
    vhost.declareQueue("ex", { ...queueDeclaration, exclusive: true }, owner);
    expect(codeOf(() => vhost.queue("ex", other))).toBe("CORE_RESOURCE_LOCKED");
    expect(codeOf(() => vhost.declareQueue("ex", queueDeclaration, other))).toBe("CORE_RESOURCE_LOCKED");
    vhost.releaseOwner(owner);
    expect(codeOf(() => vhost.queue("ex", owner))).toBe("CORE_NOT_FOUND");
  });

  it("delete is idempotent and honours if-unused / if-empty", () => {
    const vhost = makeVhost();
    expect(vhost.deleteQueue("missing", false, false, owner)).toBe(0);
    vhost.declareQueue("q", queueDeclaration, owner);
    publish(vhost, "", "q", "m");
    expect(codeOf(() => vhost.deleteQueue("q", false, true, owner))).toBe("CORE_PRECONDITION_FAILED");
    vhost.queue("q", owner).addConsumer(new RecordingConsumer("c", false, 0, false));
    expect(codeOf(() => vhost.deleteQueue("q", true, false, owner))).toBe("CORE_PRECONDITION_FAILED");
    expect(vhost.deleteQueue("q", false, false, owner)).toBe(0);
  });
});

describe("VHost routing and publishing", () => {
  it("routes through the default exchange by queue name", () => {
    const vhost = makeVhost();
    vhost.declareQueue("q", queueDeclaration, owner);
    expect(publish(vhost, "", "q", "hello").queues).toBe(1);
    expect(publish(vhost, "", "other", "lost").queues).toBe(0);
    expect(vhost.queue("q", owner).messageCount).toBe(1);
  });

  it("follows exchange-to-exchange bindings, visiting each exchange once even in a cycle", () => {
    const vhost = makeVhost();
    vhost.declareExchange("a", { ...exchangeDeclaration, type: "fanout" });
    vhost.declareExchange("b", { ...exchangeDeclaration, type: "fanout" });
    vhost.bindExchange("b", "a", "", {});
    vhost.bindExchange("a", "b", "", {});
    vhost.declareQueue("q", queueDeclaration, owner);
    vhost.bindQueue("q", "b", "", {}, owner);
    expect(publish(vhost, "a", "k", "m").queues).toBe(1);
    expect(vhost.queue("q", owner).messageCount).toBe(1);
  });

  it("sends unroutable messages to the alternate exchange", () => {
    const vhost = makeVhost();
    vhost.declareExchange("ae", { ...exchangeDeclaration, type: "fanout" });
    vhost.declareExchange("main", { ...exchangeDeclaration, arguments: { "alternate-exchange": "ae" } });
    vhost.declareQueue("unrouted", queueDeclaration, owner);
    vhost.bindQueue("unrouted", "ae", "", {}, owner);
    expect(publish(vhost, "main", "nowhere", "m").queues).toBe(1);
  });

  it("refuses publishing to an internal exchange", () => {
    const vhost = makeVhost();
    vhost.declareExchange("inner", { ...exchangeDeclaration, internal: true });
    expect(codeOf(() => publish(vhost, "inner", "k", "m"))).toBe("CORE_ACCESS_REFUSED");
  });

  it("stores a persistent message only when it reaches a durable queue", () => {
    const store = new MemoryStore();
    const vhost = makeVhost(store);
    vhost.declareQueue("durable", { ...queueDeclaration, durable: true }, owner);
    vhost.declareQueue("transient", queueDeclaration, owner);
    expect(publish(vhost, "", "transient", "m", 2).stored).toBe(false);
    expect(publish(vhost, "", "durable", "m", 1).stored).toBe(false);
    expect(publish(vhost, "", "durable", "m", 2).stored).toBe(true);
    expect(store.appendedMessages).toBe(1);
  });

  it("deletes an auto-delete exchange when its last binding goes", () => {
    const vhost = makeVhost();
    vhost.declareExchange("auto", { ...exchangeDeclaration, autoDelete: true });
    vhost.declareQueue("q", queueDeclaration, owner);
    vhost.bindQueue("q", "auto", "k", {}, owner);
    vhost.unbindQueue("q", "auto", "k", {}, owner);
    expect(vhost.exchanges.has("auto")).toBe(false);
  });
});

describe("Queue dispatch", () => {
  it("round-robins between consumers within their credit", () => {
    const vhost = makeVhost();
    vhost.declareQueue("q", queueDeclaration, owner);
    const queue = vhost.queue("q", owner);
    const a = new RecordingConsumer("a");
    const b = new RecordingConsumer("b");
    b.credit = 1;
    queue.addConsumer(a);
    queue.addConsumer(b);
    for (let i = 0; i < 5; i++) publish(vhost, "", "q", String(i));
    expect(a.received.map((e) => e.message.body?.toString())).toEqual(["0", "2", "3", "4"]);
    expect(b.received.map((e) => e.message.body?.toString())).toEqual(["1"]);
  });

  it("serves higher-priority consumers first while they have credit", () => {
    const vhost = makeVhost();
    vhost.declareQueue("q", queueDeclaration, owner);
    const queue = vhost.queue("q", owner);
    const low = new RecordingConsumer("low", false, 0);
    const high = new RecordingConsumer("high", false, 10);
    high.credit = 2;
    queue.addConsumer(low);
    queue.addConsumer(high);
    for (let i = 0; i < 4; i++) publish(vhost, "", "q", String(i));
    expect(high.received).toHaveLength(2);
    expect(low.received).toHaveLength(2);
  });

  it("puts requeued messages back in their original order, marked redelivered", () => {
    const vhost = makeVhost();
    vhost.declareQueue("q", queueDeclaration, owner);
    const queue = vhost.queue("q", owner);
    for (let i = 0; i < 4; i++) publish(vhost, "", "q", String(i));
    const first = queue.get(false) as QueueEntry;
    const second = queue.get(false) as QueueEntry;
    queue.requeue([second, first]);
    const order: string[] = [];
    for (let entry = queue.get(true); entry; entry = queue.get(true)) {
      order.push(`${entry.message.body}:${entry.deliveryCount}`);
    }
    expect(order).toEqual(["0:2", "1:2", "2:1", "3:1"]);
  });

  it("refuses a second consumer next to an exclusive one", () => {
    const vhost = makeVhost();
    vhost.declareQueue("q", queueDeclaration, owner);
    const queue = vhost.queue("q", owner);
    queue.addConsumer(new RecordingConsumer("x", false, 0, true));
    expect(codeOf(() => queue.addConsumer(new RecordingConsumer("y")))).toBe("CORE_ACCESS_REFUSED");
  });

  it("an auto-delete queue goes when its last consumer leaves; consumers of deleted queues are told", () => {
    const vhost = makeVhost();
    vhost.declareQueue("auto", { ...queueDeclaration, autoDelete: true }, owner);
    const consumer = new RecordingConsumer("c");
    vhost.queue("auto", owner).addConsumer(consumer);
    vhost.queue("auto", owner).removeConsumer(consumer);
    expect(vhost.queues.has("auto")).toBe(false);
    vhost.declareQueue("plain", queueDeclaration, owner);
    const watcher = new RecordingConsumer("w");
    vhost.queue("plain", owner).addConsumer(watcher);
    vhost.deleteQueue("plain", false, false, owner);
    expect(watcher.cancelled).toBe(true);
  });

  it("settling twice is a bug and fails loudly", () => {
    const vhost = makeVhost();
    vhost.declareQueue("q", queueDeclaration, owner);
    publish(vhost, "", "q", "m");
    const queue = vhost.queue("q", owner);
    const entry = queue.get(false) as QueueEntry;
    queue.settle(entry);
    expect(codeOf(() => queue.settle(entry))).toBe("CORE_INTERNAL_ERROR");
  });
});
