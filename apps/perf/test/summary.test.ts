import { describe, expect, it } from "vitest";
import { LossLedger } from "../src/loss-ledger.js";
import { resolveOptions } from "../src/options.js";
import { PerfStats } from "../src/stats.js";
import { buildSummary, exitCodeFor, formatSummary, formatTick, ratePerS } from "../src/summary.js";

function scenario(received: number[]) {
  const options = resolveOptions({ countPerProducer: 4, confirmWindow: 10, url: "amqp://u:pw@h:1" });
  const stats = new PerfStats(0);
  const ledger = new LossLedger([[0]], new Set([0]));
  for (let seq = 0; seq < 4; seq++) {
    ledger.onSent(0, seq);
    stats.onSent();
    ledger.onConfirmed(0, seq);
    stats.onConfirmed(2000);
  }
  for (const seq of received) {
    ledger.onReceived(0, 0, seq);
    stats.onReceived(1500);
  }
  stats.lastSentAtMs = 1000;
  stats.lastConfirmedAtMs = 2000;
  stats.lastReceivedAtMs = 4000;
  return buildSummary(options, stats, ledger, { producersDoneAtMs: 2000, endedAtMs: 5000 });
}

describe("summary", () => {
  it("computes each rate over the time to the last event of its kind", () => {
    const s = scenario([0, 1, 2, 3]);
    expect(s.rates).toEqual({ sentPerS: 4, confirmedPerS: 2, receivedPerS: 1 });
    expect(s.elapsedS).toBe(5);
    expect(s.publishS).toBe(2);
    expect(s.latencyMs?.p50Ms).toBe(1.5);
    expect(s.confirmLatencyMs?.p99Ms).toBe(2);
    expect(s.url).toBe("amqp://u:***@h:1");
  });

  it("passes when every confirmed message arrived", () => {
    const s = scenario([3, 2, 1, 0]);
    expect(s.loss).toEqual({ checked: true, lost: 0, examples: [], notReceived: 0 });
    expect(exitCodeFor(s)).toBe(0);
    expect(formatSummary(s)).toMatch(/every confirmed message was received/);
  });

  it("fails, with examples, when a confirmed message is missing", () => {
    const s = scenario([0, 2]);
    expect(s.ok).toBe(false);
    expect(s.loss.lost).toBe(2);
    expect(s.loss.examples).toEqual([
      { producer: 0, queue: 0, sequence: 1 },
      { producer: 0, queue: 0, sequence: 3 },
    ]);
    expect(exitCodeFor(s)).toBe(1);
    expect(formatSummary(s)).toMatch(/LOST 2 confirmed message\(s\), e\.g\. producer 0 seq 1 queue #1/);
  });

  it("does not check without confirms", () => {
    const options = resolveOptions({ countPerProducer: 2 });
    const ledger = new LossLedger([[0]], new Set([0]));
    ledger.onSent(0, 0);
    ledger.onSent(0, 1);
    const s = buildSummary(options, new PerfStats(0), ledger, { producersDoneAtMs: 1, endedAtMs: 2 });
    expect(s.loss.checked).toBe(false);
    expect(s.loss.notReceived).toBe(2);
    expect(exitCodeFor(s)).toBe(0);
    expect(formatSummary(s)).toMatch(/not checked \(no confirms\); 2 sent but not received/);
  });

  it("leaves the warm-up out of rates and latencies but not out of the counts and the loss check", () => {
    const options = resolveOptions({ durationS: 2, warmupS: 1, confirmWindow: 10 });
    const stats = new PerfStats(0);
    stats.markStart(0, true);
    const ledger = new LossLedger([[0]], new Set([0]));
    const publish = (seq: number, latencyUs: number) => {
      ledger.onSent(0, seq);
      stats.onSent();
      ledger.onConfirmed(0, seq);
      stats.onConfirmed(latencyUs);
      ledger.onReceived(0, 0, seq);
      stats.onReceived(latencyUs);
    };
    // Warm-up: 6 slow messages.
    for (let seq = 0; seq < 6; seq++) publish(seq, 90_000);
    expect(formatTick(stats.snapshot(1000))).toMatch(/\(warm-up\)$/);
    stats.beginMeasurement(1000);
    // Measured: 4 fast messages in the 2 s that follow.
    for (let seq = 6; seq < 10; seq++) publish(seq, 1000);
    stats.lastSentAtMs = 3000;
    stats.lastConfirmedAtMs = 3000;
    stats.lastReceivedAtMs = 3000;
    expect(formatTick(stats.snapshot(2000))).not.toMatch(/warm-up/);
    const s = buildSummary(options, stats, ledger, { producersDoneAtMs: 3000, endedAtMs: 3000 });
    expect(s.settings.warmupS).toBe(1);
    expect(s.counts).toMatchObject({ sent: 10, confirmed: 10, received: 10 });
    expect(s.rates).toEqual({ sentPerS: 2, confirmedPerS: 2, receivedPerS: 2 });
    expect(s.latencyMs).toMatchObject({ samples: 4, p99Ms: 1 });
    expect(s.confirmLatencyMs).toMatchObject({ samples: 4, maxMs: 1 });
    expect(s.loss).toMatchObject({ checked: true, lost: 0 });
    expect(formatSummary(s)).toMatch(/the first 1 s a warm-up left out of rates and latencies/);
  });

  it("gives a zero rate for an empty period", () => {
    expect(ratePerS(10, undefined)).toBe(0);
    expect(ratePerS(10, 0)).toBe(0);
    expect(ratePerS(10, 500)).toBe(20);
  });

  it("prints a per-second line from an interval snapshot", () => {
    const stats = new PerfStats(0);
    for (let i = 0; i < 3; i++) stats.onSent();
    stats.onReceived(2500);
    const line = formatTick(stats.snapshot(2000));
    expect(line).toMatch(
      /^ {3}2s {2}sent {7}2\/s {2}confirmed {7}0\/s {2}received {7}1\/s {2}latency p50 2\.500 ms p99 2\.500 ms$/,
    );
    // The next interval starts from zero.
    expect(stats.snapshot(3000)).toMatchObject({ sent: 0, received: 0, latencyP50Us: 0 });
  });
});
