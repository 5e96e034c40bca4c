/**
 * Message TTL: reading the `expiration` property (RabbitMQ's rules and error texts), the moment a
 * message expires on a queue (the smaller of the queue's x-message-ttl and the message's own, counted
 * from when it entered that queue), and ExpiryTimer, the one timer a queue keeps for its earliest
 * expiry so that expired messages are dead-lettered even when nobody consumes.
 *
 * Not here: which messages expire (the queue drops them at the heads of its ready list, as RabbitMQ's
 * classic queues do), dead-lettering itself.
 */
import { preconditionFailed } from "./errors.js";
import { MAX_EXPIRY_MS } from "./queue-arguments.js";

/** Node's setTimeout holds at most this delay (a signed 32-bit count of ms); longer waits re-arm. */
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

const LEADING_INTEGER = /^[+-]?[0-9]+/;

/**
 * The TTL a publisher asked for in the `expiration` property, in ms. Throws PRECONDITION_FAILED (406)
 * with RabbitMQ's text for anything but a decimal integer in 0..MAX_EXPIRY_MS (Erlang's
 * string:to_integer rules: an optional sign, digits, nothing after).
 */
export function parseExpiration(expiration: string): number {
  const invalid = (reason: string) => preconditionFailed(`invalid expiration '${expiration}': ${reason}`);
  const match = LEADING_INTEGER.exec(expiration);
  if (!match) throw invalid("no_integer");
  const digits = match[0];
  if (digits.length < expiration.length) {
    throw invalid(`{leftover_string,"${expiration.slice(digits.length)}"}`);
  }
  const value = BigInt(digits);
  if (value < 0n) throw invalid(`{value_negative,${value}}`);
  if (value > BigInt(MAX_EXPIRY_MS)) throw invalid(`{value_too_large,${value}}`);
  return Number(value);
}

/** Like parseExpiration, but never throws: an unreadable value (already refused at publish) means none. */
export function expirationMsOf(expiration: string | undefined): number | undefined {
  if (expiration === undefined) return undefined;
  try {
    return parseExpiration(expiration);
  } catch {
    return undefined;
  }
}

/** When a message entering a queue now expires there; undefined when it never does. */
export function expiresAtMs(
  nowMs: number,
  queueTtlMs: number | undefined,
  expiration: string | undefined,
): number | undefined {
  const messageTtlMs = expirationMsOf(expiration);
  if (queueTtlMs === undefined && messageTtlMs === undefined) return undefined;
  return nowMs + Math.min(queueTtlMs ?? Number.POSITIVE_INFINITY, messageTtlMs ?? Number.POSITIVE_INFINITY);
}

/**
 * A message is expired once its TTL has fully run out, i.e. strictly after its expiry instant: a TTL of
 * 0 still lets a message go to a consumer that is ready in the same millisecond (RabbitMQ's rule).
 */
export function isExpired(expiresAt: number | undefined, nowMs: number): boolean {
  return expiresAt !== undefined && expiresAt < nowMs;
}

/**
 * One timer per queue, aimed at the earliest expiry among its ready heads. Re-arming for the same
 * instant is free, so a queue can call arm() after every change without churning timers. Timers are
 * unref'd: a pending expiry never keeps the process alive.
 */
export class ExpiryTimer {
  private timer: NodeJS.Timeout | undefined;
  private armedAtMs: number | undefined;

  constructor(private readonly onDue: () => void) {}

  /** Fires onDue once the message expiring at `expiresAt` counts as expired; undefined disarms. */
  arm(expiresAt: number | undefined, nowMs: number): void {
    if (expiresAt === this.armedAtMs && this.timer !== undefined) return;
    this.stop();
    if (expiresAt === undefined) return;
    this.armedAtMs = expiresAt;
    const delayMs = Math.min(Math.max(expiresAt - nowMs + 1, 0), MAX_TIMER_DELAY_MS);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.armedAtMs = undefined;
      this.onDue();
    }, delayMs);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedAtMs = undefined;
  }
}
