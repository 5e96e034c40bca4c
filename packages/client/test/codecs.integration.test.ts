import amqplib from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Client, type Codec, connect, type Message } from "../src/index.js";
import { BrokerCleanup, type TestBroker, uniqueName, until, useBroker } from "./support/broker.js";

interface Order {
  id: number;
  items: string[];
  total: number;
}

/** A custom codec: "k=v;k=v" lines, to show a content type the SDK knows nothing about. */
const keyValueCodec: Codec<Record<string, string>> = {
  contentType: "application/x-key-value",
  encode: (value) =>
    Buffer.from(
      Object.entries(value)
        .map(([k, v]) => `${k}=${v}`)
        .join(";"),
    ),
  decode: (content) =>
    Object.fromEntries(
      content
        .toString()
        .split(";")
        .map((pair) => pair.split("=") as [string, string]),
    ),
};

let broker: TestBroker;
let client: Client;
const cleanup = new BrokerCleanup();

beforeAll(async () => {
  broker = await useBroker();
  client = await connect({
    urls: broker.url,
    codecs: [keyValueCodec as Codec<unknown>],
    connectionName: "codecs-test",
  });
});

afterAll(async () => {
  await client?.close();
  await cleanup.run(broker.url);
  await broker?.stop();
});

/** Publishes `body` to a fresh queue and returns the message a consumer receives. */
async function roundTrip<T>(body: unknown, options: { contentType?: string } = {}): Promise<Message<T>> {
  const queue = cleanup.queue(uniqueName("codec"));
  await client.declare({ queues: [{ name: queue, durable: false }] });
  const received: Message<T>[] = [];
  const consumer = await client.consume<T>(queue, (message) => {
    received.push(message);
  });
  await client.publish("", queue, body, options);
  await until(() => received.length === 1, "the message");
  await consumer.cancel();
  return received[0]!;
}

describe("codecs over a real broker", () => {
  it("JSON is the default for objects, typed through the generic", async () => {
    const order: Order = { id: 7, items: ["tea", "scone"], total: 12.5 };
    const message = await roundTrip<Order>(order);
    expect(message.contentType).toBe("application/json");
    expect(message.body).toEqual(order);
    expect(message.body.items[1]).toBe("scone");
    expect(JSON.parse(message.content.toString())).toEqual(order);
  });

  it("msgpack by content type", async () => {
    const value = { id: 1, nested: { list: [1, 2, 3], flag: true, nothing: null }, text: "é" };
    const message = await roundTrip<typeof value>(value, { contentType: "application/msgpack" });
    expect(message.contentType).toBe("application/msgpack");
    expect(message.body).toEqual(value);
    expect(message.content.length).toBeLessThan(Buffer.byteLength(JSON.stringify(value)));
  });

  it("raw Buffers pass through unchanged", async () => {
    const bytes = Buffer.from([0, 1, 2, 253, 254, 255]);
    const message = await roundTrip<Buffer>(bytes);
    expect(message.contentType).toBe("application/octet-stream");
    expect(Buffer.isBuffer(message.body)).toBe(true);
    expect(message.body.equals(bytes)).toBe(true);
  });

  it("strings travel as UTF-8 text", async () => {
    const message = await roundTrip<string>("héllo, wörld ✓");
    expect(message.contentType).toBe("text/plain");
    expect(message.body).toBe("héllo, wörld ✓");
  });

  it("a custom codec registered on the client", async () => {
    const message = await roundTrip<Record<string, string>>(
      { a: "1", b: "two" },
      { contentType: "application/x-key-value" },
    );
    expect(message.content.toString()).toBe("a=1;b=two");
    expect(message.body).toEqual({ a: "1", b: "two" });
  });

  it("a message without content type arrives as raw bytes; an unknown type is reported and rejected", async () => {
    const queue = cleanup.queue(uniqueName("codec-foreign"));
    await client.declare({ queues: [{ name: queue, durable: false }] });
    const received: Message[] = [];
    const failures: string[] = [];
    client.on("handler-error", (event) => {
      if (event.queue === queue) failures.push(`${event.action}:${event.error.name}`);
    });
    const consumer = await client.consume(queue, (message) => {
      received.push(message);
    });
    // What a plain amqplib or pika publisher sends: no content type at all; and a type nobody registered.
    const foreign = await amqplib.connect(broker.url);
    const channel = await foreign.createConfirmChannel();
    channel.sendToQueue(queue, Buffer.from("legacy"));
    channel.sendToQueue(queue, Buffer.from("<xml/>"), { contentType: "application/xml" });
    await channel.waitForConfirms();
    await foreign.close();
    await until(() => received.length === 1 && failures.length === 1, "one delivery and one failure");
    expect(Buffer.isBuffer(received[0]!.body)).toBe(true);
    expect((received[0]!.body as Buffer).toString()).toBe("legacy");
    expect(failures).toEqual(["reject:CodecError"]);
    await consumer.cancel();
  });
});
