/**
 * The side-by-side table of the bench runner, as Markdown (so it pastes straight into
 * docs/benchmarks.md): one row per scenario figure, one column per broker target, and after each
 * non-baseline target the ratio baseline/target (Leveret/RabbitMQ). For throughput a ratio above 1
 * favours the baseline; for latency, below 1 does.
 *
 * Does not run anything; pure formatting of outcomes handed in.
 */
import type { PerfSummary } from "@leveret/perf";
import type { Metric, Scenario } from "./scenarios.js";

export type Outcome =
  | { kind: "done"; summary: PerfSummary }
  /** The run failed or could not start: `reason` says why (an error code or message). */
  | { kind: "failed"; reason: string };

export interface TableInput {
  scenarios: readonly Scenario[];
  /** Column names, in order; the baseline among them gets no ratio column of its own. */
  targets: readonly string[];
  baseline: string;
  outcome(scenarioId: string, target: string): Outcome | undefined;
}

/** A number formatter with `decimals` digits and thousands separators, as every figure is printed. */
export const grouped = (decimals: number) =>
  new Intl.NumberFormat("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals });

/** The table, then one numbered note per distinct failure reason (cells say "failed [n]"). */
export function formatComparisonTable(input: TableInput): string {
  const { targets, baseline } = input;
  const reasons: string[] = [];
  const cell = (outcome: Outcome | undefined, metric: Metric) => cellText(outcome, metric, reasons);
  const hasBaseline = targets.includes(baseline);
  const header = ["scenario", "figure"];
  for (const target of targets) {
    header.push(target);
    if (hasBaseline && target !== baseline) header.push(`${baseline}/${target}`);
  }
  const rows = [header, header.map(() => "---")];
  for (const scenario of input.scenarios) {
    for (const metric of scenario.metrics) {
      const row = [scenario.id, metric.label];
      const base = hasBaseline ? figureOf(input.outcome(scenario.id, baseline), metric) : undefined;
      for (const target of targets) {
        const outcome = input.outcome(scenario.id, target);
        row.push(cell(outcome, metric));
        if (hasBaseline && target !== baseline) row.push(ratio(base, figureOf(outcome, metric)));
      }
      rows.push(row);
    }
  }
  const table = rows.map((cells) => `| ${cells.join(" | ")} |`);
  const notes = reasons.map((reason, i) => `[${i + 1}] ${reason}`);
  return [...table, ...(notes.length > 0 ? ["", ...notes] : [])].join("\n");
}

/** The figure of a run, or undefined for no run, a failed one, or one that lost messages. */
export function figureOf(outcome: Outcome | undefined, metric: Metric): number | undefined {
  if (outcome?.kind !== "done" || outcome.summary.loss.lost > 0) return undefined;
  return metric.pick(outcome.summary);
}

function cellText(outcome: Outcome | undefined, metric: Metric, reasons: string[]): string {
  if (outcome === undefined) return "not run";
  if (outcome.kind === "failed") {
    if (!reasons.includes(outcome.reason)) reasons.push(outcome.reason);
    return `failed [${reasons.indexOf(outcome.reason) + 1}]`;
  }
  if (outcome.summary.loss.lost > 0) return `LOST ${outcome.summary.loss.lost} confirmed`;
  const value = metric.pick(outcome.summary);
  return value === undefined ? "n/a" : grouped(metric.decimals).format(value);
}

function ratio(base: number | undefined, other: number | undefined): string {
  if (base === undefined || other === undefined || other === 0) return "n/a";
  return `${(base / other).toFixed(2)}x`;
}
