/**
 * One leveret-perf run from start to end:
 *
 *   declare topology -> open + start consumers -> open producers -> publish (until count/duration)
 *     -> wait for confirms -> drain (until every sent message arrived, or the grace period ends)
 *     -> close everything -> delete topology -> summary
 *
 * Every producer and consumer has its own connection, all on this process's one event loop. A failure
 * of any of them (a connection drop, a channel closed by the broker, a consumer cancelled) aborts the
 * run and surfaces as a PerfError; lost messages do not: they are in the summary.
 *
 * Does not print; the CLI prints the ticks and the summary.
 */
import { type Channel, type ChannelModel, connect } from "amqplib";
import { Consumer } from "./consumer.js";
import { PerfError, PerfErrorCode } from "./errors.js";
import { LossLedger } from "./loss-ledger.js";
import { nowUs } from "./message-body.js";
import { type PerfOptions, type PerfOptionsInput, redactUrl, resolveOptions } from "./options.js";
import { Producer } from "./producer.js";
import { PerfStats, type IntervalSnapshot } from "./stats.js";
import { buildSummary, type PerfSummary } from "./summary.js";
import {
  declareTopology,
  deleteTopology,
  queueIndexForConsumer,
  queueIsConsumed,
  queueNames,
  routeForProducer,
} from "./topology.js";
import { pollUntil, waitOrAbort } from "./wait.js";

export interface RunHooks {
  /** Called about once a second with what happened in the last interval. */
  onTick?(snapshot: IntervalSnapshot): void;
  /** Aborting it stops the producers early (e.g. on Ctrl-C); the run then drains and summarizes. */
  signal?: AbortSignal;
}

const TICK_INTERVAL_MS = 1000;
/** How often the drain phase asks the ledger whether everything arrived. */
const DRAIN_POLL_MS = 20;

export async function runPerf(input: PerfOptionsInput, hooks: RunHooks = {}): Promise<PerfSummary> {
  const options = resolveOptions(input);
  const connection = await openSetupConnection(options.url);
  try {
    let result: PerfSummary;
    try {
      await withChannel(connection, (channel) => declareTopology(channel, options)).catch(
        (error: unknown) => {
          throw asPerfError(PerfErrorCode.channel, "declaring queues and exchange", error);
        },
      );
      result = await runLoad(options, hooks);
    } catch (error) {
      // Best effort: the run already failed, and that failure is what the user needs to see.
      await withChannel(connection, (channel) => deleteTopology(channel, options)).catch(() => undefined);
      throw error;
    }
    await withChannel(connection, (channel) => deleteTopology(channel, options)).catch((error: unknown) => {
      throw asPerfError(PerfErrorCode.channel, "deleting queues and exchange", error);
    });
    return result;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** The connection that declares and deletes the topology; it carries no load. */
async function openSetupConnection(url: string): Promise<ChannelModel> {
  try {
    const connection = await connect(url);
    // Without a listener an 'error' event would crash the process; the failing call reports it anyway.
    connection.on("error", () => undefined);
    return connection;
  } catch (error) {
    throw asPerfError(PerfErrorCode.connection, `connecting to ${redactUrl(url)}`, error);
  }
}

/**
 * Runs `work` on a fresh channel: a broker error (say 406 on a declare) closes only that channel, so
 * the clean-up after it still has a channel to work on.
 */
async function withChannel(
  connection: ChannelModel,
  work: (channel: Channel) => Promise<void>,
): Promise<void> {
  const channel = await connection.createChannel();
  let closed = false;
  channel.on("error", () => undefined);
  channel.on("close", () => {
    closed = true;
  });
  await work(channel);
  if (!closed) await channel.close();
}

/** Why the run ended early, if it did; the first failure wins and stops everything. */
class RunControl {
  readonly stop = new AbortController();
  readonly giveUp = new AbortController();
  failure: PerfError | undefined;

  fail = (error: PerfError): void => {
    this.failure ??= error;
    this.stop.abort();
    this.giveUp.abort();
  };
}

async function runLoad(options: PerfOptions, hooks: RunHooks): Promise<PerfSummary> {
  const control = new RunControl();
  const routes = range(options.producers).map((i) => routeForProducer(options, i));
  const consumed = new Set(range(options.queues).filter((q) => queueIsConsumed(options, q)));
  const ledger = new LossLedger(
    routes.map((r) => r.queueIndices),
    consumed,
  );
  const stats = new PerfStats();
  const runStartedAtUs = nowUs();
  const names = queueNames(options);
  const consumers = await openAll(options.consumers, (index) => {
    const queueIndex = queueIndexForConsumer(options, index);
    const queueName = names[queueIndex]!;
    const context = {
      index,
      queueIndex,
      queueName,
      options,
      stats,
      ledger,
      runStartedAtUs,
      onFatal: control.fail,
    };
    return Consumer.open(context);
  });
  let producers: Producer[] = [];
  try {
    await Promise.all(consumers.map((c) => c.start()));
    producers = await openAll(options.producers, (index) =>
      Producer.open({ index, options, route: routes[index]!, stats, ledger, onFatal: control.fail }),
    );
    const times = await drive(options, control, stats, ledger, { producers, hooks });
    if (control.failure !== undefined) throw control.failure;
    await Promise.all([...producers, ...consumers].map((member) => member.close()));
    return buildSummary(options, stats, ledger, times);
  } catch (error) {
    await Promise.all([...producers, ...consumers].map((member) => member.abandon()));
    throw control.failure ?? asPerfError(PerfErrorCode.channel, "running the load", error);
  }
}

/** The timed part: publish, settle confirms, drain; with the per-second ticker running throughout. */
async function drive(
  options: PerfOptions,
  control: RunControl,
  stats: PerfStats,
  ledger: LossLedger,
  members: { producers: Producer[]; hooks: RunHooks },
): Promise<{ producersDoneAtMs: number; endedAtMs: number }> {
  const { producers, hooks } = members;
  const onExternalStop = () => control.stop.abort();
  hooks.signal?.addEventListener("abort", onExternalStop);
  if (hooks.signal?.aborted) control.stop.abort();
  stats.markStart(performance.now(), options.warmupS > 0);
  const ticker = setInterval(() => hooks.onTick?.(stats.snapshot()), TICK_INTERVAL_MS);
  const warmupTimer =
    options.warmupS > 0 ? setTimeout(() => stats.beginMeasurement(), options.warmupS * 1000) : undefined;
  const durationTimer =
    options.durationS === undefined
      ? undefined
      : setTimeout(onExternalStop, (options.warmupS + options.durationS) * 1000);
  let graceTimer: NodeJS.Timeout | undefined;
  try {
    if (producers.length === 0) await waitOrAbort(control.stop.signal, () => undefined);
    await Promise.all(producers.map((p) => p.publishAll(control.stop.signal)));
    graceTimer = setTimeout(() => control.giveUp.abort(), options.graceS * 1000);
    await Promise.all(producers.map((p) => p.settle(control.giveUp.signal)));
    const producersDoneAtMs = performance.now();
    if (options.consumers > 0 && ledger.checksAnything) {
      await pollUntil(() => ledger.countOutstanding() === 0, DRAIN_POLL_MS, control.giveUp.signal);
    }
    return { producersDoneAtMs, endedAtMs: performance.now() };
  } finally {
    clearInterval(ticker);
    clearTimeout(warmupTimer);
    clearTimeout(durationTimer);
    clearTimeout(graceTimer);
    hooks.signal?.removeEventListener("abort", onExternalStop);
  }
}

/** Opens `count` members in parallel; if any fails, closes the others and throws. */
async function openAll<T extends { abandon(): Promise<void> }>(
  count: number,
  open: (index: number) => Promise<T>,
): Promise<T[]> {
  const results = await Promise.allSettled(range(count).map(open));
  const opened = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed === undefined) return opened;
  await Promise.all(opened.map((member) => member.abandon()));
  throw asPerfError(PerfErrorCode.connection, "opening connections", failed.reason);
}

function asPerfError(code: PerfErrorCode, doing: string, error: unknown): PerfError {
  if (error instanceof PerfError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new PerfError(code, `${doing}: ${message}`, { cause: error });
}

function range(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}
