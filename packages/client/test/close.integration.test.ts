import amqplib from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClientClosedError, connect, createClient } from "../src/index.js";
import { BrokerCleanup, type TestBroker, uniqueName, until, useBroker } from "./support/broker.js";

let broker: TestBroker;
const cleanup = new BrokerCleanup();

beforeAll(async () => {
  broker = await useBroker();
});

afterAll(async () => {
  await cleanup.run(broker.url);
  await broker?.stop();
});

async function depth(queue: string): Promise<number> {
  const connection = await amqplib.connect(broker.url);
  try {
    const channel = await connection.createChannel();
    return (await channel.checkQueue(queue)).messageCount;
  } finally {
    await connection.close();
  }
}

describe("graceful close", () => {
  it("waits for every pending confirm before closing the connection", async () => {
    const client = await connect(broker.url);
    const queue = cleanup.queue(uniqueName("close-confirms"));
    await client.declare({ queues: [{ name: queue }] });
    const outcomes: Array<"ok" | Error> = [];
    for (let i = 0; i < 300; i++) {
      client.publish("", queue, { i }).then(
        () => outcomes.push("ok"),
        (error: Error) => outcomes.push(error),
      );
    }
    expect(client.publisher.stats.inFlight + client.publisher.stats.buffered).toBe(300);
    await client.close();
    // close() resolved only after every publish settled; give their callbacks a turn to record it.
    await new Promise((resolve) => setImmediate(resolve));
    expect(outcomes.filter((o) => o === "ok")).toHaveLength(300);
    expect(client.state).toBe("closed");
    expect(await depth(queue)).toBe(300);
  });

  it("waits for running handlers, whose messages are then acked", async () => {
    const client = await connect(broker.url);
    const queue = cleanup.queue(uniqueName("close-handlers"));
    await client.declare({ queues: [{ name: queue }] });
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started = false;
    let finished = false;
    await client.consume(queue, async () => {
      started = true;
      await held;
      finished = true;
    });
    await client.publish("", queue, "slow job");
    await until(() => started, "the handler to start");
    let closed = false;
    const closing = client.close().then(() => {
      closed = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(false);
    release();
    await closing;
    expect(finished).toBe(true);
    expect(await depth(queue)).toBe(0);
  });

  it("rejects what is still unconfirmed after closeTimeoutMs with ClientClosedError", async () => {
    const offline = createClient({
      urls: "amqp://127.0.0.1:1",
      closeTimeoutMs: 30,
      reconnect: { initialAttempts: 1_000_000 },
    });
    const stuck = offline.publish("", "q", "never sent", { timeoutMs: 0 });
    await offline.close();
    await expect(stuck).rejects.toBeInstanceOf(ClientClosedError);
    expect(() => offline.createPublisher()).toThrow(ClientClosedError);
  });
});
