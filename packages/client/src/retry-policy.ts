/**
 * Delayed retries with the broker's own machinery, no timers in the client:
 *
 *   queue Q  --(handler throws: nack, requeue=false; Q's DLX)-->  Q.retry (x-message-ttl = delayMs)
 *   Q.retry  --(TTL expires; Q.retry's DLX)-------------------->  Q        (x-death records both hops)
 *   Q        --(last attempt failed: the client republishes)--->  Q.dead   (then acks the original)
 *
 * The attempt number is read from the broker-written `x-death` header (how often Q rejected the
 * message), so it survives client restarts and needs no state. This module computes names, queue
 * arguments and attempt numbers; it does not declare or publish anything itself.
 */
import { InvalidArgumentError } from "./errors.js";
import type { QueueDeclaration } from "./topology.js";

export interface RetryOptions {
  /** Handler runs per message, the first included; after the last failure it goes to the dead-letter queue. */
  maxAttempts: number;
  /** How long a failed message waits in the retry queue before it is delivered again. */
  delayMs: number;
  /** Default `${queue}.retry`. */
  retryQueue?: string;
  /** Default `${queue}.dead`. */
  deadLetterQueue?: string;
}

export interface RetryPlan {
  readonly queue: string;
  readonly retryQueue: string;
  readonly deadLetterQueue: string;
  readonly maxAttempts: number;
  readonly delayMs: number;
}

export function retryPlan(queue: string, options: RetryOptions): RetryPlan {
  if (!(Number.isInteger(options.maxAttempts) && options.maxAttempts >= 1)) {
    throw new InvalidArgumentError(`retry.maxAttempts must be an integer >= 1, got ${options.maxAttempts}`);
  }
  if (!(Number.isInteger(options.delayMs) && options.delayMs >= 0)) {
    throw new InvalidArgumentError(`retry.delayMs must be an integer >= 0, got ${options.delayMs}`);
  }
  if (queue === "") throw new InvalidArgumentError("retries need a named queue");
  return {
    queue,
    retryQueue: options.retryQueue ?? `${queue}.retry`,
    deadLetterQueue: options.deadLetterQueue ?? `${queue}.dead`,
    maxAttempts: options.maxAttempts,
    delayMs: options.delayMs,
  };
}

/**
 * The three queues of a plan. The main queue keeps the caller's own durability and arguments, with
 * its dead-letter target pointed at the retry queue (through the default exchange, which every
 * broker has, so no extra exchange is needed).
 */
export function retryQueues(plan: RetryPlan, main: Omit<QueueDeclaration, "name"> = {}): QueueDeclaration[] {
  const durable = main.durable ?? true;
  return [
    {
      ...main,
      name: plan.queue,
      durable,
      arguments: {
        ...main.arguments,
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": plan.retryQueue,
      },
    },
    {
      name: plan.retryQueue,
      durable,
      arguments: {
        "x-message-ttl": plan.delayMs,
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": plan.queue,
      },
    },
    { name: plan.deadLetterQueue, durable },
  ];
}

/** How many times `queue` rejected this message so far, from the x-death header (0 if none). */
export function rejectionCount(
  headers: Readonly<Record<string, unknown>> | undefined,
  queue: string,
): number {
  const deaths = headers?.["x-death"];
  if (!Array.isArray(deaths)) return 0;
  let count = 0;
  for (const death of deaths) {
    if (typeof death !== "object" || death === null) continue;
    const entry = death as Record<string, unknown>;
    if (entry.queue !== queue || entry.reason !== "rejected") continue;
    const n = typeof entry.count === "bigint" ? Number(entry.count) : entry.count;
    // An entry without a count is one death (brokers before x-death counts wrote one entry each).
    count += typeof n === "number" && Number.isFinite(n) && n > 0 ? n : 1;
  }
  return count;
}
