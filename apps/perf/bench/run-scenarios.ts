/**
 * `pnpm bench` for the whole broker: starts Leveret with @leveret/testkit (fsync always, a fresh data
 * dir per scenario), runs each standard scenario with leveret-perf in a child process for
 * BENCH_DURATION_S seconds (default 10), and when RABBITMQ_URL is set runs the same scenarios against
 * that RabbitMQ twice, on a classic durable queue and on a quorum queue. Prints the machine, the disk
 * of Leveret's data dir and a Markdown table with each figure side by side and the Leveret/RabbitMQ
 * ratio.
 *
 * Environment: BENCH_DURATION_S, RABBITMQ_URL, BENCH_TARGETS (comma list out of leveret,
 * rabbitmq-classic, rabbitmq-quorum; default all that are available).
 *
 * Prints figures and never judges them: it exits non-zero only when a run failed or lost a confirmed
 * message, never because something was slow. Runs compiled, from dist/bench/.
 */
import { spawn } from "node:child_process";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { type PerfSummary, redactUrl } from "@leveret/perf";
import { makeTempDir, removeTempDir, startBroker } from "@leveret/testkit";
import { connect } from "amqplib";
import { formatComparisonTable, type Outcome } from "./comparison-table.js";
import { describeDisk, describeMachine, type DiskInfo, diskOf, machineInfo } from "./machine-info.js";
import { SCENARIOS, type Scenario } from "./scenarios.js";

/** dist/bench/run-scenarios.js -> bin/leveret-perf.js */
const PERF_BIN = fileURLToPath(new URL("../../bin/leveret-perf.js", import.meta.url));
const LEVERET = "Leveret";
const RABBIT_CLASSIC = "RabbitMQ classic";
const RABBIT_QUORUM = "RabbitMQ quorum";
/** Enough for a consumer to catch up with a 10 s backlog; only a stuck broker ever waits this long. */
const GRACE_S = 60;

interface Target {
  name: string;
  key: string;
  queueArgs: Record<string, unknown>;
  /** A broker URL for one scenario, and how to let it go afterwards. */
  acquire(): Promise<{ url: string; release(): Promise<void> }>;
}

function durationS(): number {
  const raw = process.env.BENCH_DURATION_S ?? "10";
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`BENCH_DURATION_S must be a positive number: ${raw}`);
  return value;
}

function targets(leveretDisks: DiskInfo[]): Target[] {
  const all: Target[] = [
    {
      name: LEVERET,
      key: "leveret",
      queueArgs: {},
      async acquire() {
        const dataDir = await makeTempDir("leveret-bench-");
        const disk = diskOf(dataDir);
        if (disk !== undefined) leveretDisks.push(disk);
        const broker = await startBroker({ dataDir, args: ["--fsync", "always"] });
        return {
          url: broker.url,
          release: async () => {
            await broker.stop();
            await removeTempDir(dataDir);
          },
        };
      },
    },
  ];
  const rabbitUrl = process.env.RABBITMQ_URL;
  if (rabbitUrl !== undefined && rabbitUrl !== "") {
    const acquire = async () => ({ url: rabbitUrl, release: async () => undefined });
    all.push({ name: RABBIT_CLASSIC, key: "rabbitmq-classic", queueArgs: {}, acquire });
    all.push({
      name: RABBIT_QUORUM,
      key: "rabbitmq-quorum",
      queueArgs: { "x-queue-type": "quorum" },
      acquire,
    });
  }
  const wanted = process.env.BENCH_TARGETS?.split(",").map((s) => s.trim());
  return wanted === undefined ? all : all.filter((t) => wanted.includes(t.key));
}

/** Runs leveret-perf once; exit code 0 or 1 both carry a JSON summary (1 = lost messages). */
function runPerf(flags: string[]): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [PERF_BIN, ...flags], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", (error) => resolve({ kind: "failed", reason: error.message }));
    child.on("exit", (code, signal) => {
      if (code === 0 || code === 1) {
        resolve({ kind: "done", summary: JSON.parse(stdout) as PerfSummary });
      } else {
        resolve({ kind: "failed", reason: `leveret-perf exit ${code ?? signal}: ${gist(stderr)}` });
      }
    });
  });
}

/** The first line of a multi-line error, plus the first line below it that names an error. */
function gist(text: string): string {
  const lines = text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
  const detail = lines.slice(1).find((line) => /error/i.test(line));
  return [lines[0] ?? "(no output)", detail].filter((part) => part !== undefined).join(" ... ");
}

async function runOne(scenario: Scenario, target: Target, seconds: number): Promise<Outcome> {
  let lease: { url: string; release(): Promise<void> };
  try {
    lease = await target.acquire();
  } catch (error) {
    return { kind: "failed", reason: `could not start ${target.name}: ${gist((error as Error).message)}` };
  }
  try {
    const flags = [...scenario.flags, "--url", lease.url, "--duration", String(seconds)];
    flags.push("--grace", String(GRACE_S), "--json", "--quiet");
    if (Object.keys(target.queueArgs).length > 0)
      flags.push("--queue-args", JSON.stringify(target.queueArgs));
    return await runPerf(flags);
  } finally {
    await lease.release();
  }
}

async function rabbitVersion(url: string): Promise<string> {
  try {
    const connection = await connect(url);
    const version = String(connection.connection.serverProperties.version ?? "unknown");
    await connection.close();
    return version;
  } catch (error) {
    return `unreachable (${(error as Error).message})`;
  }
}

async function main(): Promise<number> {
  const seconds = durationS();
  const loadAtStart = loadavg()[0]!;
  const leveretDisks: DiskInfo[] = [];
  const chosen = targets(leveretDisks);
  const results = new Map<string, Outcome>();
  for (const scenario of SCENARIOS) {
    for (const target of chosen) {
      process.stderr.write(`scenario ${scenario.id} on ${target.name} (${seconds} s)...\n`);
      results.set(`${scenario.id}/${target.name}`, await runOne(scenario, target, seconds));
    }
  }
  const lines = [
    "## Leveret whole-broker benchmarks (apps/perf, leveret-perf over amqplib)",
    "",
    `- machine: ${describeMachine(machineInfo())}`,
    `- Leveret: fsync always, data dir on ${describeDisk(leveretDisks[0])}`,
    // leveret-perf, the broker and anything else on the machine share the CPUs; a busy machine shows here.
    `- load average (1 min): ${loadAtStart.toFixed(2)} at start, ${loadavg()[0]!.toFixed(2)} at end`,
  ];
  const rabbitUrl = process.env.RABBITMQ_URL;
  if (rabbitUrl) lines.push(`- RabbitMQ: ${redactUrl(rabbitUrl)}, version ${await rabbitVersion(rabbitUrl)}`);
  lines.push(
    `- each scenario: ${seconds} s, 1 KB bodies; rates are count / time to the last event of that kind`,
  );
  lines.push("");
  for (const scenario of SCENARIOS) lines.push(`${scenario.id}. ${scenario.title}`);
  lines.push("");
  lines.push(
    formatComparisonTable({
      scenarios: SCENARIOS,
      targets: chosen.map((t) => t.name),
      baseline: LEVERET,
      outcome: (scenarioId, target) => results.get(`${scenarioId}/${target}`),
    }),
  );
  process.stdout.write(`${lines.join("\n")}\n`);
  const bad = [...results.values()].filter((o) => o.kind === "failed" || o.summary.loss.lost > 0);
  return bad.length === 0 ? 0 : 1;
}

process.exitCode = await main();
