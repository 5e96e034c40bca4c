import amqplib from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Client,
  ConsumeFailedError,
  connect,
  type HandlerErrorEvent,
  type Message,
} from "../src/index.js";
import { BrokerCleanup, type TestBroker, uniqueName, until, useBroker } from "./support/broker.js";

let broker: TestBroker;
let client: Client;
const cleanup = new BrokerCleanup();
const handlerErrors: HandlerErrorEvent[] = [];

beforeAll(async () => {
  broker = await useBroker();
  client = await connect(broker.url);
  client.on("handler-error", (event) => handlerErrors.push(event));
});

afterAll(async () => {
  await client?.close();
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

/** A promise the test resolves by hand, to hold handlers in flight without timers. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

describe("consumers", () => {
  it("ack on success: the queue is empty once handlers return", async () => {
    const queue = cleanup.queue(uniqueName("ack"));
    await client.declare({ queues: [{ name: queue }] });
    await Promise.all([1, 2, 3].map((n) => client.publish("", queue, { n })));
    const seen: number[] = [];
    const consumer = await client.consume<{ n: number }>(queue, (message) => {
      seen.push(message.body.n);
    });
    await until(() => seen.length === 3, "three deliveries");
    await consumer.cancel();
    expect(seen).toEqual([1, 2, 3]);
    expect(await depth(queue)).toBe(0);
  });

  it("a throw rejects the message to the queue's dead-letter exchange", async () => {
    const queue = cleanup.queue(uniqueName("dlx-src"));
    const dlx = cleanup.exchange(uniqueName("dlx"));
    const parked = cleanup.queue(uniqueName("dlx-dst"));
    await client.declare({
      exchanges: [{ name: dlx, type: "fanout" }],
      queues: [{ name: parked }, { name: queue, arguments: { "x-dead-letter-exchange": dlx } }],
      bindings: [{ source: dlx, destination: parked }],
    });
    const consumer = await client.consume(queue, () => {
      throw new Error("cannot handle this");
    });
    await client.publish("", queue, { doomed: true });
    await until(() => handlerErrors.some((event) => event.queue === queue), "the handler error");
    await consumer.cancel();
    const event = handlerErrors.find((e) => e.queue === queue)!;
    expect(event.action).toBe("reject");
    expect(event.error.message).toBe("cannot handle this");
    expect(event.message?.body).toEqual({ doomed: true });
    expect(await depth(parked)).toBe(1);
  });

  it("retries through the retry queue, counting attempts from x-death, then parks it in the dead-letter queue", async () => {
    const queue = cleanup.queue(uniqueName("retry"));
    cleanup.queue(`${queue}.retry`);
    const deadLetters = cleanup.queue(`${queue}.dead`);
    const attempts: number[] = [];
    const consumer = await client.consume<{ job: string }>(
      queue,
      (message) => {
        attempts.push(message.attempt);
        throw new Error(`failed attempt ${message.attempt}`);
      },
      { retry: { maxAttempts: 3, delayMs: 20 } },
    );
    await client.publish("", queue, { job: "resize" }, { messageId: "m-1" });
    await until(
      () => handlerErrors.some((e) => e.queue === queue && e.action === "dead-letter"),
      "the message to be dead-lettered",
    );
    await consumer.cancel();
    expect(attempts).toEqual([1, 2, 3]);
    expect(handlerErrors.filter((e) => e.queue === queue).map((e) => e.action)).toEqual([
      "retry",
      "retry",
      "dead-letter",
    ]);

    // The parked copy keeps body, properties and the broker's x-death history, plus the last error.
    const received: Message<{ job: string }>[] = [];
    const reader = await client.consume<{ job: string }>(deadLetters, (message) => {
      received.push(message);
    });
    await until(() => received.length === 1, "the dead letter");
    await reader.cancel();
    const dead = received[0]!;
    expect(dead.body).toEqual({ job: "resize" });
    expect(dead.messageId).toBe("m-1");
    expect(dead.headers["x-last-error"]).toBe("failed attempt 3");
    const deaths = dead.headers["x-death"] as Array<{ queue: string; reason: string; count: number }>;
    expect(deaths.find((d) => d.queue === queue && d.reason === "rejected")?.count).toBe(2);
    expect(deaths.find((d) => d.queue === `${queue}.retry` && d.reason === "expired")?.count).toBe(2);
    expect(await depth(queue)).toBe(0);
  });

  it("a message that succeeds on a retry is acked and never parked", async () => {
    const queue = cleanup.queue(uniqueName("retry-ok"));
    cleanup.queue(`${queue}.retry`);
    const deadLetters = cleanup.queue(`${queue}.dead`);
    const attempts: number[] = [];
    const consumer = await client.consume(
      queue,
      (message) => {
        attempts.push(message.attempt);
        if (message.attempt < 2) throw new Error("transient");
      },
      { retry: { maxAttempts: 5, delayMs: 10 } },
    );
    await client.publish("", queue, "work");
    await until(() => attempts.length === 2, "the second attempt");
    await consumer.cancel();
    expect(attempts).toEqual([1, 2]);
    expect(await depth(deadLetters)).toBe(0);
    expect(await depth(queue)).toBe(0);
  });

  it("runs at most `concurrency` handlers at once", async () => {
    const queue = cleanup.queue(uniqueName("concurrency"));
    await client.declare({ queues: [{ name: queue }] });
    await Promise.all(Array.from({ length: 12 }, (_, i) => client.publish("", queue, i)));
    const hold = gate();
    let running = 0;
    let peak = 0;
    let done = 0;
    const consumer = await client.consume(
      queue,
      async () => {
        running += 1;
        peak = Math.max(peak, running);
        await hold.opened;
        running -= 1;
        done += 1;
      },
      { concurrency: 3, prefetch: 6 },
    );
    await until(() => running === 3, "three handlers in flight");
    expect(consumer.inFlight).toBe(3);
    hold.open();
    await until(() => done === 12, "all twelve handled");
    await consumer.cancel();
    expect(peak).toBe(3);
  });

  it("cancel() waits for running handlers and hands back messages not yet started", async () => {
    const queue = cleanup.queue(uniqueName("cancel"));
    await client.declare({ queues: [{ name: queue }] });
    await Promise.all(Array.from({ length: 5 }, (_, i) => client.publish("", queue, i)));
    const hold = gate();
    const started: number[] = [];
    const finished: number[] = [];
    const consumer = await client.consume<number>(
      queue,
      async (message) => {
        started.push(message.body);
        await hold.opened;
        finished.push(message.body);
      },
      { concurrency: 1, prefetch: 5 },
    );
    await until(() => started.length === 1, "the first handler to start");
    let cancelled = false;
    const cancelling = consumer.cancel().then(() => {
      cancelled = true;
    });
    // Let the cancel round trip happen; the handler is still held.
    await new Promise((resolve) => setImmediate(resolve));
    expect(cancelled).toBe(false);
    hold.open();
    await cancelling;
    expect(finished).toEqual([0]);
    expect(started).toEqual([0]);
    // The four messages that never started went back to the queue.
    expect(await depth(queue)).toBe(4);
  });

  it("subscribes again after the broker cancels it (queue deleted, then re-created)", async () => {
    const resilient = await connect({ urls: broker.url, reconnect: { initialDelayMs: 5, maxDelayMs: 40 } });
    const errors: string[] = [];
    resilient.on("error", (error) => errors.push((error as { code?: string }).code ?? error.name));
    const queue = cleanup.queue(uniqueName("cancelled"));
    await resilient.declare({ queues: [{ name: queue, durable: false }] });
    const received: string[] = [];
    await resilient.consume<string>(queue, (message) => {
      received.push(message.body);
    });
    const admin = await amqplib.connect(broker.url);
    const channel = await admin.createChannel();
    await channel.deleteQueue(queue);
    await until(() => errors.includes("CLIENT_CONSUMER_CANCELLED"), "the cancel notification");
    await until(() => errors.includes("CLIENT_CONSUME_FAILED"), "a failed re-subscription (no queue yet)");
    await channel.assertQueue(queue, { durable: false });
    await admin.close();
    // Publish until the re-subscribed consumer takes one: it comes back on its own.
    for (let i = 0; received.length === 0 && i < 2000; i++) {
      await resilient.publish("", queue, "back");
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(received[0]).toBe("back");
    await resilient.close();
  });

  it("consume() on a missing queue rejects with ConsumeFailedError (404)", async () => {
    const failure = client.consume(uniqueName("missing"), () => undefined);
    await expect(failure).rejects.toBeInstanceOf(ConsumeFailedError);
    await expect(failure).rejects.toMatchObject({ replyCode: 404 });
    // The client is unharmed.
    const queue = cleanup.queue(uniqueName("after-missing"));
    await client.declare({ queues: [{ name: queue, durable: false }] });
    await client.publish("", queue, "ok");
  });
});
