import { describe, expect, it } from "vitest";
import { formatComparisonTable, type Outcome } from "../bench/comparison-table.js";
import { parseDfLine } from "../bench/machine-info.js";
import { formatRounds, medianOutcome } from "../bench/rounds.js";
import { SCENARIOS } from "../bench/scenarios.js";
import type { PerfSummary } from "../src/summary.js";

function summary(receivedPerS: number, p99Ms: number, lost = 0): PerfSummary {
  const latency = { samples: 1, p50Ms: 1, p95Ms: 1, p99Ms, maxMs: p99Ms, meanMs: 1 };
  return {
    url: "amqp://x",
    settings: {
      producers: 1,
      consumers: 1,
      sizeBytes: 1024,
      persistent: true,
      confirmWindow: 100,
      prefetch: 100,
      autoAck: false,
      queues: 1,
      queueArgs: {},
      exchangeType: "direct",
      durationS: 10,
      warmupS: 5,
      countPerProducer: null,
      ratePerS: 0,
    },
    elapsedS: 10,
    publishS: 10,
    counts: {
      sent: 1,
      confirmed: 1,
      nacked: 0,
      returned: 0,
      received: 1,
      duplicates: 0,
      redelivered: 0,
      ignored: 0,
    },
    rates: { sentPerS: 0, confirmedPerS: receivedPerS, receivedPerS },
    latencyMs: latency,
    confirmLatencyMs: latency,
    loss: { checked: true, lost, examples: [], notReceived: 0 },
    ok: lost === 0,
  };
}

describe("bench comparison table", () => {
  it("puts each figure side by side with the Leveret/RabbitMQ ratio", () => {
    const outcomes: Record<string, Outcome> = {
      "2/Leveret": { kind: "done", summary: summary(12_000, 5) },
      "2/RabbitMQ": { kind: "done", summary: summary(8_000, 10) },
    };
    const table = formatComparisonTable({
      scenarios: SCENARIOS.filter((s) => s.id === "2"),
      targets: ["Leveret", "RabbitMQ"],
      baseline: "Leveret",
      outcome: (id, target) => outcomes[`${id}/${target}`],
    });
    expect(table.split("\n")).toEqual([
      "| scenario | figure | Leveret | RabbitMQ | Leveret/RabbitMQ |",
      "| --- | --- | --- | --- | --- |",
      "| 2 | received msg/s | 12,000 | 8,000 | 1.50x |",
      "| 2 | latency p99 ms | 5.00 | 10.00 | 0.50x |",
    ]);
  });

  it("shows failures and losses instead of figures, with the reasons under the table", () => {
    const outcomes: Record<string, Outcome> = {
      "3/Leveret": { kind: "failed", reason: "could not start Leveret" },
      "3/RabbitMQ": { kind: "done", summary: summary(8_000, 10, 3) },
    };
    const table = formatComparisonTable({
      scenarios: SCENARIOS.filter((s) => s.id === "3"),
      targets: ["Leveret", "RabbitMQ"],
      baseline: "Leveret",
      outcome: (id, target) => outcomes[`${id}/${target}`],
    });
    expect(table).toContain("| 3 | received msg/s | failed [1] | LOST 3 confirmed | n/a |");
    expect(table).toContain("[1] could not start Leveret");
  });

  it("has no ratio columns without the baseline", () => {
    const table = formatComparisonTable({
      scenarios: SCENARIOS.filter((s) => s.id === "3"),
      targets: ["RabbitMQ"],
      baseline: "Leveret",
      outcome: () => ({ kind: "done", summary: summary(1234.6, 1) }),
    });
    expect(table.split("\n")[2]).toBe("| 3 | received msg/s | 1,235 |");
  });

  it("shows the median round of a cell, and never the flattering side of an even count", () => {
    const received = SCENARIOS.find((s) => s.id === "2")!.metrics[0]!;
    const p99 = SCENARIOS.find((s) => s.id === "2")!.metrics[1]!;
    const runs: Outcome[] = [30_000, 10_000, 20_000].map((rate) => ({
      kind: "done",
      summary: summary(rate, rate / 1000),
    }));
    const pick = (outcomes: Outcome[], metric = received) => {
      const chosen = medianOutcome(outcomes, metric);
      return chosen?.kind === "done" ? metric.pick(chosen.summary) : chosen?.kind;
    };
    expect(pick(runs)).toBe(20_000);
    // Of 10k and 30k, throughput shows the lower; a latency shows the higher.
    expect(pick([runs[0]!, runs[1]!])).toBe(10_000);
    expect(pick([runs[0]!, runs[1]!], p99)).toBe(30);
    expect(medianOutcome([], received)).toBeUndefined();
  });

  it("never lets good rounds outvote a failed or lossy one", () => {
    const received = SCENARIOS[1]!.metrics[0]!;
    const good: Outcome = { kind: "done", summary: summary(20_000, 1) };
    const lossy: Outcome = { kind: "done", summary: summary(25_000, 1, 2) };
    const failed: Outcome = { kind: "failed", reason: "boom" };
    expect(medianOutcome([good, lossy, good], received)).toBe(lossy);
    expect(medianOutcome([good, good, failed], received)).toBe(failed);
  });

  it("lists every round's figure per target, in round order", () => {
    const received = SCENARIOS[1]!.metrics[0]!;
    const line = formatRounds(received, [
      {
        target: "Leveret",
        outcomes: [12_000, 11_500].map((r) => ({ kind: "done", summary: summary(r, 1) })),
      },
      {
        target: "RabbitMQ",
        outcomes: [
          { kind: "failed", reason: "x" },
          { kind: "done", summary: summary(5_000.4, 1) },
        ],
      },
    ]);
    expect(line).toBe("Leveret 12,000 / 11,500; RabbitMQ failed / 5,000");
  });

  it("names the filesystem from a df -PT line", () => {
    expect(parseDfLine("/dev/vda       ext4   264212084 23032012  83358900      22% /")).toEqual({
      device: "/dev/vda",
      fsType: "ext4",
      mountPoint: "/",
    });
    expect(parseDfLine("garbage")).toBeUndefined();
  });
});
