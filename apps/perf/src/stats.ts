/**
 * The running counters of one leveret-perf run, shared by every producer and consumer of the process
 * (they all run on one event loop, so plain fields need no locking), with the latency histograms and
 * the per-second interval view.
 *
 * Does not decide what counts as loss (loss-ledger.ts) and does not print (summary.ts).
 */
import { Histogram } from "./histogram.js";

export interface Counters {
  sent: number;
  confirmed: number;
  nacked: number;
  returned: number;
  /** Deliveries of this run's messages, duplicates included. */
  received: number;
  /** Deliveries of a (producer, sequence) already received on the same queue. */
  duplicates: number;
  /** Deliveries flagged redelivered by the broker. */
  redelivered: number;
  /** Deliveries that are not from this run: too short for the header, unknown producer, or older. */
  ignored: number;
}

export interface IntervalSnapshot extends Counters {
  /** Seconds since the run started, at the end of this interval. */
  elapsedS: number;
  /** Length of this interval in seconds (about 1, measured, not assumed). */
  intervalS: number;
  /** End-to-end latency of the messages received in this interval, in microseconds. */
  latencyP50Us: number;
  latencyP99Us: number;
  /** True while the warm-up runs: this interval does not count in the summary. */
  warmingUp: boolean;
}

function zeroCounters(): Counters {
  return {
    sent: 0,
    confirmed: 0,
    nacked: 0,
    returned: 0,
    received: 0,
    duplicates: 0,
    redelivered: 0,
    ignored: 0,
  };
}

function subtract(from: Counters, minus: Counters): Counters {
  const result = zeroCounters();
  for (const key of Object.keys(result) as (keyof Counters)[]) result[key] = from[key] - minus[key];
  return result;
}

export class PerfStats {
  readonly totals: Counters = zeroCounters();
  /** Publish -> consumer delivery, microseconds, every new message received. */
  readonly latencyUs = new Histogram();
  /** Publish -> broker confirm, microseconds, every confirmed message. */
  readonly confirmLatencyUs = new Histogram();
  private readonly intervalLatencyUs = new Histogram();
  private lastSnapshot: Counters = zeroCounters();
  private lastSnapshotAtMs: number;
  /** performance.now() when the load started, and of the last event of each kind, for rates. */
  startedAtMs: number;
  /** When the measured part began: the end of the warm-up, or the start without one. */
  measuredFromMs: number;
  /** The totals when the measured part began (zero without a warm-up). */
  private baseline: Counters = zeroCounters();
  private warmingUp = false;
  lastSentAtMs: number | undefined;
  lastConfirmedAtMs: number | undefined;
  lastReceivedAtMs: number | undefined;

  constructor(nowMs: number = performance.now()) {
    this.startedAtMs = nowMs;
    this.measuredFromMs = nowMs;
    this.lastSnapshotAtMs = nowMs;
  }

  /**
   * Restarts the clock (not the counters): called when the producers start, after connections are up.
   * With `warmingUp`, nothing counts in the summary until beginMeasurement().
   */
  markStart(nowMs: number = performance.now(), warmingUp = false): void {
    this.startedAtMs = nowMs;
    this.measuredFromMs = nowMs;
    this.lastSnapshotAtMs = nowMs;
    this.warmingUp = warmingUp;
  }

  /**
   * The warm-up is over: from now on rates count from here and the latency histograms start empty.
   * The totals keep counting the whole run (the loss check needs every message).
   */
  beginMeasurement(nowMs: number = performance.now()): void {
    this.measuredFromMs = nowMs;
    this.baseline = { ...this.totals };
    this.latencyUs.reset();
    this.confirmLatencyUs.reset();
    this.warmingUp = false;
  }

  /** What happened since the measured part began. */
  measured(): Counters {
    return subtract(this.totals, this.baseline);
  }

  onSent(): void {
    this.totals.sent++;
    this.lastSentAtMs = performance.now();
  }

  onConfirmed(latencyUs: number): void {
    this.totals.confirmed++;
    this.confirmLatencyUs.record(latencyUs);
    this.lastConfirmedAtMs = performance.now();
  }

  onNacked(): void {
    this.totals.nacked++;
  }

  onReturned(): void {
    this.totals.returned++;
  }

  onReceived(latencyUs: number): void {
    this.totals.received++;
    this.latencyUs.record(latencyUs);
    this.intervalLatencyUs.record(latencyUs);
    this.lastReceivedAtMs = performance.now();
  }

  /** A delivery of a message already received on that queue: counts as received, adds no latency sample. */
  onDuplicate(): void {
    this.totals.received++;
    this.totals.duplicates++;
    this.lastReceivedAtMs = performance.now();
  }

  onRedelivered(): void {
    this.totals.redelivered++;
  }

  onIgnored(): void {
    this.totals.ignored++;
  }

  /** The counts since the previous snapshot, and resets the interval latency histogram. */
  snapshot(nowMs: number = performance.now()): IntervalSnapshot {
    const result: IntervalSnapshot = {
      ...subtract(this.totals, this.lastSnapshot),
      elapsedS: (nowMs - this.startedAtMs) / 1000,
      intervalS: (nowMs - this.lastSnapshotAtMs) / 1000,
      latencyP50Us: this.intervalLatencyUs.percentile(50),
      latencyP99Us: this.intervalLatencyUs.percentile(99),
      warmingUp: this.warmingUp,
    };
    this.lastSnapshot = { ...this.totals };
    this.lastSnapshotAtMs = nowMs;
    this.intervalLatencyUs.reset();
    return result;
  }
}
