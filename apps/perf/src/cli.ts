/**
 * The `leveret-perf` command: flags -> PerfOptions -> runPerf(), with per-second lines while it runs
 * and a summary (text, or JSON with --json) at the end. Ctrl-C stops the producers early and still
 * drains, checks and summarizes; a second Ctrl-C exits at once.
 *
 * Exit codes: 0 every confirmed message arrived (or nothing to check), 1 a confirmed message was
 * lost, 2 bad flags, 3 the run failed (connection refused or dropped, channel closed by the broker).
 *
 * Does not measure anything itself.
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { PerfError, PerfErrorCode } from "./errors.js";
import { DEFAULT_URL, EXCHANGE_TYPES, type ExchangeType, type PerfOptionsInput } from "./options.js";
import { runPerf } from "./run.js";
import { EXIT_FAILURE, EXIT_USAGE, exitCodeFor, formatSummary, formatTick } from "./summary.js";

export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

interface ParsedFlags {
  url: string;
  producers: number;
  consumers: number;
  size: number;
  persistent: boolean;
  confirm: number;
  prefetch: number;
  autoack: boolean;
  queues: number;
  queuePrefix: string;
  queueArgs: Record<string, unknown>;
  exchangeType: ExchangeType;
  exchange?: string;
  duration?: number;
  count?: number;
  rate: number;
  grace: number;
  warmup: number;
  keep: boolean;
  json: boolean;
  quiet: boolean;
}

function version(): string {
  const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return manifest.version;
}

function integerFlag(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed)) {
    throw new InvalidArgumentError("expected a whole number.");
  }
  return parsed;
}

function numberFlag(value: string): number {
  const parsed = Number(value);
  if (value.trim() === "" || !Number.isFinite(parsed) || parsed < 0) {
    throw new InvalidArgumentError("expected a non-negative number.");
  }
  return parsed;
}

function jsonObjectFlag(value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    throw new InvalidArgumentError(`not JSON (${(error as Error).message}).`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new InvalidArgumentError('expected a JSON object, e.g. \'{"x-queue-type":"quorum"}\'.');
  }
  return parsed as Record<string, unknown>;
}

export function buildProgram(io: CliIo): Command {
  return new Command()
    .name("leveret-perf")
    .description(
      "AMQP 0-9-1 load generator: throughput, end-to-end latency, and a check that no confirmed message is lost",
    )
    .version(version())
    .option("--url <url>", "broker URL", DEFAULT_URL)
    .option("--producers <n>", "producers, each on its own connection", integerFlag, 1)
    .option("--consumers <n>", "consumers, each on its own connection", integerFlag, 1)
    .option("--size <bytes>", "message body size (at least 16: the header)", integerFlag, 1024)
    .option("--persistent", "publish with delivery_mode 2 and declare durable queues", false)
    .option(
      "--confirm <window>",
      "unconfirmed publishes allowed per producer; 0 = no confirms",
      integerFlag,
      0,
    )
    .option("--prefetch <n>", "basic.qos prefetch per consumer; 0 = unlimited", integerFlag, 0)
    .option("--autoack", "consume with no-ack instead of one basic.ack per message", false)
    .option("--queues <n>", "number of queues", integerFlag, 1)
    .option("--queue-prefix <prefix>", "queue names are <prefix>1..<prefix>N", "perf-q-")
    .option("--queue-args <json>", "queue.declare arguments as a JSON object", jsonObjectFlag, {})
    .addOption(
      new Option("--exchange-type <type>", "how producers route to queues")
        .choices(EXCHANGE_TYPES)
        .default("direct"),
    )
    .option("--exchange <name>", "exchange name (default leveret-perf-<type>)")
    .option(
      "--duration <seconds>",
      "producers stop after this long (default 10 when --count is absent)",
      numberFlag,
    )
    .option("--count <n>", "messages per producer", integerFlag)
    .option("--rate <n>", "messages per second per producer; 0 = unlimited", numberFlag, 0)
    .option(
      "--grace <seconds>",
      "how long consumers may take to receive everything after producers stop",
      numberFlag,
      10,
    )
    .option(
      "--warmup <seconds>",
      "run the load this long before measuring (rates and latencies leave it out; needs --duration)",
      numberFlag,
      0,
    )
    .option("--keep", "do not delete queues and exchange at start or end", false)
    .option("--json", "print the summary as JSON on stdout (per-second lines go to stderr)", false)
    .option("--quiet", "no per-second lines", false)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });
}

function toOptions(flags: ParsedFlags): PerfOptionsInput {
  return {
    url: flags.url,
    producers: flags.producers,
    consumers: flags.consumers,
    sizeBytes: flags.size,
    persistent: flags.persistent,
    confirmWindow: flags.confirm,
    prefetch: flags.prefetch,
    autoAck: flags.autoack,
    queues: flags.queues,
    queuePrefix: flags.queuePrefix,
    queueArgs: flags.queueArgs,
    exchangeType: flags.exchangeType,
    ...(flags.exchange === undefined ? {} : { exchange: flags.exchange }),
    durationS: flags.duration,
    countPerProducer: flags.count,
    ratePerS: flags.rate,
    graceS: flags.grace,
    warmupS: flags.warmup,
    keep: flags.keep,
  };
}

/** Runs the command with `argv` as in process.argv (node, script, flags...); resolves to the exit code. */
export async function main(argv: readonly string[], io: CliIo = process): Promise<number> {
  let flags: ParsedFlags;
  try {
    flags = buildProgram(io).parse(argv).opts<ParsedFlags>();
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_USAGE;
    throw error;
  }
  const ticks = flags.json ? io.stderr : io.stdout;
  const interrupt = new AbortController();
  const onSigint = () => {
    if (interrupt.signal.aborted) process.exit(130);
    io.stderr.write("stopping producers (Ctrl-C again to quit at once)\n");
    interrupt.abort();
  };
  process.on("SIGINT", onSigint);
  try {
    const summary = await runPerf(toOptions(flags), {
      signal: interrupt.signal,
      ...(flags.quiet ? {} : { onTick: (snapshot) => ticks.write(`${formatTick(snapshot)}\n`) }),
    });
    io.stdout.write(flags.json ? `${JSON.stringify(summary, null, 2)}\n` : `${formatSummary(summary)}\n`);
    return exitCodeFor(summary);
  } catch (error) {
    if (!(error instanceof PerfError)) throw error;
    io.stderr.write(`leveret-perf: ${error.code}: ${error.message}\n`);
    return error.code === PerfErrorCode.usage ? EXIT_USAGE : EXIT_FAILURE;
  } finally {
    process.off("SIGINT", onSigint);
  }
}
