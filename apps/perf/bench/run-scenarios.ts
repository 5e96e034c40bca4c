/**
 * `pnpm bench` for the whole broker: starts Leveret with @leveret/testkit (fsync always, a fresh data
 * dir per run), runs each standard scenario with leveret-perf in a child process, BENCH_WARMUP_S
 * seconds of warm-up (default 5, left out of the figures) then BENCH_DURATION_S measured seconds
 * (default 10), and when RABBITMQ_URL is set runs the same scenarios against that RabbitMQ twice, on a
 * classic durable queue and on a quorum queue. It does so BENCH_ROUNDS times (default 3), the targets
 * alternating within each round (rounds.ts). Prints the machine, the disk of Leveret's data dir, a
 * Markdown table with each cell's median round side by side and the Leveret/RabbitMQ ratio, and every
 * round's headline figure below it.
 *
 * Environment: BENCH_DURATION_S, BENCH_WARMUP_S, BENCH_ROUNDS, RABBITMQ_URL, BENCH_TARGETS (comma list
 * out of leveret, rabbitmq-classic, rabbitmq-quorum; default all that are available).
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
import { formatRounds, medianOutcome } from "./rounds.js";
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

/** A number from the environment; a bad one stops the bench before anything runs, naming the variable. */
function envNumber(name: string, fallback: string, valid: (value: number) => boolean, what: string): number {
  const raw = process.env[name] ?? fallback;
  const value = Number(raw);
  if (raw.trim() === "" || !valid(value)) throw new Error(`${name} must be ${what}: ${raw}`);
  return value;
}

interface Timing {
  durationS: number;
  warmupS: number;
  rounds: number;
}

function timing(): Timing {
  return {
    durationS: envNumber("BENCH_DURATION_S", "10", (v) => Number.isFinite(v) && v > 0, "a positive number"),
    warmupS: envNumber("BENCH_WARMUP_S", "5", (v) => Number.isFinite(v) && v >= 0, "a number >= 0"),
    rounds: envNumber("BENCH_ROUNDS", "3", (v) => Number.isInteger(v) && v >= 1, "a whole number >= 1"),
  };
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

async function runOne(scenario: Scenario, target: Target, time: Timing): Promise<Outcome> {
  let lease: { url: string; release(): Promise<void> };
  try {
    lease = await target.acquire();
  } catch (error) {
    return { kind: "failed", reason: `could not start ${target.name}: ${gist((error as Error).message)}` };
  }
  try {
    const flags = [...scenario.flags, "--url", lease.url, "--duration", String(time.durationS)];
    flags.push("--warmup", String(time.warmupS));
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
  const time = timing();
  const loadAtStart = loadavg()[0]!;
  const leveretDisks: DiskInfo[] = [];
  const chosen = targets(leveretDisks);
  const results = new Map<string, Outcome[]>();
  for (let round = 1; round <= time.rounds; round++) {
    for (const scenario of SCENARIOS) {
      for (const target of chosen) {
        const what = `${time.warmupS} + ${time.durationS} s`;
        process.stderr.write(
          `round ${round}/${time.rounds}: scenario ${scenario.id} on ${target.name} (${what})...\n`,
        );
        const key = `${scenario.id}/${target.name}`;
        results.set(key, [...(results.get(key) ?? []), await runOne(scenario, target, time)]);
      }
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
    `- each run: ${time.warmupS} s of warm-up (not counted), then ${time.durationS} s measured, 1 KB bodies;` +
      " rates are count / time to the last event of that kind",
    `- ${time.rounds} round(s), the targets alternating within each; the table shows each cell's median round`,
  );
  lines.push("");
  for (const scenario of SCENARIOS) lines.push(`${scenario.id}. ${scenario.title}`);
  lines.push("");
  lines.push(
    formatComparisonTable({
      scenarios: SCENARIOS,
      targets: chosen.map((t) => t.name),
      baseline: LEVERET,
      outcome: (scenarioId, target) => {
        const scenario = SCENARIOS.find((s) => s.id === scenarioId) as Scenario;
        return medianOutcome(results.get(`${scenarioId}/${target}`) ?? [], scenario.metrics[0]!);
      },
    }),
  );
  lines.push("", "Every round, in order:", "");
  for (const scenario of SCENARIOS) {
    const headline = scenario.metrics[0]!;
    const runs = chosen.map((t) => ({
      target: t.name,
      outcomes: results.get(`${scenario.id}/${t.name}`) ?? [],
    }));
    lines.push(`- scenario ${scenario.id}, ${headline.label}: ${formatRounds(headline, runs)}`);
  }
  process.stdout.write(`${lines.join("\n")}\n`);
  const bad = [...results.values()].flat().filter((o) => o.kind === "failed" || o.summary.loss.lost > 0);
  return bad.length === 0 ? 0 : 1;
}

process.exitCode = await main();
