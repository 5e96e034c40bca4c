import type { RunningBroker } from "@leveret/testkit";
import type { ChannelModel } from "amqplib";
import { describe, expect, it, vi } from "vitest";
import { channelClosed, collect, connect, delay, openChannel } from "./support/amqp.js";
import { useSharedBroker } from "./support/shared-broker.js";

let broker: RunningBroker;
let connection: ChannelModel;
useSharedBroker((shared) => {
  ({ broker, connection } = shared);
});

describe("connection negotiation", () => {
  it("announces the capabilities clients test for", () => {
    const properties = connection.connection.serverProperties as unknown as Record<string, unknown>;
    expect(properties.product).toBe("Leveret");
    expect(properties.capabilities).toMatchObject({
      publisher_confirms: true,
      exchange_exchange_bindings: true,
      "basic.nack": true,
      consumer_cancel_notify: true,
      "connection.blocked": true,
      authentication_failure_close: true,
      per_consumer_qos: true,
    });
  });

  it("refuses bad credentials with 403 ACCESS_REFUSED", async () => {
    const url = broker.url.replace("guest:guest", "guest:wrong");
    await expect(connect(url)).rejects.toThrow(/ACCESS_REFUSED|403/);
  });

  it("refuses an unknown vhost with 530 NOT_ALLOWED", async () => {
    await expect(connect(`${broker.url}/nope`)).rejects.toThrow(/ConnectionClose/);
    await vi.waitFor(() => expect(broker.output()).toMatch(/"replyCode":530,"reason":"vhost nope not found"/));
  });
});

describe("declare, publish, consume", () => {
  it("round-trips a message through the default exchange with its properties", async () => {
    const channel = await openChannel(connection);
    const { queue } = await channel.assertQueue("", { exclusive: true });
    expect(queue).toMatch(/^amq\.gen-/);
    channel.sendToQueue(queue, Buffer.from("hello"), {
      contentType: "text/plain",
      headers: { "x-test": "yes", count: 3 },
      correlationId: "c-1",
      persistent: true,
    });
    const [message] = await collect(channel, queue, 1);
    expect(message?.content.toString()).toBe("hello");
    expect(message?.properties.contentType).toBe("text/plain");
    expect(message?.properties.correlationId).toBe("c-1");
    expect(message?.properties.headers).toMatchObject({ "x-test": "yes", count: 3 });
    expect(message?.properties.deliveryMode).toBe(2);
    expect(message?.fields.redelivered).toBe(false);
    await channel.close();
  });

  it("delivers a body larger than frame_max intact", async () => {
    const channel = await openChannel(connection);
    const { queue } = await channel.assertQueue("", { exclusive: true });
    const body = Buffer.alloc(1_000_000);
    for (let i = 0; i < body.length; i++) body[i] = i % 251;
    channel.sendToQueue(queue, body);
    const [message] = await collect(channel, queue, 1);
    expect(message?.content.equals(body)).toBe(true);
    await channel.close();
  });

  it("basic.get answers get-ok with the remaining count, then get-empty", async () => {
    const channel = await openChannel(connection);
    const { queue } = await channel.assertQueue("", { exclusive: true });
    channel.sendToQueue(queue, Buffer.from("a"));
    channel.sendToQueue(queue, Buffer.from("b"));
    await delay(50);
    const first = await channel.get(queue, { noAck: true });
    expect((first || undefined)?.content.toString()).toBe("a");
    expect((first || undefined)?.fields.messageCount).toBe(1);
    const second = await channel.get(queue, { noAck: true });
    expect((second || undefined)?.content.toString()).toBe("b");
    expect(await channel.get(queue, { noAck: true })).toBe(false);
    await channel.close();
  });

  it("declare-ok reports message and consumer counts; purge and delete report counts", async () => {
    const channel = await openChannel(connection);
    const { queue } = await channel.assertQueue("counts-q", { durable: false, autoDelete: false });
    for (let i = 0; i < 3; i++) channel.sendToQueue(queue, Buffer.from(String(i)));
    await delay(50);
    expect(await channel.checkQueue(queue)).toMatchObject({ messageCount: 3, consumerCount: 0 });
    expect(await channel.purgeQueue(queue)).toMatchObject({ messageCount: 3 });
    channel.sendToQueue(queue, Buffer.from("x"));
    await delay(20);
    expect(await channel.deleteQueue(queue)).toMatchObject({ messageCount: 1 });
    await channel.close();
  });
});

describe("acknowledgements", () => {
  it("nack with requeue redelivers with redelivered=true, ack settles", async () => {
    const channel = await openChannel(connection);
    const { queue } = await channel.assertQueue("", { exclusive: true });
    channel.sendToQueue(queue, Buffer.from("m"));
    const deliveries: { redelivered: boolean; tag: number }[] = [];
    await new Promise<void>((resolve) => {
      channel.consume(queue, (message) => {
        if (!message) return;
        deliveries.push({ redelivered: message.fields.redelivered, tag: message.fields.deliveryTag });
        if (deliveries.length === 1) channel.nack(message, false, true);
        else {
          channel.ack(message);
          resolve();
        }
      });
    });
    expect(deliveries.map((d) => d.redelivered)).toEqual([false, true]);
    await delay(50);
    expect(await channel.checkQueue(queue)).toMatchObject({ messageCount: 0 });
    await channel.close();
  });

  it("reject without requeue drops the message", async () => {
    const channel = await openChannel(connection);
    const { queue } = await channel.assertQueue("", { exclusive: true });
    channel.sendToQueue(queue, Buffer.from("m"));
    await delay(20);
    const message = await channel.get(queue);
    if (!message) throw new Error("expected a message");
    channel.reject(message, false);
    await delay(20);
    expect(await channel.get(queue)).toBe(false);
    await channel.close();
  });

  it("unacked messages return to the queue when their channel closes", async () => {
    const channel = await openChannel(connection);
    const { queue } = await channel.assertQueue("", { exclusive: true });
    channel.sendToQueue(queue, Buffer.from("keep"));
    await delay(20);
    expect(await channel.get(queue)).not.toBe(false);
    await channel.close();
    const again = await openChannel(connection);
    const message = await again.get(queue, { noAck: true });
    expect((message || undefined)?.fields.redelivered).toBe(true);
    await again.close();
  });

  it("prefetch limits unacked deliveries per consumer", async () => {
    const channel = await openChannel(connection);
    const { queue } = await channel.assertQueue("", { exclusive: true });
    for (let i = 0; i < 10; i++) channel.sendToQueue(queue, Buffer.from(String(i)));
    await channel.prefetch(3);
    const received: number[] = [];
    await channel.consume(queue, (message) => message && received.push(message.fields.deliveryTag));
    await delay(100);
    expect(received).toHaveLength(3);
    channel.ack({ fields: { deliveryTag: 2 } } as never, true);
    await delay(100);
    expect(received).toHaveLength(5);
    await channel.close();
  });

  it("acking an unknown delivery tag closes the channel with 406", async () => {
    const channel = await openChannel(connection);
    const closed = channelClosed(channel);
    channel.ack({ fields: { deliveryTag: 999 } } as never);
    const error = await closed;
    expect(error.code).toBe(406);
    expect(error.message).toMatch(/unknown delivery tag 999/);
  });
});

describe("publisher confirms", () => {
  it("confirms persistent and transient publishes", async () => {
    const channel = await connection.createConfirmChannel();
    const { queue } = await channel.assertQueue("confirm-q", { durable: true });
    await channel.purgeQueue(queue);
    const confirmed = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        new Promise<number>((resolve, reject) =>
          channel.sendToQueue(queue, Buffer.from(`m${i}`), { persistent: i % 2 === 0 }, (error) =>
            error ? reject(error) : resolve(i),
          ),
        ),
      ),
    );
    expect(confirmed).toHaveLength(200);
    expect(await channel.checkQueue(queue)).toMatchObject({ messageCount: 200 });
    await channel.deleteQueue(queue);
    await channel.close();
  });

  it("returns an unroutable mandatory message with 312 NO_ROUTE before confirming it", async () => {
    const channel = await connection.createConfirmChannel();
    const events: string[] = [];
    channel.on("return", (message) => events.push(`return:${(message.fields as unknown as { replyCode: number }).replyCode}:${message.content}`));
    await new Promise<void>((resolve, reject) =>
      channel.publish("amq.direct", "nobody-home", Buffer.from("lost"), { mandatory: true }, (error) => {
        events.push("ack");
        error ? reject(error) : resolve();
      }),
    );
    expect(events).toEqual(["return:312:lost", "ack"]);
    await channel.close();
  });
});

describe("routing", () => {
  it("routes by topic patterns with * and #", async () => {
    const channel = await openChannel(connection);
    await channel.assertExchange("topic-x", "topic", { durable: false });
    const a = (await channel.assertQueue("", { exclusive: true })).queue;
    const b = (await channel.assertQueue("", { exclusive: true })).queue;
    await channel.bindQueue(a, "topic-x", "*.orange.*");
    await channel.bindQueue(b, "topic-x", "*.*.rabbit");
    await channel.bindQueue(b, "topic-x", "lazy.#");
    const keys = ["quick.orange.rabbit", "lazy.orange.elephant", "quick.orange.fox", "lazy.brown.fox", "lazy", "quick.brown.fox"];
    for (const key of keys) channel.publish("topic-x", key, Buffer.from(key));
    await delay(100);
    const drain = async (queue: string) => {
      const got: string[] = [];
      for (;;) {
        const message = await channel.get(queue, { noAck: true });
        if (!message) return got;
        got.push(message.content.toString());
      }
    };
    expect(await drain(a)).toEqual(["quick.orange.rabbit", "lazy.orange.elephant", "quick.orange.fox"]);
    expect(await drain(b)).toEqual(["quick.orange.rabbit", "lazy.orange.elephant", "lazy.brown.fox", "lazy"]);
    await channel.deleteExchange("topic-x");
    await channel.close();
  });

  it("fanout copies to every bound queue", async () => {
    const channel = await openChannel(connection);
    await channel.assertExchange("fan-x", "fanout", { durable: false });
    const queues = await Promise.all([1, 2, 3].map(async () => (await channel.assertQueue("", { exclusive: true })).queue));
    for (const queue of queues) await channel.bindQueue(queue, "fan-x", "");
    channel.publish("fan-x", "any", Buffer.from("all"));
    await delay(50);
    for (const queue of queues) expect(await channel.checkQueue(queue)).toMatchObject({ messageCount: 1 });
    await channel.deleteExchange("fan-x");
    await channel.close();
  });
});

describe("errors", () => {
  it("redeclaring a queue with other properties closes the channel with 406", async () => {
    const setup = await openChannel(connection);
    await setup.assertQueue("eq-q", { durable: true });
    const channel = await openChannel(connection);
    const closed = channelClosed(channel);
    await expect(channel.assertQueue("eq-q", { durable: false })).rejects.toThrow(/PRECONDITION_FAILED/);
    const error = await closed;
    expect(error.code).toBe(406);
    expect(error.message).toMatch(/inequivalent arg 'durable' for queue 'eq-q'/);
    await setup.deleteQueue("eq-q");
    await setup.close();
  });

  it("redeclaring an exchange with another type closes the channel with 406", async () => {
    const channel = await openChannel(connection);
    await channel.assertExchange("eq-x", "direct", { durable: false });
    await expect(channel.assertExchange("eq-x", "fanout", { durable: false })).rejects.toThrow(/406/);
    const cleanup = await openChannel(connection);
    await cleanup.deleteExchange("eq-x");
    await cleanup.close();
  });

  it("passive declare of a missing queue closes the channel with 404", async () => {
    const channel = await openChannel(connection);
    const closed = channelClosed(channel);
    await expect(channel.checkQueue("no-such-queue")).rejects.toThrow(/NOT_FOUND/);
    expect((await closed).code).toBe(404);
  });

  it("publishing to a missing exchange closes the channel with 404", async () => {
    const channel = await openChannel(connection);
    const closed = channelClosed(channel);
    channel.publish("no-such-exchange", "", Buffer.from("x"));
    const error = await closed;
    expect(error.code).toBe(404);
    expect(error.message).toMatch(/no exchange 'no-such-exchange' in vhost '\/'/);
  });

  it("declaring an amq.* exchange is refused with 403", async () => {
    const channel = await openChannel(connection);
    await expect(channel.assertExchange("amq.custom", "direct")).rejects.toThrow(/ACCESS_REFUSED/);
  });

  it("an exclusive queue is locked (405) for other connections", async () => {
    const channel = await openChannel(connection);
    const { queue } = await channel.assertQueue("", { exclusive: true });
    const other = await connect(broker.url);
    const otherChannel = await openChannel(other);
    await expect(otherChannel.checkQueue(queue)).rejects.toThrow(/RESOURCE_LOCKED/);
    await other.close();
    await channel.close();
  });

  it("a channel error leaves the connection and its other channels working", async () => {
    const healthy = await openChannel(connection);
    const broken = await openChannel(connection);
    await expect(broken.checkExchange("missing-x")).rejects.toThrow(/404/);
    const { queue } = await healthy.assertQueue("", { exclusive: true });
    expect(queue).toMatch(/^amq\.gen-/);
    await healthy.close();
  });
});
