/**
 * Repeated rounds of the bench: which of a cell's runs the table shows, and the line that lists every
 * round's figure, so that a reader sees the spread and not only the pick.
 *
 * A machine shared by broker and load generator (and a VM's disk) varies from run to run by more than
 * the differences worth measuring; one run per cell can land on a lucky or unlucky moment for either
 * broker. The runner alternates the targets within each round, and the table shows, per cell, the run
 * whose headline figure is the median of its rounds (the lower one of the middle two for an even count
 * of a figure where higher is better: never the flattering side).
 *
 * Does not run anything; pure selection and formatting.
 */
import { figureOf, grouped, type Outcome } from "./comparison-table.js";
import type { Metric } from "./scenarios.js";

/**
 * The outcome the table shows for one cell: a failed run or one that lost messages if there is one
 * (a failure is never outvoted), else the run with the median `metric`. Undefined for no runs.
 */
export function medianOutcome(outcomes: readonly Outcome[], metric: Metric): Outcome | undefined {
  const bad = outcomes.find((o) => o.kind === "failed" || o.summary.loss.lost > 0);
  if (bad !== undefined) return bad;
  const measured = outcomes.filter((o) => figureOf(o, metric) !== undefined);
  if (measured.length === 0) return outcomes[0];
  const ascending = [...measured].sort(
    (a, b) => (figureOf(a, metric) as number) - (figureOf(b, metric) as number),
  );
  const middle = (ascending.length - 1) / 2;
  return ascending[metric.higherIsBetter ? Math.floor(middle) : Math.ceil(middle)];
}

/** "Leveret 45,100 / 47,200 / 43,000; RabbitMQ quorum 18,000 / 19,500 / 17,800" (in round order). */
export function formatRounds(
  metric: Metric,
  runs: readonly { target: string; outcomes: readonly Outcome[] }[],
): string {
  const format = grouped(metric.decimals);
  return runs
    .map(({ target, outcomes }) => {
      const figures = outcomes.map((o) => {
        const value = figureOf(o, metric);
        return value === undefined ? (o.kind === "failed" ? "failed" : "n/a") : format.format(value);
      });
      return `${target} ${figures.join(" / ")}`;
    })
    .join("; ");
}
