/**
 * What a run found, as data (PerfSummary, printed with --json) and as text: the final summary, the
 * per-second lines, and the exit code that turns "a confirmed message never arrived" into a failure.
 *
 * Does not measure anything; run.ts fills a summary from PerfStats and the LossLedger.
 */
import type { Histogram } from "./histogram.js";
import type { LossLedger, LostMessage } from "./loss-ledger.js";
import { type ExchangeType, type PerfOptions, redactUrl } from "./options.js";
import type { Counters, IntervalSnapshot, PerfStats } from "./stats.js";

export interface LatencySummary {
  samples: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

export interface PerfSummary {
  /** The broker URL, password masked. */
  url: string;
  settings: {
    producers: number;
    consumers: number;
    sizeBytes: number;
    persistent: boolean;
    confirmWindow: number;
    prefetch: number;
    autoAck: boolean;
    queues: number;
    queueArgs: Record<string, unknown>;
    exchangeType: ExchangeType;
    durationS: number | null;
    /** Seconds of load before measuring started (not in rates and latencies); 0 without a warm-up. */
    warmupS: number;
    countPerProducer: number | null;
    ratePerS: number;
  };
  /** Seconds from the first publish to the end of the drain (the warm-up included). */
  elapsedS: number;
  /** Seconds the producers ran (first publish to last confirm they waited for). */
  publishS: number;
  /** The whole run, warm-up included (what the loss check is about). */
  counts: Counters;
  /**
   * Each rate is its count after the warm-up over the time from the end of the warm-up (the first
   * publish without one) to the last event of that kind.
   */
  rates: { sentPerS: number; confirmedPerS: number; receivedPerS: number };
  /** Publish to delivery; null when nothing was received. */
  latencyMs: LatencySummary | null;
  /** Publish to broker confirm; null without confirms. */
  confirmLatencyMs: LatencySummary | null;
  loss: {
    /** False when the run could not check (no confirms, or no consumer on any queue a producer routes to). */
    checked: boolean;
    /** Confirmed messages that did not arrive within the grace period. */
    lost: number;
    /** Up to 10 of them. */
    examples: LostMessage[];
    /** Sent messages (confirmed or not) that did not arrive; informative when confirms are off. */
    notReceived: number;
  };
  /** False when messages were lost. */
  ok: boolean;
}

export const EXIT_OK = 0;
export const EXIT_LOSS = 1;
export const EXIT_USAGE = 2;
export const EXIT_FAILURE = 3;

export function exitCodeFor(summary: PerfSummary): number {
  return summary.ok ? EXIT_OK : EXIT_LOSS;
}

/** performance.now() readings that frame a run. */
export interface RunTimes {
  /** All producers finished publishing and stopped waiting for confirms. */
  producersDoneAtMs: number;
  /** The drain ended (everything arrived, or the grace period ran out). */
  endedAtMs: number;
}

const LOST_EXAMPLES = 10;

export function buildSummary(
  o: PerfOptions,
  stats: PerfStats,
  ledger: LossLedger,
  times: RunTimes,
): PerfSummary {
  const since = (atMs: number | undefined) => (atMs === undefined ? undefined : atMs - stats.measuredFromMs);
  const measured = stats.measured();
  const checked = o.confirmWindow > 0 && o.consumers > 0 && ledger.checksAnything;
  const lost = checked ? ledger.countLost() : 0;
  return {
    url: redactUrl(o.url),
    settings: {
      producers: o.producers,
      consumers: o.consumers,
      sizeBytes: o.sizeBytes,
      persistent: o.persistent,
      confirmWindow: o.confirmWindow,
      prefetch: o.prefetch,
      autoAck: o.autoAck,
      queues: o.queues,
      queueArgs: o.queueArgs,
      exchangeType: o.exchangeType,
      durationS: o.durationS ?? null,
      warmupS: o.warmupS,
      countPerProducer: o.countPerProducer ?? null,
      ratePerS: o.ratePerS,
    },
    elapsedS: (times.endedAtMs - stats.startedAtMs) / 1000,
    publishS: (times.producersDoneAtMs - stats.startedAtMs) / 1000,
    counts: { ...stats.totals },
    rates: {
      sentPerS: ratePerS(measured.sent, since(stats.lastSentAtMs)),
      confirmedPerS: ratePerS(measured.confirmed, since(stats.lastConfirmedAtMs)),
      receivedPerS: ratePerS(measured.received, since(stats.lastReceivedAtMs)),
    },
    latencyMs: summarizeLatency(stats.latencyUs),
    confirmLatencyMs: summarizeLatency(stats.confirmLatencyUs),
    loss: {
      checked,
      lost,
      examples: lost > 0 ? ledger.listLost(LOST_EXAMPLES) : [],
      notReceived: o.consumers > 0 ? ledger.countOutstanding() : 0,
    },
    ok: lost === 0,
  };
}

export function summarizeLatency(histogramUs: Histogram): LatencySummary | null {
  if (histogramUs.count === 0) return null;
  return {
    samples: histogramUs.count,
    p50Ms: histogramUs.percentile(50) / 1000,
    p95Ms: histogramUs.percentile(95) / 1000,
    p99Ms: histogramUs.percentile(99) / 1000,
    maxMs: histogramUs.max / 1000,
    meanMs: histogramUs.mean / 1000,
  };
}

/** A rate over `periodMs`, 0 for an empty period (nothing happened, or it happened all at once). */
export function ratePerS(count: number, periodMs: number | undefined): number {
  if (periodMs === undefined || periodMs <= 0 || count === 0) return 0;
  return count / (periodMs / 1000);
}

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

function ms(valueMs: number): string {
  return valueMs < 10 ? valueMs.toFixed(3) : valueMs < 1000 ? valueMs.toFixed(1) : integer.format(valueMs);
}

/** One per-second line: what happened in the interval that just ended. */
export function formatTick(s: IntervalSnapshot): string {
  const per = (count: number) => integer.format(s.intervalS > 0 ? count / s.intervalS : 0);
  const latency =
    s.received > 0 ? `latency p50 ${ms(s.latencyP50Us / 1000)} ms p99 ${ms(s.latencyP99Us / 1000)} ms` : "";
  return [
    `${s.elapsedS.toFixed(0).padStart(4)}s`,
    `sent ${per(s.sent).padStart(7)}/s`,
    `confirmed ${per(s.confirmed).padStart(7)}/s`,
    `received ${per(s.received).padStart(7)}/s`,
    latency,
    s.warmingUp ? "(warm-up)" : "",
  ]
    .filter((part) => part !== "")
    .join("  ")
    .trimEnd();
}

export function formatSummary(summary: PerfSummary): string {
  const { counts, rates, settings } = summary;
  const what = [
    `${settings.producers} producer(s)`,
    `${settings.consumers} consumer(s)`,
    `${settings.sizeBytes} B`,
    settings.persistent ? "persistent" : "transient",
    settings.confirmWindow > 0 ? `confirm window ${settings.confirmWindow}` : "no confirms",
    settings.autoAck ? "autoack" : `manual ack, prefetch ${settings.prefetch || "unlimited"}`,
    `${settings.queues} ${settings.exchangeType} queue(s)`,
  ];
  const lines = [
    `leveret-perf summary (${summary.url}; ${what.join(", ")})`,
    `  run:        ${summary.elapsedS.toFixed(2)} s (producers ${summary.publishS.toFixed(2)} s)` +
      (settings.warmupS > 0
        ? `, the first ${settings.warmupS} s a warm-up left out of rates and latencies`
        : ""),
    `  sent:       ${integer.format(counts.sent)} (${integer.format(rates.sentPerS)} msg/s)`,
    `  confirmed:  ${integer.format(counts.confirmed)} (${integer.format(rates.confirmedPerS)} msg/s)`,
    `  nacked:     ${integer.format(counts.nacked)}`,
    `  returned:   ${integer.format(counts.returned)}`,
    `  received:   ${integer.format(counts.received)} (${integer.format(rates.receivedPerS)} msg/s)` +
      `, duplicates ${integer.format(counts.duplicates)}, redelivered ${integer.format(counts.redelivered)}` +
      (counts.ignored > 0 ? `, ignored ${integer.format(counts.ignored)}` : ""),
    `  latency:    ${formatLatency(summary.latencyMs)}`,
    `  confirms:   ${formatLatency(summary.confirmLatencyMs)}`,
    `  loss check: ${formatLoss(summary)}`,
  ];
  return lines.join("\n");
}

function formatLatency(latency: LatencySummary | null): string {
  if (latency === null) return "n/a";
  return `p50 ${ms(latency.p50Ms)} ms, p95 ${ms(latency.p95Ms)} ms, p99 ${ms(latency.p99Ms)} ms, max ${ms(latency.maxMs)} ms`;
}

function formatLoss(summary: PerfSummary): string {
  const { loss } = summary;
  if (!loss.checked) {
    const { producers, confirmWindow } = summary.settings;
    const why =
      producers === 0
        ? "consume only"
        : confirmWindow === 0
          ? "no confirms"
          : "no consumer on the routed queues";
    return `not checked (${why}); ${integer.format(loss.notReceived)} sent but not received`;
  }
  if (loss.lost === 0) return "every confirmed message was received";
  const examples = loss.examples.map((m) => `producer ${m.producer} seq ${m.sequence} queue #${m.queue + 1}`);
  return `LOST ${integer.format(loss.lost)} confirmed message(s), e.g. ${examples.join("; ")}`;
}
