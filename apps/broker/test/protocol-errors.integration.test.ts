/**
 * What the broker answers to clients that break the protocol: the right reply code, only that
 * connection closed, everyone else unharmed.
 */
import { encodeFrame, encodeMethodFrame, FrameType, PROTOCOL_HEADER } from "@leveret/amqp";
import { type RunningBroker, startBroker } from "@leveret/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "./support/amqp.js";
import { RawClient } from "./support/raw-client.js";

let broker: RunningBroker;

beforeAll(async () => {
  broker = await startBroker();
});

afterAll(async () => {
  await broker?.stop();
});

async function expectConnectionClose(client: RawClient, replyCode: number) {
  const close = await client.expect("connection.close");
  expect(close.args.replyCode).toBe(replyCode);
  client.send(0, "connection.close-ok", {});
  await client.closedBy();
  return close.args;
}

describe("protocol errors", () => {
  it("answers a foreign protocol header with its own and closes", async () => {
    const client = await RawClient.connect(broker.port);
    client.write(Buffer.from("AMQP\u0000\u0000\u0009\u0000"));
    await client.closedBy();
    expect(client.raw.equals(PROTOCOL_HEADER)).toBe(true);
  });

  it("basic.publish with immediate=true: 540 NOT_IMPLEMENTED, connection closed", async () => {
    const client = await RawClient.open(broker.port);
    client.send(1, "basic.publish", { exchange: "", routingKey: "q", mandatory: false, immediate: true });
    const args = await expectConnectionClose(client, 540);
    expect(args.replyText).toMatch(/NOT_IMPLEMENTED - immediate=true/);
    expect([args.classId, args.methodId]).toEqual([60, 40]);
  });

  it("a body frame with no publish before it: 505 UNEXPECTED_FRAME", async () => {
    const client = await RawClient.open(broker.port);
    client.write(encodeFrame(FrameType.Body, 1, Buffer.from("stray")));
    await expectConnectionClose(client, 505);
  });

  it("a method where a content header was due: 505 UNEXPECTED_FRAME", async () => {
    const client = await RawClient.open(broker.port);
    client.send(1, "basic.publish", { exchange: "", routingKey: "q", mandatory: false, immediate: false });
    client.send(1, "basic.qos", { prefetchSize: 0, prefetchCount: 1, global: false });
    await expectConnectionClose(client, 505);
  });

  it("a frame with a bad frame-end octet: 501 FRAME_ERROR", async () => {
    const client = await RawClient.open(broker.port);
    const frame = encodeMethodFrame(1, "basic.qos", { prefetchSize: 0, prefetchCount: 1, global: false });
    frame[frame.length - 1] = 0x00;
    client.write(frame);
    const close = await client.expect("connection.close");
    expect(close.args.replyCode).toBe(501);
    await client.closedBy();
  });

  it("a frame larger than frame_max: 501 FRAME_ERROR", async () => {
    const client = await RawClient.open(broker.port);
    const header = Buffer.alloc(7);
    header.writeUInt8(FrameType.Method, 0);
    header.writeUInt16BE(1, 1);
    header.writeUInt32BE(10_000_000, 3);
    client.write(header);
    const close = await client.expect("connection.close");
    expect(close.args.replyCode).toBe(501);
    await client.closedBy();
  });

  it("a method on a channel that was never opened: 504 CHANNEL_ERROR", async () => {
    const client = await RawClient.open(broker.port);
    client.send(7, "basic.qos", { prefetchSize: 0, prefetchCount: 1, global: false });
    await expectConnectionClose(client, 504);
  });

  it("an unknown class/method id: 503 COMMAND_INVALID", async () => {
    const client = await RawClient.open(broker.port);
    const payload = Buffer.from([0x00, 0xff, 0x00, 0x01]);
    client.write(encodeFrame(FrameType.Method, 1, payload));
    await expectConnectionClose(client, 503);
  });

  it("a truncated method: 502 SYNTAX_ERROR", async () => {
    const client = await RawClient.open(broker.port);
    // queue.declare (50, 10) cut off inside its arguments
    client.write(encodeFrame(FrameType.Method, 1, Buffer.from([0x00, 0x32, 0x00, 0x0a, 0x00])));
    await expectConnectionClose(client, 502);
  });

  it("a message larger than the configured maximum: 406 on the channel only", async () => {
    const small = await startBroker({ args: ["--max-message-size-bytes", "1024"] });
    const client = await RawClient.open(small.port);
    client.send(1, "basic.publish", { exchange: "", routingKey: "q", mandatory: false, immediate: false });
    client.sendContent(1, Buffer.alloc(2048));
    const close = await client.expect("channel.close");
    expect(close.args.replyCode).toBe(406);
    expect(close.args.replyText).toMatch(/larger than configured max size 1024/);
    // frames after channel.close are ignored until close-ok; the connection itself stays open
    client.send(1, "basic.qos", { prefetchSize: 0, prefetchCount: 1, global: false });
    client.send(1, "channel.close-ok", {});
    client.send(2, "channel.open", {});
    await client.expect("channel.open-ok");
    client.destroy();
    await small.stop();
  });

  it("a broken connection harms no other connection", async () => {
    const healthy = await connect(broker.url);
    const channel = await healthy.createChannel();
    const { queue } = await channel.assertQueue("", { exclusive: true });
    const vandal = await RawClient.open(broker.port);
    vandal.write(Buffer.from("\u0001garbage-garbage-garbage"));
    await vandal.closedBy();
    channel.sendToQueue(queue, Buffer.from("still fine"));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const message = await channel.get(queue, { noAck: true });
    expect((message || undefined)?.content.toString()).toBe("still fine");
    await healthy.close();
  });

  it("basic.qos with prefetch-size: 540 NOT_IMPLEMENTED like RabbitMQ", async () => {
    const client = await RawClient.open(broker.port);
    client.send(1, "basic.qos", { prefetchSize: 4096, prefetchCount: 0, global: false });
    await expectConnectionClose(client, 540);
  });

  it("a method not implemented answers 540, never a silent success", async () => {
    const client = await RawClient.open(broker.port);
    client.send(1, "basic.recover", { requeue: false });
    await expectConnectionClose(client, 540);
  });

  it("server-sent basic.cancel when a consumed queue is deleted", async () => {
    const client = await RawClient.open(broker.port);
    client.send(1, "queue.declare", { queue: "cancel-me", passive: false, durable: false, exclusive: false, autoDelete: false, nowait: false, arguments: {} });
    await client.expect("queue.declare-ok");
    client.send(1, "basic.consume", { queue: "cancel-me", consumerTag: "c1", noLocal: false, noAck: true, exclusive: false, nowait: false, arguments: {} });
    await client.expect("basic.consume-ok");
    const other = await RawClient.open(broker.port);
    other.send(1, "queue.delete", { queue: "cancel-me", ifUnused: false, ifEmpty: false, nowait: false });
    await other.expect("queue.delete-ok");
    const cancel = await client.expect("basic.cancel");
    expect(cancel.args.consumerTag).toBe("c1");
    client.destroy();
    other.destroy();
  });
});
