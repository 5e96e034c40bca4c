/**
 * Backlog memory and recovery benchmark (issue "Persistence engine"): publishes BACKLOG_COUNT
 * (default 1,000,000) persistent 1 KB messages with publisher confirms into one durable queue of a real
 * broker, reads the broker's RSS (VmRSS from /proc/PID/status), kills it with SIGKILL, restarts it and
 * times the start until its "listening on" line, reads the RSS again, then drains the queue and checks
 * every message: each index once, in order, body byte-identical. Prints Markdown figures with the
 * machine they ran on. Never run by `pnpm test`; exits non-zero only if a message is lost, duplicated
 * or corrupt, never because of a time.
 *
 * Environment: BACKLOG_COUNT, BACKLOG_BODY_BYTES (default 1024), BACKLOG_ARGS (extra broker flags,
 * space-separated, e.g. "--body-cache-bytes 16777216").
 *
 * Buffers: bodies are built per message from their index, so the checker needs no copy of them.
 */
import { readFileSync } from "node:fs";
import { makeTempDir, type RunningBroker, removeTempDir, startBroker } from "@leveret/testkit";
import amqp from "amqplib";
import { diskOf, machineInfo } from "./machine-info.js";

const COUNT = Number(process.env.BACKLOG_COUNT ?? 1_000_000);
const BODY_BYTES = Number(process.env.BACKLOG_BODY_BYTES ?? 1024);
const EXTRA_ARGS = (process.env.BACKLOG_ARGS ?? "").split(" ").filter((arg) => arg !== "");
const QUEUE = "backlog-memory";
/** Unconfirmed publishes in flight: enough to fill a group commit, bounded so the client's memory is. */
const CONFIRM_WINDOW = 2_000;

function bodyOf(index: number): Buffer {
  const body = Buffer.alloc(BODY_BYTES, 97 + (index % 26));
  body.writeUInt32BE(index, 0);
  return body;
}

function rssMiB(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return Math.round((kib / 1024) * 10) / 10;
}

async function publish(broker: RunningBroker): Promise<number> {
  const connection = await amqp.connect(broker.url);
  const channel = await connection.createConfirmChannel();
  await channel.assertQueue(QUEUE, { durable: true });
  const startedMs = performance.now();
  for (let index = 0; index < COUNT; index += CONFIRM_WINDOW) {
    const end = Math.min(COUNT, index + CONFIRM_WINDOW);
    for (let i = index; i < end; i++) channel.sendToQueue(QUEUE, bodyOf(i), { persistent: true });
    await channel.waitForConfirms();
  }
  const elapsedMs = performance.now() - startedMs;
  await connection.close();
  return elapsedMs;
}

/** Drains the queue, checking order and bodies; samples the broker's RSS meanwhile. */
async function drain(broker: RunningBroker): Promise<{ elapsedMs: number; peakRssMiB: number; problems: string[] }> {
  const connection = await amqp.connect(broker.url);
  const channel = await connection.createChannel();
  await channel.prefetch(1_000);
  const problems: string[] = [];
  let peakRssMiB = 0;
  const sampler = setInterval(() => {
    peakRssMiB = Math.max(peakRssMiB, rssMiB(broker.process.pid));
  }, 500);
  const startedMs = performance.now();
  await new Promise<void>((resolve, reject) => {
    let next = 0;
    channel
      .consume(QUEUE, (message) => {
        if (!message) return reject(new Error("consumer cancelled"));
        const index = message.content.readUInt32BE(0);
        if (index !== next && problems.length < 10) problems.push(`expected message ${next}, got ${index}`);
        if (!message.content.equals(bodyOf(index)) && problems.length < 10) problems.push(`message ${index} body differs`);
        next = index + 1;
        if (next % 500 === 0 || next === COUNT) channel.ack(message, true);
        if (next === COUNT) resolve();
      })
      .catch(reject);
  });
  const elapsedMs = performance.now() - startedMs;
  clearInterval(sampler);
  const left = await channel.checkQueue(QUEUE);
  if (left.messageCount !== 0) problems.push(`${left.messageCount} messages left after the drain`);
  await connection.close();
  return { elapsedMs, peakRssMiB, problems };
}

async function main(): Promise<void> {
  const dataDir = await makeTempDir("leveret-backlog-bench-");
  let broker = await startBroker({ dataDir, args: EXTRA_ARGS, startTimeoutMs: 120_000 });
  const publishMs = await publish(broker);
  const rssAfterPublish = rssMiB(broker.process.pid);
  await broker.kill();
  const restartStartedMs = performance.now();
  broker = await broker.restart();
  const recoveryMs = performance.now() - restartStartedMs;
  const rssAfterRecovery = rssMiB(broker.process.pid);
  const drained = await drain(broker);
  await broker.stop();
  await removeTempDir(dataDir);

  const machine = machineInfo();
  const disk = diskOf("/tmp");
  const lines = [
    `## Backlog memory and recovery (${COUNT.toLocaleString("en")} persistent ${BODY_BYTES} B messages, one durable queue)`,
    "",
    `Node ${machine.node}, ${machine.cpuCount} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB RAM, ${machine.os}; data dir on ${disk ? `${disk.device} (${disk.fsType})` : "unknown"}; fsync always; confirms; broker flags: ${EXTRA_ARGS.join(" ") || "defaults"}.`,
    "",
    "| figure | value |",
    "| --- | --- |",
    `| publish with confirms | ${(publishMs / 1000).toFixed(1)} s (${Math.round(COUNT / (publishMs / 1000)).toLocaleString("en")} msg/s) |`,
    `| broker RSS after publish | ${rssAfterPublish} MiB |`,
    `| restart after SIGKILL until listening | ${(recoveryMs / 1000).toFixed(2)} s |`,
    `| broker RSS after recovery | ${rssAfterRecovery} MiB |`,
    `| drain (prefetch 1000, acks every 500) | ${(drained.elapsedMs / 1000).toFixed(1)} s, peak RSS ${drained.peakRssMiB} MiB |`,
    `| every message once, in order, byte-identical | ${drained.problems.length === 0 ? "yes" : `NO: ${drained.problems.join("; ")}`} |`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  if (drained.problems.length > 0) process.exitCode = 1;
}

await main();
