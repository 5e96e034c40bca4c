/**
 * Reconnect delays: exponential growth from `initialDelayMs` by `factor`, capped at `maxDelayMs`,
 * spread by +/- `jitter` so that many clients cut off by one broker restart do not return in step.
 *
 * Does not sleep or schedule anything; the connection manager does. Pure, so tests pass their own
 * random source.
 */
import { InvalidArgumentError } from "./errors.js";

export interface BackoffOptions {
  /** Delay before the first retry. Default 100 ms. */
  initialDelayMs?: number;
  /** Upper bound of any delay, jitter included. Default 30 000 ms. */
  maxDelayMs?: number;
  /** Growth per attempt. Default 2. */
  factor?: number;
  /** Fraction (0..1) of the delay randomly added or removed. Default 0.2. */
  jitter?: number;
}

export interface Backoff {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly factor: number;
  readonly jitter: number;
}

export function normalizeBackoff(options: BackoffOptions = {}): Backoff {
  const backoff = {
    initialDelayMs: options.initialDelayMs ?? 100,
    maxDelayMs: options.maxDelayMs ?? 30_000,
    factor: options.factor ?? 2,
    jitter: options.jitter ?? 0.2,
  };
  if (!(backoff.initialDelayMs >= 0) || !Number.isFinite(backoff.initialDelayMs)) {
    throw new InvalidArgumentError(
      `reconnect.initialDelayMs must be a finite number >= 0, got ${backoff.initialDelayMs}`,
    );
  }
  if (!(backoff.maxDelayMs >= backoff.initialDelayMs) || !Number.isFinite(backoff.maxDelayMs)) {
    throw new InvalidArgumentError("reconnect.maxDelayMs must be finite and >= reconnect.initialDelayMs");
  }
  if (!(backoff.factor >= 1)) throw new InvalidArgumentError("reconnect.factor must be >= 1");
  if (!(backoff.jitter >= 0 && backoff.jitter <= 1))
    throw new InvalidArgumentError("reconnect.jitter must be in [0, 1]");
  return backoff;
}

/**
 * The delay before retry number `attempt` (1-based). The exponential base is capped at
 * maxDelayMs / (1 + jitter) so that the jittered value never exceeds maxDelayMs and the spread
 * stays intact once the cap is reached (clamping after jitter would pile half the clients onto
 * exactly maxDelayMs).
 */
export function backoffDelayMs(
  backoff: Backoff,
  attempt: number,
  random: () => number = Math.random,
): number {
  if (!Number.isInteger(attempt) || attempt < 1)
    throw new InvalidArgumentError(`attempt must be >= 1, got ${attempt}`);
  const cappedBaseMs = backoff.maxDelayMs / (1 + backoff.jitter);
  // factor ** n overflows to Infinity for large n; Infinity * 0 would be NaN, hence the zero case.
  const baseMs =
    backoff.initialDelayMs === 0
      ? 0
      : Math.min(cappedBaseMs, backoff.initialDelayMs * backoff.factor ** (attempt - 1));
  const spreadMs = baseMs * backoff.jitter;
  const delayMs = baseMs + (random() * 2 - 1) * spreadMs;
  return Math.max(0, Math.round(Math.min(delayMs, backoff.maxDelayMs)));
}
