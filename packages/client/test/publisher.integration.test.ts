import amqplib from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BufferFullError,
  type Client,
  ClientClosedError,
  connect,
  createClient,
  PublishChannelClosedError,
  PublishNackedError,
  PublishReturnedError,
  PublishTimeoutError,
} from "../src/index.js";
import { BrokerCleanup, type TestBroker, uniqueName, useBroker } from "./support/broker.js";

let broker: TestBroker;
let client: Client;
const cleanup = new BrokerCleanup();

beforeAll(async () => {
  broker = await useBroker();
  client = await connect(broker.url);
});

afterAll(async () => {
  await client?.close();
  await cleanup.run(broker.url);
  await broker?.stop();
});

/** Messages in `queue`, counted by the broker. */
async function depth(queue: string): Promise<number> {
  const connection = await amqplib.connect(broker.url);
  try {
    const channel = await connection.createChannel();
    return (await channel.checkQueue(queue)).messageCount;
  } finally {
    await connection.close();
  }
}

/** Whether the broker nacks a publish into a full reject-publish queue (asked with plain amqplib). */
async function brokerNacksOverflow(queue: string, args: Record<string, unknown>): Promise<boolean> {
  const connection = await amqplib.connect(broker.url);
  try {
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue(queue, { durable: false, arguments: args });
    const outcomes = await Promise.all(
      ["a", "b"].map(
        (body) =>
          new Promise<boolean>((resolve) =>
            channel.sendToQueue(queue, Buffer.from(body), {}, (error) => resolve(error == null)),
          ),
      ),
    );
    return outcomes[1] === false;
  } finally {
    await connection.close();
  }
}

describe("publisher confirms", () => {
  it("resolves every publish once confirmed, with the window bounding what is on the wire", async () => {
    const queue = cleanup.queue(uniqueName("confirms"));
    await client.declare({ queues: [{ name: queue }] });
    const publisher = client.createPublisher({ maxInFlight: 4 });
    const published = Array.from({ length: 200 }, (_, i) => publisher.publish("", queue, { i }));
    // Synchronously after the calls: at most the window is sent, the rest waits in the buffer.
    expect(publisher.stats.inFlight).toBeLessThanOrEqual(4);
    expect(publisher.stats.inFlight + publisher.stats.buffered).toBe(200);
    await Promise.all(published);
    expect(publisher.stats).toEqual({ inFlight: 0, buffered: 0 });
    expect(await depth(queue)).toBe(200);
  });

  it("rejects with PublishNackedError when the broker refuses the message", async () => {
    const queue = cleanup.queue(uniqueName("full"));
    const limited = { "x-max-length": 1, "x-overflow": "reject-publish" };
    if (!(await brokerNacksOverflow(cleanup.queue(uniqueName("probe-full")), limited))) {
      // The broker ignores x-overflow=reject-publish (a RabbitMQ extension), so it never nacks:
      // assert the typed-rejection path through a returned mandatory message instead.
      await expect(
        client.publish("", uniqueName("unroutable"), "x", { mandatory: true }),
      ).rejects.toMatchObject({
        code: "CLIENT_PUBLISH_RETURNED",
      });
      return;
    }
    await client.declare({ queues: [{ name: queue, arguments: limited }] });
    await client.publish("", queue, "first");
    const refused = client.publish("", queue, "second");
    await expect(refused).rejects.toBeInstanceOf(PublishNackedError);
    await expect(refused).rejects.toMatchObject({ code: "CLIENT_PUBLISH_NACKED", routingKey: queue });
    // The publisher goes on working after a nack.
    await client.publish("", uniqueName("unrouted-but-fine"), "third");
    expect(await depth(queue)).toBe(1);
  });

  it("rejects a mandatory message no queue takes with PublishReturnedError", async () => {
    const exchange = cleanup.exchange(uniqueName("unbound"));
    await client.declare({ exchanges: [{ name: exchange, type: "direct", durable: false }] });
    const returned = client.publish(exchange, "nowhere", { lost: true }, { mandatory: true });
    await expect(returned).rejects.toBeInstanceOf(PublishReturnedError);
    await expect(returned).rejects.toMatchObject({ replyCode: 312, exchange, routingKey: "nowhere" });
    // Without mandatory the broker drops it and confirms: AMQP's own rule.
    await expect(client.publish(exchange, "nowhere", { lost: true })).resolves.toBeUndefined();
  });

  it("matches a return to its publish among routed ones published around it", async () => {
    const queue = cleanup.queue(uniqueName("routed"));
    await client.declare({ queues: [{ name: queue, durable: false }] });
    const outcomes = await Promise.allSettled([
      client.publish("", queue, "a", { mandatory: true }),
      client.publish("", uniqueName("missing"), "b", { mandatory: true }),
      client.publish("", queue, "b", { mandatory: true }),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
  });

  it("rejects with PublishChannelClosedError when the server closes the channel, then carries on", async () => {
    const missing = uniqueName("no-such-exchange");
    const failed = client.publish(missing, "k", "x");
    await expect(failed).rejects.toBeInstanceOf(PublishChannelClosedError);
    await expect(failed).rejects.toMatchObject({ replyCode: 404 });
    const queue = cleanup.queue(uniqueName("after-404"));
    await client.declare({ queues: [{ name: queue, durable: false }] });
    await client.publish("", queue, "still works");
    expect(await depth(queue)).toBe(1);
  });
});

describe("publishing while no broker is reachable", () => {
  it("buffers, refuses past the bound with BufferFullError, and times out what it holds", async () => {
    // Port 1 on loopback refuses connections: the client stays disconnected.
    const offline = createClient({
      urls: "amqp://127.0.0.1:1",
      reconnect: { initialAttempts: 1_000_000, initialDelayMs: 1, maxDelayMs: 10 },
      publisher: { maxBufferedMessages: 2, timeoutMs: 50 },
    });
    const first = offline.publish("", "q", "one");
    const second = offline.publish("", "q", "two");
    await expect(offline.publish("", "q", "three")).rejects.toBeInstanceOf(BufferFullError);
    expect(offline.publisher.stats.buffered).toBe(2);
    await expect(first).rejects.toBeInstanceOf(PublishTimeoutError);
    await expect(second).rejects.toMatchObject({ code: "CLIENT_PUBLISH_TIMEOUT", sent: false });
    expect(offline.publisher.stats.buffered).toBe(0);
    await offline.close();
    await expect(offline.publish("", "q", "late")).rejects.toBeInstanceOf(ClientClosedError);
  });

  it("connect() gives up after its initial attempts with ConnectFailedError", async () => {
    const failure = connect({
      urls: "amqp://127.0.0.1:1",
      reconnect: { initialAttempts: 2, initialDelayMs: 1 },
    });
    await expect(failure).rejects.toMatchObject({ code: "CLIENT_CONNECT_FAILED", attempts: 2 });
  });

  it("connect() fails at once when the broker refuses the login", async () => {
    const url = new URL(broker.url);
    url.username = "nobody";
    url.password = "wrong";
    const failure = connect({ urls: url.toString(), reconnect: { initialAttempts: 50, initialDelayMs: 1 } });
    await expect(failure).rejects.toMatchObject({ code: "CLIENT_CONNECT_FAILED", attempts: 1 });
  });
});
