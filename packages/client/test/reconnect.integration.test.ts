/**
 * Connection loss without restarting the broker: a TCP proxy between client and broker is cut,
 * so this runs against any broker, a shared one included. (Killing and restarting the broker
 * process itself is broker-restart.integration.test.ts.)
 */
import amqplib from "amqplib";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Client, type ConnectedEvent, connect } from "../src/index.js";
import { BrokerCleanup, type TestBroker, uniqueName, until, useBroker } from "./support/broker.js";
import { TcpProxy } from "./support/tcp-proxy.js";

let broker: TestBroker;
let proxy: TcpProxy;
let client: Client | undefined;
const cleanup = new BrokerCleanup();

beforeAll(async () => {
  broker = await useBroker();
  proxy = await TcpProxy.start(Number(new URL(broker.url).port));
});

afterEach(async () => {
  proxy.accept();
  await client?.close();
  client = undefined;
});

afterAll(async () => {
  await proxy?.close();
  await cleanup.run(broker.url);
  await broker?.stop();
});

function connectThroughProxy(): Promise<Client> {
  return connect({
    urls: proxy.urlFor(broker.url),
    connectionName: "reconnect-test",
    reconnect: { initialDelayMs: 5, maxDelayMs: 50 },
  });
}

describe("reconnect", () => {
  it("delivers every confirmed publish when the connection drops mid-stream", async () => {
    client = await connectThroughProxy();
    const queue = cleanup.queue(uniqueName("midstream"));
    await client.declare({ queues: [{ name: queue }] });
    const consumed = new Set<number>();
    await client.consume<number>(queue, (message) => {
      consumed.add(message.body);
    });
    const connections: ConnectedEvent[] = [];
    const disconnects: Error[] = [];
    client.on("connected", (event) => connections.push(event));
    client.on("disconnected", ({ error }) => disconnects.push(error));

    const confirmed: number[] = [];
    const failed: number[] = [];
    const publishes: Promise<void>[] = [];
    let cuts = 0;
    for (let i = 0; i < 600; i++) {
      const publishing = client.publish("", queue, i).then(
        () => void confirmed.push(i),
        () => void failed.push(i),
      );
      publishes.push(publishing);
      // Let part of the stream get confirmed, then (with no await in between, so the messages
      // published since are certainly unconfirmed) cut the connection. Twice.
      if (i === 100 || i === 350) await until(() => confirmed.length > i - 50, "some confirms");
      if (i === 200 || i === 450) {
        expect(client.publisher.stats.inFlight).toBeGreaterThan(0);
        proxy.cut();
        cuts += 1;
      }
    }
    expect(cuts).toBe(2);
    await Promise.all(publishes);
    expect(failed).toEqual([]);
    expect(confirmed).toHaveLength(600);
    await until(() => consumed.size === 600, "every confirmed message to be consumed");
    expect(disconnects.length).toBeGreaterThanOrEqual(2);
    expect(connections.at(-1)!.generation).toBeGreaterThanOrEqual(3);
    expect(client.connected).toBe(true);
  });

  it("buffers publishes while disconnected and sends them on reconnect", async () => {
    client = await connectThroughProxy();
    const queue = cleanup.queue(uniqueName("buffered"));
    await client.declare({ queues: [{ name: queue }] });
    const reconnecting: number[] = [];
    client.on("reconnecting", (event) => reconnecting.push(event.attempt));
    proxy.refuse();
    await until(() => client!.state === "reconnecting", "the client to notice");
    const pending = Array.from({ length: 20 }, (_, i) => client!.publish("", queue, { i }));
    let settled = 0;
    for (const p of pending)
      void p.then(
        () => settled++,
        () => settled++,
      );
    await until(() => reconnecting.length >= 3, "a few failed reconnect attempts");
    expect(settled).toBe(0);
    expect(client.publisher.stats.buffered).toBe(20);
    proxy.accept();
    await Promise.all(pending);
    const received: number[] = [];
    await client.consume<{ i: number }>(queue, (message) => {
      received.push(message.body.i);
    });
    await until(() => received.length === 20, "the buffered messages");
    expect(received).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it("re-declares the topology and resumes consumers after a reconnect", async () => {
    client = await connectThroughProxy();
    const exchange = cleanup.exchange(uniqueName("events"));
    const queue = cleanup.queue(uniqueName("redeclared"));
    await client.declare({
      exchanges: [{ name: exchange, type: "topic", durable: false }],
      queues: [{ name: queue, durable: false }],
      bindings: [{ source: exchange, destination: queue, routingKey: "order.*" }],
    });
    const received: string[] = [];
    await client.consume<string>(queue, (message) => {
      received.push(message.body);
    });
    await client.publish(exchange, "order.created", "before");
    await until(() => received.length === 1, "the first message");

    // While the client is away, the broker loses the topology (as a restarted broker loses
    // non-durable things): delete the queue and the exchange behind the client's back.
    proxy.refuse();
    await until(() => client!.state === "reconnecting", "the client to notice");
    const admin = await amqplib.connect(broker.url);
    const channel = await admin.createChannel();
    await channel.deleteQueue(queue);
    await channel.deleteExchange(exchange);
    await admin.close();

    const restored = new Promise<void>((resolve) => client!.once("connected", () => resolve()));
    proxy.accept();
    await restored;
    await client.publish(exchange, "order.paid", "after", { mandatory: true });
    await until(() => received.length === 2, "the message after the reconnect");
    expect(received).toEqual(["before", "after"]);
  });

  it("fails over to the next URL when the first is unreachable", async () => {
    const connected: string[] = [];
    client = await connect({
      urls: ["amqp://guest:guest@127.0.0.1:1", proxy.urlFor(broker.url)],
      reconnect: { initialDelayMs: 1, initialAttempts: 3 },
    });
    client.on("connected", (event) => connected.push(event.url));
    expect(client.connected).toBe(true);
    proxy.cut();
    await until(() => connected.length === 1, "the reconnect");
    // After a loss the client tries the next URL first, the dead one, then comes back to the proxy.
    expect(connected[0]).toContain(`:${proxy.port}`);
    expect(connected[0]).toContain("guest:***@");
  });
});
