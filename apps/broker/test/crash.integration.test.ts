/**
 * kill -9 under load: a broker in a child process takes persistent publishes with confirms while a
 * consumer acks on the same connection, and is killed with SIGKILL at a random moment. After each
 * restart: every confirmed message is there (or was acked), bodies byte-identical, no duplicates,
 * nothing that was never published, and no message whose ack was made durable comes back.
 *
 * Why acks made before a confirmed publish are durable: publishes and acks share one connection, so
 * the broker handles them in order, and the store writes pending settlements before the publish's
 * commit; the confirm therefore covers the acks sent before the publish.
 */
import { makeTempDir, removeTempDir, startBroker } from "@leveret/testkit";
import amqp from "amqplib";
import { describe, expect, it } from "vitest";
import { delay } from "./support/amqp.js";

const ROUNDS = 6;

function bodyFor(round: number, id: number): Buffer {
  const size = 64 + ((id * 37) % 900);
  const body = Buffer.alloc(size, (id + round) % 251);
  body.writeUInt32BE(id, 0);
  body.writeUInt32BE(round, 4);
  return body;
}

interface RoundLog {
  sent: Set<number>;
  confirmed: Set<number>;
  acked: number[];
  /** acked[0..durableAcks) are covered by a confirmed publish sent after them. */
  durableAcks: number;
}

async function loadUntilKilled(url: string, queue: string, round: number, killAfterMs: number, kill: () => Promise<void>): Promise<RoundLog> {
  const log: RoundLog = { sent: new Set(), confirmed: new Set(), acked: [], durableAcks: 0 };
  const connection = await amqp.connect(url);
  connection.on("error", () => {});
  connection.on("close", () => {});
  const publisher = await connection.createConfirmChannel();
  publisher.on("error", () => {});
  const consumer = await connection.createChannel();
  consumer.on("error", () => {});
  await publisher.assertQueue(queue, { durable: true });
  await consumer.prefetch(20);
  await consumer.consume(queue, (message) => {
    if (!message) return;
    const id = message.content.readUInt32BE(0);
    // ack two of every three, leave the rest unacked (they come back after the crash)
    if (id % 3 !== 0) {
      consumer.ack(message);
      log.acked.push(id);
    }
  });
  let killed = false;
  const killer = delay(killAfterMs).then(async () => {
    killed = true;
    await kill();
  });
  let id = 0;
  let inFlight = 0;
  while (!killed) {
    if (inFlight >= 100) {
      await delay(1);
      continue;
    }
    id++;
    const messageId = id;
    const acksBefore = log.acked.length;
    log.sent.add(messageId);
    inFlight++;
    try {
      publisher.sendToQueue(queue, bodyFor(round, messageId), { persistent: true }, (error) => {
        inFlight--;
        if (error) return;
        log.confirmed.add(messageId);
        log.durableAcks = Math.max(log.durableAcks, acksBefore);
      });
    } catch {
      break; // the connection died under us
    }
    if (id % 50 === 0) await delay(0);
  }
  await killer;
  return log;
}

/** Both places the log's record writes can run: on the event loop (default) and on the thread pool. */
const WRITE_MODES = [
  { mode: "inline", rounds: ROUNDS },
  { mode: "thread-pool", rounds: 3 },
] as const;

describe.each(WRITE_MODES)("kill -9 under load, $mode log writes", ({ mode, rounds }) => {
  it(`loses no confirmed message over ${rounds} random crashes`, async () => {
    const dataDir = await makeTempDir("leveret-crash-");
    let broker = await startBroker({ dataDir, env: { LEVERET_WAL_WRITE_MODE: mode } });
    const logs: RoundLog[] = [];
    for (let round = 0; round < rounds; round++) {
      const killAfterMs = 150 + Math.floor(Math.random() * 600);
      const current = broker;
      logs.push(await loadUntilKilled(current.url, `crash-${round}`, round, killAfterMs, () => current.kill()));
      broker = await current.restart();
      // every round's queue is checked after every restart: later crashes must not disturb it
      const connection = await amqp.connect(broker.url);
      const channel = await connection.createChannel();
      for (let checked = 0; checked <= round; checked++) {
        const log = logs[checked] as RoundLog;
        const queue = `crash-${checked}`;
        const present: number[] = [];
        // read without settling, so the state stays for the next rounds' checks
        for (;;) {
          const message = await channel.get(queue, { noAck: false });
          if (!message) break;
          const id = message.content.readUInt32BE(0);
          expect(message.content.equals(bodyFor(checked, id)), `body of ${queue}/${id}`).toBe(true);
          present.push(id);
        }
        await channel.recover();
        expect(new Set(present).size, `duplicates in ${queue}`).toBe(present.length);
        const acked = new Set(log.acked);
        for (const id of present) expect(log.sent.has(id), `${queue}/${id} never published`).toBe(true);
        for (const id of log.confirmed) {
          if (!acked.has(id)) expect(present.includes(id), `confirmed ${queue}/${id} lost`).toBe(true);
        }
        for (const id of log.acked.slice(0, log.durableAcks)) {
          expect(present.includes(id), `durably acked ${queue}/${id} came back`).toBe(false);
        }
        if (checked === round) expect(log.confirmed.size).toBeGreaterThan(0);
      }
      await connection.close();
    }
    await broker.stop();
    await removeTempDir(dataDir);
  }, 120_000);
});
