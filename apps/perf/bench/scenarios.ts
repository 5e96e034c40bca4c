/**
 * The standard whole-broker scenarios, as leveret-perf flags, and the figure each one is judged by.
 * Every scenario names its message size, persistence and confirm setting in its title, so a figure is
 * never printed without them.
 *
 * Does not run anything (run-scenarios.ts does).
 */
import type { PerfSummary } from "@leveret/perf";

export interface Metric {
  label: string;
  /** Whether a bigger number is better (throughput) or worse (latency). */
  higherIsBetter: boolean;
  pick(summary: PerfSummary): number | undefined;
  /** Digits after the point when printed. */
  decimals: number;
}

export interface Scenario {
  id: string;
  title: string;
  /** leveret-perf flags, without --url, --duration and --queue-args (the runner adds those). */
  flags: string[];
  metrics: Metric[];
}

const receivedPerS: Metric = {
  label: "received msg/s",
  higherIsBetter: true,
  pick: (s) => s.rates.receivedPerS,
  decimals: 0,
};

export const SCENARIOS: readonly Scenario[] = [
  {
    id: "1",
    title: "persistent publish: 1 producer, 1 KB, confirm window 100, no consumer",
    flags: ["--producers", "1", "--consumers", "0", "--size", "1024", "--persistent", "--confirm", "100"],
    metrics: [
      { label: "confirmed msg/s", higherIsBetter: true, pick: (s) => s.rates.confirmedPerS, decimals: 0 },
      {
        label: "confirm p99 ms",
        higherIsBetter: false,
        pick: (s) => s.confirmLatencyMs?.p99Ms,
        decimals: 2,
      },
    ],
  },
  {
    id: "2",
    title:
      "persistent end to end: 1 producer, 1 consumer, manual ack, prefetch 100, 1 KB, confirm window 100",
    flags: [
      ...["--producers", "1", "--consumers", "1", "--size", "1024", "--persistent"],
      ...["--confirm", "100", "--prefetch", "100"],
    ],
    metrics: [
      receivedPerS,
      { label: "latency p99 ms", higherIsBetter: false, pick: (s) => s.latencyMs?.p99Ms, decimals: 2 },
    ],
  },
  {
    id: "3",
    title: "transient: 1 producer, 1 consumer, autoack, 1 KB, no confirms",
    flags: ["--producers", "1", "--consumers", "1", "--size", "1024", "--autoack", "--confirm", "0"],
    metrics: [receivedPerS],
  },
];
