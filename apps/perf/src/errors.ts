/**
 * The one error class of @leveret/perf. Every failure the tool reports carries a stable `code` so that
 * scripts (and the bench runner) can tell a usage mistake from a broker that went away.
 *
 * Does not cover message loss: a run that loses confirmed messages completes and says so in its
 * summary (and in the exit code); loss is a measurement, not a crash of the tool.
 */

export const PerfErrorCode = {
  /** A flag is missing, malformed or out of range. */
  usage: "PERF_USAGE",
  /** Could not connect, or a connection dropped during the run. */
  connection: "PERF_CONNECTION",
  /** The broker closed a channel (e.g. 406 PRECONDITION_FAILED on a queue declare). */
  channel: "PERF_CHANNEL",
} as const;

export type PerfErrorCode = (typeof PerfErrorCode)[keyof typeof PerfErrorCode];

export class PerfError extends Error {
  readonly code: PerfErrorCode;

  constructor(code: PerfErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PerfError";
    this.code = code;
  }
}
