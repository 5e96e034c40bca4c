/**
 * leveret-perf as a user runs it: the built bin in a child process, against a real Leveret broker
 * started by @leveret/testkit, checking the JSON summary (every confirmed message received exactly
 * once) and that the queues are gone afterwards.
 *
 * Set LEVERET_PERF_TEST_URL to run the same checks against another broker (e.g. RabbitMQ) instead.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type RunningBroker, startBroker } from "@leveret/testkit";
import { connect } from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PerfSummary } from "../src/summary.js";

const PERF_BIN = fileURLToPath(new URL("../bin/leveret-perf.js", import.meta.url));

let broker: RunningBroker | undefined;
let url: string;

beforeAll(async () => {
  const external = process.env.LEVERET_PERF_TEST_URL;
  if (external !== undefined && external !== "") {
    url = external;
  } else {
    broker = await startBroker({ args: ["--fsync", "always"] });
    url = broker.url;
  }
});

afterAll(async () => {
  await broker?.stop();
});

interface PerfRun {
  code: number | null;
  summary: PerfSummary;
  stderr: string;
}

function perf(...flags: string[]): Promise<PerfRun> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [PERF_BIN, "--url", url, "--json", "--quiet", "--grace", "30", ...flags],
      { maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
        try {
          resolve({ code, summary: JSON.parse(stdout) as PerfSummary, stderr });
        } catch {
          reject(new Error(`leveret-perf exited ${code} without a JSON summary:\n${stderr}\n${stdout}`));
        }
      },
    );
  });
}

async function queueExists(name: string): Promise<boolean> {
  const connection = await connect(url);
  connection.on("error", () => undefined);
  try {
    const channel = await connection.createChannel();
    channel.on("error", () => undefined);
    await channel.checkQueue(name);
    return true;
  } catch (error) {
    if ((error as { code?: number }).code === 404) return false;
    throw error;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

describe("leveret-perf against a broker", () => {
  it("delivers every confirmed persistent message exactly once and cleans up", async () => {
    const run = await perf(
      ...["--producers", "2", "--consumers", "2", "--queues", "2", "--count", "500"],
      ...[
        "--persistent",
        "--confirm",
        "50",
        "--prefetch",
        "20",
        "--size",
        "256",
        "--queue-prefix",
        "it-perf-a-",
      ],
    );
    expect(run.code).toBe(0);
    const { counts, loss } = run.summary;
    expect(counts).toMatchObject({ sent: 1000, confirmed: 1000, nacked: 0, returned: 0, received: 1000 });
    expect(counts.duplicates).toBe(0);
    expect(counts.ignored).toBe(0);
    expect(loss).toEqual({ checked: true, lost: 0, examples: [], notReceived: 0 });
    expect(run.summary.latencyMs?.samples).toBe(1000);
    expect(run.summary.confirmLatencyMs?.samples).toBe(1000);
    expect(await queueExists("it-perf-a-1")).toBe(false);
    expect(await queueExists("it-perf-a-2")).toBe(false);
  });

  it("copies each fanout message to every queue (transient, autoack, no confirms)", async () => {
    const run = await perf(
      ...[
        "--producers",
        "1",
        "--consumers",
        "3",
        "--queues",
        "3",
        "--count",
        "300",
        "--exchange-type",
        "fanout",
      ],
      ...["--autoack", "--size", "16", "--queue-prefix", "it-perf-b-"],
    );
    expect(run.code).toBe(0);
    expect(run.summary.counts).toMatchObject({ sent: 300, confirmed: 0, received: 900, duplicates: 0 });
    expect(run.summary.loss).toMatchObject({ checked: false, notReceived: 0 });
  });

  it("routes topic keys to the producer's own queue, under a rate limit", async () => {
    const run = await perf(
      ...[
        "--producers",
        "3",
        "--consumers",
        "2",
        "--queues",
        "2",
        "--count",
        "100",
        "--exchange-type",
        "topic",
      ],
      ...["--confirm", "10", "--rate", "1000", "--queue-prefix", "it-perf-c-"],
    );
    expect(run.code).toBe(0);
    expect(run.summary.counts).toMatchObject({ sent: 300, confirmed: 300, received: 300, duplicates: 0 });
    expect(run.summary.loss.lost).toBe(0);
  });

  it("runs the warm-up before the measured duration and leaves it out of the rates", async () => {
    // 400 msg/s for 0.5 s of warm-up and 1 s measured: about 600 messages in all, about 400 measured.
    const run = await perf(
      ...["--producers", "1", "--consumers", "1", "--warmup", "0.5", "--duration", "1", "--rate", "400"],
      ...["--confirm", "20", "--persistent", "--queue-prefix", "it-perf-w-"],
    );
    expect(run.code).toBe(0);
    const { counts, rates, settings, latencyMs } = run.summary;
    expect(settings).toMatchObject({ warmupS: 0.5, durationS: 1 });
    expect(counts.sent).toBeGreaterThan(450);
    expect(counts.received).toBe(counts.sent);
    expect(run.summary.loss).toMatchObject({ checked: true, lost: 0 });
    // Rated over the measured second only; counting the warm-up in would read about 600/s.
    expect(rates.sentPerS).toBeGreaterThan(300);
    expect(rates.sentPerS).toBeLessThan(500);
    expect(latencyMs?.samples).toBeLessThan(counts.received);
    expect(run.summary.publishS).toBeGreaterThanOrEqual(1.5);
  });

  it("with --keep, leaves messages for later and ignores them as stale; without it, starts clean", async () => {
    const prefix = "it-perf-d-";
    const first = await perf(
      "--consumers",
      "0",
      "--count",
      "50",
      "--confirm",
      "10",
      "--queue-prefix",
      prefix,
      "--keep",
    );
    expect(first.code).toBe(0);
    expect(first.summary.counts.confirmed).toBe(50);
    expect(await queueExists(`${prefix}1`)).toBe(true);
    const second = await perf("--count", "20", "--confirm", "10", "--queue-prefix", prefix, "--keep");
    expect(second.code).toBe(0);
    expect(second.summary.counts).toMatchObject({ received: 20, ignored: 50, duplicates: 0 });
    expect(second.summary.loss.lost).toBe(0);
    const third = await perf("--count", "20", "--confirm", "10", "--queue-prefix", prefix);
    expect(third.code).toBe(0);
    expect(third.summary.counts).toMatchObject({ received: 20, ignored: 0 });
    expect(await queueExists(`${prefix}1`)).toBe(false);
  });

  it("exits 3 with a connection error code when nothing listens", async () => {
    const closedPort = "amqp://guest:guest@127.0.0.1:1";
    await new Promise<void>((resolve) => {
      execFile(
        process.execPath,
        [PERF_BIN, "--url", closedPort, "--count", "1"],
        (error, _stdout, stderr) => {
          expect(error?.code).toBe(3);
          expect(stderr).toMatch(/PERF_CONNECTION/);
          resolve();
        },
      );
    });
  });
});
