/** Transactions, sender-selected distribution (CC/BCC) and direct reply-to. */
import type { RunningBroker } from "@leveret/testkit";
import type { ChannelModel } from "amqplib";
import { describe, expect, it } from "vitest";
import { collect, connect, delay, openChannel } from "./support/amqp.js";
import { RawClient } from "./support/raw-client.js";
import { useSharedBroker } from "./support/shared-broker.js";

let broker: RunningBroker;
let connection: ChannelModel;
useSharedBroker((shared) => {
  ({ broker, connection } = shared);
});

const declare = (queue: string) =>
  ({ queue, passive: false, durable: true, exclusive: false, autoDelete: false, nowait: false, arguments: {} }) as const;
const publish = (routingKey: string) => ({ exchange: "", routingKey, mandatory: false, immediate: false }) as const;

async function count(queue: string): Promise<number> {
  const channel = await openChannel(connection);
  const { messageCount } = await channel.checkQueue(queue);
  await channel.close();
  return messageCount;
}

describe("transactions", () => {
  it("holds publishes until tx.commit and drops them on tx.rollback", async () => {
    const client = await RawClient.open(broker.port);
    client.send(1, "queue.declare", declare("tx-q"));
    await client.expect("queue.declare-ok");
    client.send(1, "tx.select", {});
    await client.expect("tx.select-ok");
    client.send(1, "basic.publish", publish("tx-q"));
    client.sendContent(1, Buffer.from("rolled back"), { deliveryMode: 2 });
    await delay(50);
    expect(await count("tx-q")).toBe(0);
    client.send(1, "tx.rollback", {});
    await client.expect("tx.rollback-ok");
    client.send(1, "basic.publish", publish("tx-q"));
    client.sendContent(1, Buffer.from("committed"), { deliveryMode: 2 });
    client.send(1, "tx.commit", {});
    await client.expect("tx.commit-ok");
    expect(await count("tx-q")).toBe(1);
    client.destroy();
  });

  it("holds acks until commit; a rollback leaves the message unacked", async () => {
    const client = await RawClient.open(broker.port);
    client.send(1, "queue.declare", declare("tx-ack-q"));
    await client.expect("queue.declare-ok");
    client.send(1, "basic.publish", publish("tx-ack-q"));
    client.sendContent(1, Buffer.from("m"));
    client.send(1, "tx.select", {});
    await client.expect("tx.select-ok");
    client.send(1, "basic.get", { queue: "tx-ack-q", noAck: false });
    const ok = await client.expect("basic.get-ok");
    client.send(1, "basic.ack", { deliveryTag: ok.args.deliveryTag, multiple: false });
    client.send(1, "tx.rollback", {});
    await client.expect("tx.rollback-ok");
    client.send(1, "basic.ack", { deliveryTag: ok.args.deliveryTag, multiple: false });
    client.send(1, "tx.commit", {});
    await client.expect("tx.commit-ok");
    expect(await count("tx-ack-q")).toBe(0);
    client.destroy();
  });

  it("refuses mixing tx and confirm modes with 406, and commit outside tx", async () => {
    const client = await RawClient.open(broker.port);
    client.send(1, "confirm.select", { nowait: false });
    await client.expect("confirm.select-ok");
    client.send(1, "tx.select", {});
    const close = await client.expect("channel.close");
    expect(close.args.replyCode).toBe(406);
    expect(close.args.replyText).toMatch(/cannot switch from confirm to tx mode/);
    client.send(1, "channel.close-ok", {});
    client.send(2, "channel.open", {});
    await client.expect("channel.open-ok");
    client.send(2, "tx.select", {});
    await client.expect("tx.select-ok");
    client.send(2, "confirm.select", { nowait: false });
    expect((await client.expect("channel.close")).args.replyText).toMatch(/cannot switch from tx to confirm mode/);
    client.send(2, "channel.close-ok", {});
    client.send(3, "channel.open", {});
    await client.expect("channel.open-ok");
    client.send(3, "tx.commit", {});
    expect((await client.expect("channel.close")).args.replyCode).toBe(406);
    client.destroy();
  });
});

describe("sender-selected distribution", () => {
  it("routes to CC and BCC keys too, and strips BCC from what consumers see", async () => {
    const channel = await openChannel(connection);
    const names = ["cc-main", "cc-copy", "cc-blind"];
    for (const name of names) await channel.assertQueue(name, { exclusive: true });
    channel.sendToQueue("cc-main", Buffer.from("memo"), { CC: ["cc-copy"], BCC: ["cc-blind"] } as never);
    const [main] = await collect(channel, "cc-main", 1);
    const [copy] = await collect(channel, "cc-copy", 1);
    const [blind] = await collect(channel, "cc-blind", 1);
    for (const message of [main, copy, blind]) {
      expect(message?.content.toString()).toBe("memo");
      expect(message?.properties.headers?.CC).toEqual(["cc-copy"]);
      expect(message?.properties.headers?.BCC).toBeUndefined();
    }
    await channel.close();
  });
});

describe("direct reply-to", () => {
  it("delivers an RPC reply straight to the requester's amq.rabbitmq.reply-to consumer", async () => {
    const server = await openChannel(connection);
    await server.assertQueue("rpc-q", { exclusive: true });
    await server.consume(
      "rpc-q",
      (request) => {
        if (!request) return;
        expect(request.properties.replyTo).toMatch(/^amq\.rabbitmq\.reply-to\..+/);
        server.sendToQueue(request.properties.replyTo, Buffer.from(`pong:${request.content}`), {
          correlationId: request.properties.correlationId,
        });
      },
      { noAck: true },
    );
    const requester = await connect(broker.url);
    const client = await openChannel(requester);
    const reply = new Promise<{ body: string; correlationId: string }>((resolve) =>
      client.consume(
        "amq.rabbitmq.reply-to",
        (message) => message && resolve({ body: message.content.toString(), correlationId: message.properties.correlationId }),
        { noAck: true },
      ),
    );
    await delay(20);
    client.sendToQueue("rpc-q", Buffer.from("ping"), { replyTo: "amq.rabbitmq.reply-to", correlationId: "r-1" });
    expect(await reply).toEqual({ body: "pong:ping", correlationId: "r-1" });
    await requester.close();
    await server.close();
  });

  it("refuses a reply_to of amq.rabbitmq.reply-to without the reply consumer (406), and an acking reply consumer", async () => {
    const requester = await connect(broker.url);
    const channel = await requester.createChannel();
    const closed = new Promise<Error & { code?: number }>((resolve) => channel.once("error", resolve));
    channel.sendToQueue("anything", Buffer.from("x"), { replyTo: "amq.rabbitmq.reply-to" });
    expect((await closed).code).toBe(406);
    const second = await openChannel(requester);
    await expect(second.consume("amq.rabbitmq.reply-to", () => {}, { noAck: false })).rejects.toThrow(/406/);
    await requester.close();
  });
});
