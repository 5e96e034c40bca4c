// Bodies on disk (issue "Persistence engine"): with a 1 MiB body cache and small segments, a backlog of
// 20,000 persistent 1 KB messages lives mostly on disk. Every body must come back byte-identical and in
// order, through consumers and basic.get, with acks and requeues, before and after a SIGKILL restart;
// priorities, and dead-lettering of expired messages whose bodies are on disk, must still be right.
import { makeTempDir, removeTempDir, startBroker } from "@leveret/testkit";
import type { ChannelModel, ConfirmChannel, ConsumeMessage } from "amqplib";
import { describe, expect, it } from "vitest";
import { connect } from "./support/amqp.js";

const BODY_BYTES = 1024;
const ARGS = ["--body-cache-bytes", String(1024 * 1024), "--segment-size-bytes", String(256 * 1024)];

function bodyOf(i: number): Buffer {
  const body = Buffer.alloc(BODY_BYTES, 97 + (i % 26));
  body.write(`#${i}#`, 0);
  return body;
}

function indexOf(body: Buffer): number {
  return Number(body.toString("latin1", 1, body.indexOf("#", 1)));
}

async function publishAll(
  channel: ConfirmChannel,
  queue: string,
  indexes: readonly number[],
  options: (i: number) => Record<string, unknown> = () => ({}),
): Promise<void> {
  for (const i of indexes) channel.sendToQueue(queue, bodyOf(i), { persistent: true, ...options(i) });
  await channel.waitForConfirms();
}

/**
 * Consumes `count` messages on a channel of its own with a prefetch window, acking each, then closes
 * the channel (deliveries beyond `count` still in flight go back to the queue in their places).
 */
async function consume(connection: ChannelModel, queue: string, count: number, prefetch: number): Promise<ConsumeMessage[]> {
  const channel = await connection.createChannel();
  await channel.prefetch(prefetch);
  const received = await new Promise<ConsumeMessage[]>((resolve, reject) => {
    const out: ConsumeMessage[] = [];
    channel
      .consume(queue, (message) => {
        if (!message) return reject(new Error("consumer cancelled"));
        if (out.length === count) return;
        out.push(message);
        channel.ack(message);
        if (out.length === count) resolve(out);
      })
      .catch(reject);
  });
  await channel.close();
  return received;
}

function expectBodies(messages: readonly ConsumeMessage[], indexes: readonly number[]): void {
  expect(messages.map((m) => indexOf(m.content))).toEqual(indexes);
  const wrong = messages.filter((m) => !m.content.equals(bodyOf(indexOf(m.content))));
  expect(wrong).toHaveLength(0);
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);

describe("backlog bodies on disk", { timeout: 120_000 }, () => {
  it("drains 20,000 messages in order through a 1 MiB body cache, before and after a SIGKILL", async () => {
    const dataDir = await makeTempDir("leveret-backlog-");
    let broker = await startBroker({ dataDir, args: ARGS });
    const connection = await connect(broker.url);
    const publisher = await connection.createConfirmChannel();
    await publisher.assertQueue("backlog", { durable: true });
    await publishAll(publisher, "backlog", range(0, 20_000));

    expectBodies(await consume(connection, "backlog", 5_000, 200), range(0, 5_000));
    const reader = await connection.createChannel();
    // A requeued message goes back to the head, marked redelivered, its body read again if need be.
    const got = (await reader.get("backlog")) || undefined;
    expect(got && indexOf(got.content)).toBe(5_000);
    if (got) reader.nack(got, false, true);
    const again = (await reader.get("backlog", { noAck: true })) || undefined;
    expect(again?.content.equals(bodyOf(5_000))).toBe(true);
    expect(again?.fields.redelivered).toBe(true);
    const viaGet: number[] = [];
    for (let k = 0; k < 100; k++) {
      const message = await reader.get("backlog", { noAck: true });
      if (!message) break;
      expect(message.content.equals(bodyOf(5_001 + k))).toBe(true);
      viaGet.push(indexOf(message.content));
    }
    expect(viaGet).toEqual(range(5_001, 5_101));
    // Acks are written without a sync (a lost one is a redelivery): a confirmed publish made after
    // them makes them durable too, so that the count after the SIGKILL below is exact.
    await publisher.assertQueue("marker", { durable: true });
    await publishAll(publisher, "marker", [0]);
    await connection.close();

    await broker.kill();
    broker = await broker.restart();
    const afterRestart = await connect(broker.url);
    const rest = await consume(afterRestart, "backlog", 14_899, 500);
    const channel = await afterRestart.createChannel();
    expectBodies(rest, range(5_101, 20_000));
    // Only messages handed out before the crash come back flagged redelivered: at most the first
    // consumer's prefetch window past its 5,000 (requeued when its channel closed); none after it.
    const redelivered = rest.filter((m) => m.fields.redelivered).map((m) => indexOf(m.content));
    expect(redelivered).toEqual(range(5_101, 5_101 + redelivered.length));
    expect(5_101 + redelivered.length).toBeLessThanOrEqual(5_000 + 200);
    expect(await channel.get("backlog")).toBe(false);
    await afterRestart.close();
    await broker.stop();
    await removeTempDir(dataDir);
  });

  it("keeps priorities and dead-letters expired messages with their bodies after a restart", async () => {
    const dataDir = await makeTempDir("leveret-backlog-prio-");
    let broker = await startBroker({ dataDir, args: ARGS });
    const connection = await connect(broker.url);
    const publisher = await connection.createConfirmChannel();
    await publisher.assertQueue("prio", { durable: true, maxPriority: 5 });
    await publisher.assertQueue("dead", { durable: true });
    await publisher.assertQueue("short-lived", { durable: true, deadLetterExchange: "", deadLetterRoutingKey: "dead" });
    await publishAll(publisher, "prio", range(0, 3_000), (i) => ({ priority: i % 6 }));
    // Recovery enqueues them again with a fresh TTL: they expire after the restart, bodies on disk.
    await publishAll(publisher, "short-lived", range(0, 2_000), () => ({ expiration: "4000" }));
    await connection.close();

    await broker.kill();
    broker = await broker.restart();
    const reader = await connect(broker.url);
    const expected = [5, 4, 3, 2, 1, 0].flatMap((p) => range(0, 500).map((k) => k * 6 + p));
    expectBodies(await consume(reader, "prio", 3_000, 100), expected);
    const dead = await consume(reader, "dead", 2_000, 100);
    expectBodies(dead, range(0, 2_000));
    await reader.close();
    await broker.stop();
    await removeTempDir(dataDir);
  });
});
