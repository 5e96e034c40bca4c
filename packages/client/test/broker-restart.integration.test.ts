/**
 * The proof: the broker process is killed (SIGKILL) and restarted mid-stream, and every
 * publish whose promise resolved is consumed afterwards, with no application code involved in the
 * recovery. Always runs against a Leveret broker it starts itself (LEVERET_CLIENT_TEST_URL does not
 * apply: a shared broker cannot be killed).
 */
import { type RunningBroker, startBroker } from "@leveret/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Client, connect } from "../src/index.js";
import { until } from "./support/broker.js";

let broker: RunningBroker;
let client: Client | undefined;

beforeAll(async () => {
  broker = await startBroker();
});

afterAll(async () => {
  await client?.close();
  await broker?.stop();
});

describe("broker crash and restart", () => {
  it("delivers every confirmed message after kill -9 and restart mid-stream", async () => {
    client = await connect({ urls: broker.url, reconnect: { initialDelayMs: 20, maxDelayMs: 500 } });
    const queue = "crash-stream";
    await client.declare({ queues: [{ name: queue, durable: true }] });
    const consumed = new Set<number>();
    await client.consume<number>(
      queue,
      (message) => {
        consumed.add(message.body);
      },
      { prefetch: 50 },
    );
    let restored = 0;
    client.on("connected", () => restored++);

    const confirmed: number[] = [];
    const failed: Array<[number, Error]> = [];
    const publishes: Promise<void>[] = [];
    for (let i = 0; i < 1000; i++) {
      publishes.push(
        client.publish("", queue, i, { persistent: true }).then(
          () => void confirmed.push(i),
          (error: Error) => void failed.push([i, error]),
        ),
      );
      if (i === 300) await until(() => confirmed.length > 200, "confirms before the crash");
      if (i === 400) {
        // Messages published since the wait above are unconfirmed right now; kill the broker under them.
        expect(client.publisher.stats.inFlight + client.publisher.stats.buffered).toBeGreaterThan(0);
        await broker.kill();
        broker = await broker.restart();
      }
    }
    await Promise.all(publishes);
    expect(failed).toEqual([]);
    expect(confirmed).toHaveLength(1000);
    await until(
      () => confirmed.every((i) => consumed.has(i)),
      "every confirmed message to be consumed",
      60_000,
    );
    expect(restored).toBeGreaterThanOrEqual(1);
  });
});
