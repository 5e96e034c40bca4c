/**
 * Dead-lettering and message TTL over TCP with amqplib: x-death and x-first-death-* exactly as
 * RabbitMQ 3.10 writes them (each expectation below was first observed on a real RabbitMQ with the
 * same steps), the four reasons, routing keys with and without x-dead-letter-routing-key, cycles, and
 * expiry by the queue's timer with nobody consuming.
 */
import { decodeContentHeader, type FieldTable, FrameParser, FrameType, TypedNumber } from "@leveret/amqp";
import { type RunningBroker, startBroker } from "@leveret/testkit";
import type { ChannelModel, ConfirmChannel, GetMessage } from "amqplib";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { connect, delay } from "./support/amqp.js";
import { eventually, xDeath } from "./support/queue-helpers.js";
import { RawClient } from "./support/raw-client.js";

let broker: RunningBroker;
let connection: ChannelModel;
let channel: ConfirmChannel;

beforeAll(async () => {
  broker = await startBroker();
  connection = await connect(broker.url);
});

beforeEach(async () => {
  channel = await connection.createConfirmChannel();
  channel.on("error", () => {});
});

afterAll(async () => {
  await connection?.close().catch(() => {});
  await broker?.stop();
});

/** An AMQP timestamp as amqplib decodes it. */
const timestamp = { "!": "timestamp", value: expect.any(Number) };

async function getOne(queue: string): Promise<GetMessage> {
  return eventually(async () => channel.get(queue, { noAck: true }), `a message on ${queue}`);
}

describe("x-death", () => {
  it("records a rejection: reason, queue, time, exchange, routing keys with CC, original expiration", async () => {
    await channel.assertExchange("dl-x", "topic", { durable: false });
    await channel.assertQueue("dl-all", { durable: false });
    await channel.bindQueue("dl-all", "dl-x", "#");
    await channel.assertQueue("dl-src", { durable: false, arguments: { "x-dead-letter-exchange": "dl-x" } });
    channel.publish("", "dl-src", Buffer.from("m1"), {
      headers: { h: 1, CC: ["cc1", "cc2"] },
      expiration: "60000",
      priority: 3,
    });
    await channel.waitForConfirms();
    const message = await channel.get("dl-src");
    if (!message) throw new Error("no message");
    channel.reject(message, false);
    const dead = await getOne("dl-all");
    expect(dead.fields).toMatchObject({ exchange: "dl-x", routingKey: "dl-src", redelivered: false });
    expect(dead.properties.expiration).toBeUndefined();
    expect(dead.properties.priority).toBe(3);
    expect(dead.properties.headers).toEqual({
      CC: ["cc1", "cc2"],
      h: 1,
      "x-death": [
        {
          count: 1,
          reason: "rejected",
          queue: "dl-src",
          time: timestamp,
          exchange: "",
          "routing-keys": ["dl-src", "cc1", "cc2"],
          "original-expiration": "60000",
        },
      ],
      "x-first-death-exchange": "",
      "x-first-death-queue": "dl-src",
      "x-first-death-reason": "rejected",
    });
  });

  it("routes a dead letter without x-dead-letter-routing-key by all its original keys, CC and BCC", async () => {
    await channel.assertExchange("dl-cc-x", "direct", { durable: false });
    await channel.assertQueue("dl-cc-only", { durable: false });
    await channel.bindQueue("dl-cc-only", "dl-cc-x", "cc2");
    await channel.assertQueue("dl-bcc-only", { durable: false });
    await channel.bindQueue("dl-bcc-only", "dl-cc-x", "bcc1");
    await channel.assertQueue("dl-cc-src", {
      durable: false,
      arguments: { "x-dead-letter-exchange": "dl-cc-x" },
    });
    await channel.bindQueue("dl-cc-src", "amq.direct", "main");
    channel.publish("amq.direct", "main", Buffer.from("m"), { headers: { CC: ["cc2"], BCC: ["bcc1"] } });
    await channel.waitForConfirms();
    const message = await channel.get("dl-cc-src");
    if (!message) throw new Error("no message");
    channel.reject(message, false);
    const viaCc = await getOne("dl-cc-only");
    const viaBcc = await getOne("dl-bcc-only");
    for (const dead of [viaCc, viaBcc]) {
      expect(dead.fields).toMatchObject({ exchange: "dl-cc-x", routingKey: "main" });
      expect(dead.properties.headers).toMatchObject({ CC: ["cc2"], "x-first-death-exchange": "amq.direct" });
      expect(dead.properties.headers?.BCC).toBeUndefined();
      expect(xDeath(dead)[0]).toMatchObject({ exchange: "amq.direct", "routing-keys": ["main", "cc2"] });
    }
  });

  it("increments count for the same queue and reason (basic.nack) and keeps x-first-death-*", async () => {
    await channel.assertQueue("dl-again-dlq", { durable: false });
    await channel.assertQueue("dl-again", {
      durable: false,
      arguments: { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": "dl-again-dlq" },
    });
    channel.sendToQueue("dl-again", Buffer.from("twice"));
    await channel.waitForConfirms();
    let message = await channel.get("dl-again");
    if (message) channel.nack(message, false, false);
    const once = await getOne("dl-again-dlq");
    channel.sendToQueue("dl-again", once.content, { headers: once.properties.headers });
    await channel.waitForConfirms();
    message = await channel.get("dl-again");
    if (message) channel.reject(message, false);
    const twice = await getOne("dl-again-dlq");
    expect(twice.fields.routingKey).toBe("dl-again-dlq");
    expect(xDeath(twice)).toEqual([
      {
        count: 2,
        exchange: "",
        queue: "dl-again",
        reason: "rejected",
        "routing-keys": ["dl-again"],
        time: timestamp,
      },
    ]);
    expect(twice.properties.headers?.["x-first-death-reason"]).toBe("rejected");
  });

  it("writes count as a long and time as a timestamp, the wire types RabbitMQ uses", async () => {
    await channel.assertQueue("dl-types-dlq", { durable: false });
    await channel.assertQueue("dl-types", {
      durable: false,
      arguments: {
        "x-max-length": 0,
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": "dl-types-dlq",
      },
    });
    channel.sendToQueue("dl-types", Buffer.from("x"), { headers: { small: { "!": "byte", value: 7 } } });
    await channel.waitForConfirms();
    const client = await RawClient.open(broker.port);
    client.send(1, "basic.get", { queue: "dl-types-dlq", noAck: true });
    await client.expect("basic.get-ok");
    const headers = await eventually(async () => contentHeaderIn(client.raw), "the content header");
    const death = (headers["x-death"] as FieldTable[])[0] as FieldTable;
    expect(death.count).toEqual(new TypedNumber("l", 1));
    expect(death.time).toBeInstanceOf(TypedNumber);
    expect((death.time as TypedNumber).type).toBe("T");
    expect(death.reason).toBe("maxlen");
    // The publisher's own header keeps its wire type through the rewrite.
    expect(headers.small).toEqual(new TypedNumber("b", 7));
    client.destroy();
  });

  it("uses x-dead-letter-routing-key instead of the original keys and drops the CC header", async () => {
    await channel.assertExchange("dl-direct", "direct", { durable: false });
    await channel.assertQueue("dl-by-key", { durable: false });
    await channel.bindQueue("dl-by-key", "dl-direct", "dead");
    await channel.assertQueue("dl-key-src", {
      durable: false,
      arguments: {
        "x-dead-letter-exchange": "dl-direct",
        "x-dead-letter-routing-key": "dead",
        "x-max-length": 1,
      },
    });
    channel.sendToQueue("dl-key-src", Buffer.from("first"), { headers: { CC: ["somewhere"] } });
    channel.sendToQueue("dl-key-src", Buffer.from("second"));
    await channel.waitForConfirms();
    const dead = await getOne("dl-by-key");
    expect(dead.content.toString()).toBe("first");
    expect(dead.fields.routingKey).toBe("dead");
    expect(dead.properties.headers?.CC).toBeUndefined();
    expect(xDeath(dead)).toEqual([
      {
        count: 1,
        reason: "maxlen",
        queue: "dl-key-src",
        time: timestamp,
        exchange: "",
        "routing-keys": ["dl-key-src", "somewhere"],
      },
    ]);
  });
});

describe("message TTL", () => {
  it("dead-letters expired messages with nobody consuming (queue TTL and per-message expiration)", async () => {
    await channel.assertQueue("ttl-dlq", { durable: false });
    await channel.assertQueue("ttl-src", {
      durable: false,
      arguments: {
        "x-message-ttl": 100,
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": "ttl-dlq",
      },
    });
    channel.sendToQueue("ttl-src", Buffer.from("by queue ttl"));
    channel.sendToQueue("ttl-src", Buffer.from("by expiration"), { expiration: "20" });
    await channel.waitForConfirms();
    const first = await getOne("ttl-dlq");
    const second = await getOne("ttl-dlq");
    // Head-first expiry: the second message waits behind the first although its own TTL is shorter.
    expect([first.content.toString(), second.content.toString()]).toEqual(["by queue ttl", "by expiration"]);
    expect(xDeath(first)).toEqual([
      {
        count: 1,
        reason: "expired",
        queue: "ttl-src",
        time: timestamp,
        exchange: "",
        "routing-keys": ["ttl-src"],
      },
    ]);
    expect(xDeath(second)[0]).toMatchObject({ reason: "expired", "original-expiration": "20" });
    expect(second.properties.expiration).toBeUndefined();
    expect((await channel.checkQueue("ttl-src")).messageCount).toBe(0);
  });

  it("never hands out an expired message, and TTL 0 only reaches a consumer ready at once", async () => {
    await channel.assertQueue("ttl-get", { durable: false });
    channel.sendToQueue("ttl-get", Buffer.from("short"), { expiration: "1" });
    await channel.waitForConfirms();
    await delay(20);
    expect(await channel.get("ttl-get")).toBe(false);
    await channel.assertQueue("ttl-zero", { durable: false, arguments: { "x-message-ttl": 0 } });
    channel.sendToQueue("ttl-zero", Buffer.from("nobody"));
    await channel.waitForConfirms();
    expect(await channel.get("ttl-zero")).toBe(false);
    const received: string[] = [];
    await channel.consume("ttl-zero", (message) => message && received.push(message.content.toString()), {
      noAck: true,
    });
    channel.sendToQueue("ttl-zero", Buffer.from("taken"));
    await channel.waitForConfirms();
    await eventually(async () => received.length === 1, "the TTL 0 delivery");
    expect(received).toEqual(["taken"]);
  });
});

describe("reasons and cycles", () => {
  it("reject-publish-dlx nacks the publish and dead-letters it as maxlen", async () => {
    await channel.assertQueue("rpd-dlq", { durable: false });
    await channel.assertQueue("rpd-src", {
      durable: false,
      arguments: {
        "x-max-length": 1,
        "x-overflow": "reject-publish-dlx",
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": "rpd-dlq",
      },
    });
    const outcomes = await Promise.all(
      ["r1", "r2"].map(
        (body) =>
          new Promise<string>((resolve) =>
            channel.sendToQueue("rpd-src", Buffer.from(body), {}, (error) => resolve(error ? "nack" : "ack")),
          ),
      ),
    );
    expect(outcomes).toEqual(["ack", "nack"]);
    const dead = await getOne("rpd-dlq");
    expect(dead.content.toString()).toBe("r2");
    expect(xDeath(dead)[0]).toMatchObject({ reason: "maxlen", queue: "rpd-src", count: 1 });
  });

  it("quorum queues dead-letter after x-delivery-limit returns, counting them in x-delivery-count", async () => {
    await channel.assertQueue("dlim-dlq", { durable: true });
    await channel.assertQueue("dlim-src", {
      durable: true,
      arguments: {
        "x-queue-type": "quorum",
        "x-delivery-limit": 2,
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": "dlim-dlq",
      },
    });
    channel.sendToQueue("dlim-src", Buffer.from("poison"), { headers: { a: 1 } });
    await channel.waitForConfirms();
    const counts: unknown[] = [];
    for (;;) {
      const message = await channel.get("dlim-src");
      if (!message) break;
      counts.push(message.properties.headers?.["x-delivery-count"]);
      channel.nack(message, false, true);
    }
    expect(counts).toEqual([0, 1, 2]); // RabbitMQ 3.10: three deliveries with delivery-limit 2
    const dead = await getOne("dlim-dlq");
    expect(dead.properties.headers).toEqual({
      a: 1,
      "x-death": [
        {
          count: 1,
          reason: "delivery_limit",
          queue: "dlim-src",
          time: timestamp,
          exchange: "",
          "routing-keys": ["dlim-src"],
        },
      ],
      "x-first-death-exchange": "",
      "x-first-death-queue": "dlim-src",
      "x-first-death-reason": "delivery_limit",
    });
  });

  it("drops a message that would expire back into a queue it already died in, but lets rejections loop", async () => {
    await channel.assertQueue("cycle-a", {
      durable: false,
      arguments: {
        "x-message-ttl": 30,
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": "cycle-b",
      },
    });
    await channel.assertQueue("cycle-b", {
      durable: false,
      arguments: {
        "x-message-ttl": 30,
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": "cycle-a",
      },
    });
    await channel.assertQueue("cycle-watch", { durable: false });
    channel.sendToQueue("cycle-a", Buffer.from("loop"));
    await channel.waitForConfirms();
    // a -> b on expiry, then b -> a would close an automatic cycle: RabbitMQ drops it, so both empty.
    await eventually(async () => {
      const a = await channel.checkQueue("cycle-a");
      const b = await channel.checkQueue("cycle-b");
      return a.messageCount + b.messageCount === 0;
    }, "the cycling message to be dropped");

    await channel.assertQueue("self-reject", {
      durable: false,
      arguments: { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": "self-reject" },
    });
    channel.sendToQueue("self-reject", Buffer.from("self"));
    await channel.waitForConfirms();
    for (let i = 0; i < 3; i++) {
      const message = await eventually(async () => channel.get("self-reject"), "the looping message");
      channel.reject(message, false);
    }
    const looped = await getOne("self-reject");
    expect(xDeath(looped).map((d) => [d.queue, d.reason, d.count])).toEqual([["self-reject", "rejected", 3]]);
  });
});

/** The header table of the first content header frame in `raw` (server -> client bytes after the handshake). */
function contentHeaderIn(raw: Buffer): FieldTable | undefined {
  const parser = new FrameParser({ frameMaxBytes: 1 << 20, expectProtocolHeader: false });
  let headers: FieldTable | undefined;
  try {
    parser.feed(raw, (frame) => {
      if (frame.type === FrameType.Header && headers === undefined) {
        headers = decodeContentHeader(Buffer.from(frame.payload)).properties.headers ?? {};
      }
    });
  } catch {
    // a partial frame at the end: the header may not have arrived yet
  }
  return headers;
}
