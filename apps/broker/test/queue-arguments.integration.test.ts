/**
 * Queue arguments over TCP with amqplib: validation (reply codes and RabbitMQ 3.10's texts, which
 * were observed against a real RabbitMQ with the same declarations), re-declare equivalence, quorum
 * rules, priorities, length limits and overflow, single active consumer, x-expires.
 */
import type { ChannelModel, ConsumeMessage } from "amqplib";
import { describe, expect, it } from "vitest";
import { channelClosed, delay, openChannel } from "./support/amqp.js";
import { declareProblem, drain, eventually } from "./support/queue-helpers.js";
import { useSharedBroker } from "./support/shared-broker.js";

let connection: ChannelModel;
useSharedBroker((shared) => {
  ({ connection } = shared);
});

const invalid = (queue: string, key: string, reason: string) =>
  `invalid arg '${key}' for queue '${queue}' in vhost '/': ${reason}`;

describe("argument validation", () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ["x-max-length", { "x-max-length": -1 }, "{value_negative,-1}"],
    ["x-max-length", { "x-max-length": "abc" }, '"expected integer, got longstr"'],
    ["x-max-length-bytes", { "x-max-length-bytes": 1.5 }, '"expected integer, got double"'],
    ["x-message-ttl", { "x-message-ttl": -1 }, "{value_negative,-1}"],
    ["x-message-ttl", { "x-message-ttl": 2 ** 40 }, "{value_too_large,1099511627776}"],
    ["x-expires", { "x-expires": 0 }, "{value_zero,0}"],
    ["x-overflow", { "x-overflow": "drop-tail" }, "invalid_overflow"],
    ["x-max-priority", { "x-max-priority": 256 }, "{max_value_exceeded,256}"],
    ["x-dead-letter-routing-key", { "x-dead-letter-routing-key": "k" }, "routing_key_but_no_dlx_defined"],
    ["x-single-active-consumer", { "x-single-active-consumer": "true" }, "{unacceptable_type,longstr}"],
    ["x-queue-type", { "x-queue-type": "fancy" }, `"unsupported queue type 'fancy'"`],
    ["x-queue-mode", { "x-queue-mode": "fast" }, `"unsupported queue mode 'fast'"`],
  ];
  it.each(cases)("refuses a bad %s with 406 and RabbitMQ's text (%j)", async (key, args, reason) => {
    expect(await declareProblem(connection, "args-bad", { arguments: args })).toEqual({
      code: 406,
      message: invalid("args-bad", key, reason),
    });
  });

  it("refuses a non-string dead-letter exchange in RabbitMQ's other wording", async () => {
    expect(
      await declareProblem(connection, "args-dlx", { arguments: { "x-dead-letter-exchange": 5 } }),
    ).toEqual({
      code: 406,
      message: "invalid type 'byte' for arg 'x-dead-letter-exchange' in queue 'args-dlx' in vhost '/'",
    });
  });

  it("accepts unknown x- arguments, x-queue-mode and a dead-letter exchange that does not exist yet", async () => {
    const channel = await openChannel(connection);
    const ok = await channel.assertQueue("args-ok", {
      arguments: {
        "x-foo": "bar",
        "x-queue-mode": "lazy",
        "x-dead-letter-exchange": "later",
        "x-max-priority": 0,
      },
    });
    expect(ok).toEqual({ queue: "args-ok", messageCount: 0, consumerCount: 0 });
    await channel.close();
  });

  it("compares only known arguments on re-declare, by value", async () => {
    const channel = await openChannel(connection);
    await channel.assertQueue("args-eq", { arguments: { "x-max-length": 5, "x-foo": 1 } });
    await channel.assertQueue("args-eq", { arguments: { "x-max-length": 5, "x-foo": 2 } });
    await channel.assertQueue("args-eq", { arguments: { "x-max-length": { "!": "long", value: 5 } } });
    await channel.close();
    const prefix = "inequivalent arg 'x-max-length' for queue 'args-eq' in vhost '/'";
    expect(await declareProblem(connection, "args-eq", { arguments: {} })).toEqual({
      code: 406,
      message: `${prefix}: received none but current is the value '5' of type 'byte'`,
    });
    expect(await declareProblem(connection, "args-eq", { arguments: { "x-max-length": 6 } })).toEqual({
      code: 406,
      message: `${prefix}: received '6' but current is '5'`,
    });
    expect(
      await declareProblem(connection, "args-eq", { arguments: { "x-max-length": 5, "x-message-ttl": 100 } }),
    ).toEqual({
      code: 406,
      message:
        "inequivalent arg 'x-message-ttl' for queue 'args-eq' in vhost '/': received the value '100' of type 'byte' but current is none",
    });
  });

  it("refuses a malformed expiration property with 406, even for an unroutable message", async () => {
    const channel = await openChannel(connection);
    const closed = channelClosed(channel);
    channel.publish("", "no-such-queue", Buffer.from("x"), { expiration: "1.5" });
    const error = await closed;
    expect(error.code).toBe(406);
    expect(error.message).toContain(`PRECONDITION_FAILED - invalid expiration '1.5': {leftover_string,".5"}`);
  });
});

describe("quorum queues", () => {
  it("are accepted durable, and refused non-durable, exclusive, auto-delete or server-named", async () => {
    const quorum = { "x-queue-type": "quorum" };
    const property = (name: string) => ({
      code: 406,
      message: `invalid property '${name}' for queue 'qq-flags' in vhost '/'`,
    });
    expect(await declareProblem(connection, "qq-flags", { durable: false, arguments: quorum })).toEqual(
      property("non-durable"),
    );
    expect(
      await declareProblem(connection, "qq-flags", { durable: true, exclusive: true, arguments: quorum }),
    ).toEqual(property("exclusive-owner"));
    expect(
      await declareProblem(connection, "qq-flags", { durable: true, autoDelete: true, arguments: quorum }),
    ).toEqual(property("auto-delete"));
    expect(await declareProblem(connection, "", { durable: true, arguments: quorum })).toEqual({
      code: 406,
      message: "Cannot declare a server-named queue for type rabbit_quorum_queue",
    });
    expect(
      await declareProblem(connection, "qq-flags", {
        durable: true,
        arguments: { ...quorum, "x-max-priority": 5 },
      }),
    ).toEqual({
      code: 406,
      message:
        "invalid arg 'x-max-priority' for queue 'qq-flags' in vhost '/' of queue type rabbit_quorum_queue",
    });
    expect(
      await declareProblem(connection, "qq-flags", {
        durable: true,
        arguments: { ...quorum, "x-delivery-limit": 3 },
      }),
    ).toBeUndefined();
    expect(await declareProblem(connection, "qq-flags", { durable: true, arguments: {} })).toEqual({
      code: 406,
      message:
        "inequivalent arg 'x-queue-type' for queue 'qq-flags' in vhost '/': received none but current is the value 'quorum' of type 'longstr'",
    });
  });

  it("refuses x-delivery-limit on a classic queue", async () => {
    expect(await declareProblem(connection, "classic-dl", { arguments: { "x-delivery-limit": 5 } })).toEqual({
      code: 406,
      message:
        "invalid arg 'x-delivery-limit' for queue 'classic-dl' in vhost '/' of queue type rabbit_classic_queue",
    });
  });
});

describe("priority queues", () => {
  it("hand out higher priorities first, clamped to x-max-priority, FIFO within a priority", async () => {
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue("prio-q", { arguments: { "x-max-priority": 5 } });
    const priorities = [undefined, 1, 9, 5, 3, 0, 7];
    for (const priority of priorities) {
      channel.sendToQueue(
        "prio-q",
        Buffer.from(String(priority)),
        priority === undefined ? {} : { priority },
      );
    }
    await channel.waitForConfirms();
    // RabbitMQ 3.10 answers 9 5 7 3 1 undefined 0 for the same publishes.
    expect((await drain(channel, "prio-q")).map((m) => m.content.toString())).toEqual([
      "9",
      "5",
      "7",
      "3",
      "1",
      "undefined",
      "0",
    ]);
    await channel.close();
  });

  it("deliver to consumers in priority order too, including requeued messages", async () => {
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue("prio-consume", { arguments: { "x-max-priority": 10 } });
    for (const priority of [1, 2, 3])
      channel.sendToQueue("prio-consume", Buffer.from(`p${priority}`), { priority });
    await channel.waitForConfirms();
    const first = await channel.get("prio-consume");
    expect(first ? first.content.toString() : undefined).toBe("p3");
    if (first) channel.nack(first, false, true);
    const received: string[] = [];
    await new Promise<void>((resolve) => {
      void channel.consume(
        "prio-consume",
        (message) => {
          if (!message) return;
          received.push(message.content.toString());
          if (received.length === 3) resolve();
        },
        { noAck: true },
      );
    });
    expect(received).toEqual(["p3", "p2", "p1"]);
    await channel.close();
  });
});

describe("length limits", () => {
  it("x-max-length drops the oldest (drop-head) and x-max-length-bytes counts body bytes", async () => {
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue("maxlen-q", { arguments: { "x-max-length": 2 } });
    await channel.assertQueue("maxbytes-q", { arguments: { "x-max-length-bytes": 10 } });
    for (const body of ["1", "2", "3", "4"]) channel.sendToQueue("maxlen-q", Buffer.from(body));
    for (const body of ["aaaa", "bbbb", "cccc", "dd"]) channel.sendToQueue("maxbytes-q", Buffer.from(body));
    await channel.waitForConfirms();
    expect((await channel.checkQueue("maxlen-q")).messageCount).toBe(2);
    expect((await drain(channel, "maxlen-q")).map((m) => m.content.toString())).toEqual(["3", "4"]);
    expect((await drain(channel, "maxbytes-q")).map((m) => m.content.toString())).toEqual([
      "bbbb",
      "cccc",
      "dd",
    ]);
    await channel.close();
  });

  it("x-overflow reject-publish nacks the refused publish under confirms and keeps the queue as it was", async () => {
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue("reject-pub-q", {
      arguments: { "x-max-length": 1, "x-overflow": "reject-publish" },
    });
    const outcomes = await Promise.all(
      ["a", "b", "c"].map(
        (body) =>
          new Promise<string>((resolve) =>
            channel.sendToQueue("reject-pub-q", Buffer.from(body), { persistent: true }, (error) =>
              resolve(`${body}:${error ? "nack" : "ack"}`),
            ),
          ),
      ),
    );
    expect(outcomes).toEqual(["a:ack", "b:nack", "c:nack"]);
    // Without confirms the refused message is simply dropped (RabbitMQ does the same).
    const plain = await openChannel(connection);
    plain.sendToQueue("reject-pub-q", Buffer.from("d"));
    expect((await plain.checkQueue("reject-pub-q")).messageCount).toBe(1);
    expect((await drain(plain, "reject-pub-q")).map((m) => m.content.toString())).toEqual(["a"]);
    await plain.close();
    await channel.close();
  });
});

describe("single active consumer", () => {
  it("delivers to the first consumer only, and to the next once it cancels", async () => {
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue("sac-q", { arguments: { "x-single-active-consumer": true } });
    const got: string[] = [];
    const onMessage = (name: string) => (message: ConsumeMessage | null) => {
      if (message) got.push(`${name}:${message.content.toString()}`);
    };
    const first = await channel.consume("sac-q", onMessage("first"), { noAck: true });
    await channel.consume("sac-q", onMessage("second"), { noAck: true, priority: 10 });
    expect((await channel.checkQueue("sac-q")).consumerCount).toBe(2);
    for (const body of ["0", "1", "2"]) channel.sendToQueue("sac-q", Buffer.from(body));
    await channel.waitForConfirms();
    await eventually(async () => got.length === 3, "three deliveries");
    await channel.cancel(first.consumerTag);
    for (const body of ["3", "4"]) channel.sendToQueue("sac-q", Buffer.from(body));
    await channel.waitForConfirms();
    await eventually(async () => got.length === 5, "two more deliveries");
    expect(got).toEqual(["first:0", "first:1", "first:2", "second:3", "second:4"]);
    await channel.close();
  });
});

describe("x-expires", () => {
  it("deletes a queue nobody uses (messages do not keep it), but not while a consumer is attached", async () => {
    const channel = await openChannel(connection);
    await channel.assertQueue("expires-q", { arguments: { "x-expires": 200 } });
    await channel.assertQueue("expires-held", { arguments: { "x-expires": 200 } });
    channel.sendToQueue("expires-q", Buffer.from("does not keep it alive"));
    const { consumerTag } = await channel.consume("expires-held", () => {}, { noAck: true });
    // Probing must not use the queue (a passive declare renews the lease, in RabbitMQ too): a mandatory
    // publish comes back once the queue is gone.
    let gone = false;
    channel.once("return", () => {
      gone = true;
    });
    await eventually(async () => {
      if (!gone) channel.publish("", "expires-q", Buffer.from("probe"), { mandatory: true });
      await delay(20);
      return gone;
    }, "expires-q to be deleted");
    const probe = await openChannel(connection);
    await expect(probe.checkQueue("expires-q")).rejects.toMatchObject({ code: 404 });
    // The held queue outlived the expired one's whole period; it still exists while consumed.
    expect((await channel.checkQueue("expires-held")).consumerCount).toBe(1);
    await channel.cancel(consumerTag);
    await channel.close();
  });
});
