/**
 * Queue arguments (`x-message-ttl`, `x-max-length`, `x-dead-letter-exchange`, `x-queue-type`, …):
 * checking them on queue.declare the way RabbitMQ 3.10 does, with its error texts; reading them into
 * the settings a queue runs with; and the equivalence rule for a re-declare.
 *
 * RabbitMQ's order of checks, which decides which error a client sees first: the queue type; then the
 * values of the arguments that type supports, in RabbitMQ's fixed order (not the table's); then
 * arguments the type does not support; then the flags the type forbids (quorum queues: auto-delete,
 * exclusive, non-durable). Unknown `x-` arguments are accepted and ignored, as RabbitMQ does.
 *
 * Pure: no queue state, no timers, no buffers kept. Argument tables hold the plain values the AMQP
 * adapter produced, so wire types are gone; where RabbitMQ names a wire type in an error text, the
 * name is inferred from the value (integers get the smallest signed type that holds them, which is
 * what amqplib sends).
 */
import { Buffer } from "node:buffer";
import { preconditionFailed } from "./errors.js";

export type QueueType = "classic" | "quorum";
export type OverflowBehaviour = "drop-head" | "reject-publish" | "reject-publish-dlx";

/** What a queue runs with; undefined means "no limit" / "not set". */
export interface QueueSettings {
  readonly type: QueueType;
  readonly messageTtlMs: number | undefined;
  /** x-expires: the queue is deleted after being unused this long. */
  readonly expiresMs: number | undefined;
  readonly maxLength: number | undefined;
  readonly maxLengthBytes: number | undefined;
  readonly overflow: OverflowBehaviour;
  readonly deadLetterExchange: string | undefined;
  readonly deadLetterRoutingKey: string | undefined;
  readonly maxPriority: number | undefined;
  readonly singleActiveConsumer: boolean;
  /** Quorum queues: a message returned more often than this is dead-lettered (reason delivery_limit). */
  readonly deliveryLimit: number | undefined;
  /** x-queue-mode=lazy: accepted; bodies are kept as the store keeps them either way. */
  readonly lazy: boolean;
}

export interface QueueFlags {
  durable: boolean;
  exclusive: boolean;
  autoDelete: boolean;
  /** The client asked for a server-named queue (empty name). */
  serverNamed: boolean;
}

/** RabbitMQ's ceiling for x-message-ttl, x-expires and the expiration property: ten years. */
export const MAX_EXPIRY_MS = 315_360_000_000;
export const MAX_PRIORITY = 255;

const OVERFLOW_VALUES: readonly string[] = ["drop-head", "reject-publish", "reject-publish-dlx"];
const QUEUE_MODES: readonly string[] = ["default", "lazy"];
const DLX_STRATEGIES: readonly string[] = ["at-most-once", "at-least-once"];

type Check = (value: unknown, args: Readonly<Record<string, unknown>>) => string | undefined;

/** RabbitMQ's declare-time value checks, in the order RabbitMQ runs them. */
const VALUE_CHECKS: ReadonlyArray<readonly [string, Check]> = [
  ["x-expires", (v) => checkExpiry(v, false)],
  ["x-message-ttl", (v) => checkExpiry(v, true)],
  ["x-dead-letter-exchange", () => undefined], // its type error has its own text, see checkDeadLetterExchange
  ["x-dead-letter-routing-key", checkDeadLetterRoutingKey],
  ["x-max-length", checkNonNegativeInteger],
  ["x-max-length-bytes", checkNonNegativeInteger],
  ["x-max-in-memory-length", checkNonNegativeInteger],
  ["x-max-in-memory-bytes", checkNonNegativeInteger],
  ["x-max-priority", checkMaxPriority],
  ["x-overflow", (v) => checkEnum(v, OVERFLOW_VALUES, () => "invalid_overflow")],
  ["x-queue-mode", (v) => checkEnum(v, QUEUE_MODES, (s) => `"unsupported queue mode '${s}'"`)],
  ["x-single-active-consumer", (v) => (typeof v === "boolean" ? undefined : unacceptableType(v))],
  ["x-quorum-initial-group-size", checkPositiveInteger],
  ["x-dead-letter-strategy", (v) => checkEnum(v, DLX_STRATEGIES, () => "invalid_dlx_strategy")],
];

/** Arguments RabbitMQ knows, per queue type; a known argument outside its type's list is refused. */
const CLASSIC_ARGUMENTS: readonly string[] = [
  "x-expires",
  "x-message-ttl",
  "x-dead-letter-exchange",
  "x-dead-letter-routing-key",
  "x-max-length",
  "x-max-length-bytes",
  "x-max-priority",
  "x-overflow",
  "x-queue-mode",
  "x-single-active-consumer",
  "x-queue-type",
  "x-queue-master-locator",
];
const QUORUM_ARGUMENTS: readonly string[] = [
  "x-expires",
  "x-message-ttl",
  "x-dead-letter-exchange",
  "x-dead-letter-routing-key",
  "x-dead-letter-strategy",
  "x-max-length",
  "x-max-length-bytes",
  "x-max-in-memory-length",
  "x-max-in-memory-bytes",
  "x-overflow",
  "x-single-active-consumer",
  "x-queue-type",
  "x-quorum-initial-group-size",
  "x-delivery-limit",
  "x-queue-leader-locator",
];
const STREAM_ONLY_ARGUMENTS: readonly string[] = [
  "x-max-age",
  "x-stream-max-segment-size-bytes",
  "x-initial-cluster-size",
];
const KNOWN_ARGUMENTS = new Set([...CLASSIC_ARGUMENTS, ...QUORUM_ARGUMENTS, ...STREAM_ONLY_ARGUMENTS]);

/** The arguments compared when a queue is declared again (RabbitMQ ignores the others). */
const EQUIVALENCE_KEYS: readonly string[] = [...KNOWN_ARGUMENTS].filter(
  (key) => key !== "x-queue-master-locator",
);

/**
 * Checks a new queue's declaration; throws PRECONDITION_FAILED (406) with RabbitMQ's text for the first
 * problem found. Not for passive declares or re-declares (those compare, see assertQueueArgumentsEquivalent).
 */
export function validateQueueDeclaration(
  queue: string,
  vhost: string,
  args: Readonly<Record<string, unknown>>,
  flags: QueueFlags,
): void {
  const invalidArg = (key: string, reason: string) =>
    preconditionFailed(`invalid arg '${key}' for queue '${queue}' in vhost '${vhost}': ${reason}`);
  const typeValue = args["x-queue-type"];
  if (typeValue !== undefined) {
    if (typeof typeValue !== "string") throw invalidArg("x-queue-type", unacceptableType(typeValue));
    if (typeValue !== "classic" && typeValue !== "quorum") {
      throw invalidArg("x-queue-type", `"unsupported queue type '${typeValue}'"`);
    }
  }
  const type: QueueType = typeValue === "quorum" ? "quorum" : "classic";
  if (type === "quorum" && flags.serverNamed) {
    throw preconditionFailed("Cannot declare a server-named queue for type rabbit_quorum_queue");
  }
  const supported = type === "quorum" ? QUORUM_ARGUMENTS : CLASSIC_ARGUMENTS;
  for (const [key, check] of VALUE_CHECKS) {
    const value = args[key];
    if (value === undefined || !supported.includes(key)) continue;
    if (key === "x-dead-letter-exchange" && typeof value !== "string") {
      throw preconditionFailed(
        `invalid type '${fieldTypeName(value)}' for arg '${key}' in queue '${queue}' in vhost '${vhost}'`,
      );
    }
    const problem = check(value, args);
    if (problem !== undefined) throw invalidArg(key, problem);
  }
  for (const key of Object.keys(args)) {
    if (KNOWN_ARGUMENTS.has(key) && !supported.includes(key)) {
      throw preconditionFailed(
        `invalid arg '${key}' for queue '${queue}' in vhost '${vhost}' of queue type rabbit_${type}_queue`,
      );
    }
  }
  if (type === "quorum") {
    const property = flags.autoDelete
      ? "auto-delete"
      : flags.exclusive
        ? "exclusive-owner"
        : !flags.durable
          ? "non-durable"
          : undefined;
    if (property)
      throw preconditionFailed(`invalid property '${property}' for queue '${queue}' in vhost '${vhost}'`);
  }
}

/** Reads validated (or recovered) arguments; values of the wrong shape are ignored, never guessed at. */
export function queueSettings(args: Readonly<Record<string, unknown>>): QueueSettings {
  const type: QueueType = args["x-queue-type"] === "quorum" ? "quorum" : "classic";
  const overflow = args["x-overflow"];
  const dlx = args["x-dead-letter-exchange"];
  const dlrk = args["x-dead-letter-routing-key"];
  const maxPriority = integerOf(args["x-max-priority"]);
  const deliveryLimit = integerOf(args["x-delivery-limit"]);
  return {
    type,
    messageTtlMs: integerOf(args["x-message-ttl"]),
    expiresMs: integerOf(args["x-expires"]),
    maxLength: integerOf(args["x-max-length"]),
    maxLengthBytes: integerOf(args["x-max-length-bytes"]),
    overflow:
      typeof overflow === "string" && OVERFLOW_VALUES.includes(overflow)
        ? (overflow as OverflowBehaviour)
        : "drop-head",
    deadLetterExchange: typeof dlx === "string" ? dlx : undefined,
    deadLetterRoutingKey: typeof dlx === "string" && typeof dlrk === "string" ? dlrk : undefined,
    maxPriority:
      maxPriority !== undefined && type === "classic" ? Math.min(maxPriority, MAX_PRIORITY) : undefined,
    singleActiveConsumer: args["x-single-active-consumer"] === true,
    // RabbitMQ 3.10 does not check x-delivery-limit's value; anything but a non-negative integer means none.
    deliveryLimit:
      type === "quorum" && deliveryLimit !== undefined && deliveryLimit >= 0 ? deliveryLimit : undefined,
    lazy: args["x-queue-mode"] === "lazy",
  };
}

/**
 * RabbitMQ's re-declare rule for queue arguments: only the arguments it knows are compared (an unknown
 * `x-foo` may differ); numbers compare by value whatever their wire type; a missing x-queue-type means
 * classic.
 */
export function assertQueueArgumentsEquivalent(
  queue: string,
  vhost: string,
  received: Readonly<Record<string, unknown>>,
  current: Readonly<Record<string, unknown>>,
): void {
  for (const key of EQUIVALENCE_KEYS) {
    const got = received[key];
    const have = current[key];
    if (sameArgumentValue(got, have)) continue;
    if (key === "x-queue-type" && (got ?? "classic") === (have ?? "classic")) continue;
    const prefix = `inequivalent arg '${key}' for queue '${queue}' in vhost '${vhost}'`;
    let detail: string;
    if (got === undefined)
      detail = `received none but current is the value '${show(have)}' of type '${fieldTypeName(have)}'`;
    else if (have === undefined)
      detail = `received the value '${show(got)}' of type '${fieldTypeName(got)}' but current is none`;
    else detail = `received '${show(got)}' but current is '${show(have)}'`;
    throw preconditionFailed(`${prefix}: ${detail}`);
  }
}

/**
 * The AMQP field type RabbitMQ would name for a plain value. Integers get the smallest signed type that
 * holds them (amqplib's choice when it encodes a JS number); other clients may have sent a wider type.
 */
export function fieldTypeName(value: unknown): string {
  switch (typeof value) {
    case "string":
      return "longstr";
    case "boolean":
      return "bool";
    case "bigint":
      return "long";
    case "number":
      if (!Number.isInteger(value)) return "double";
      if (value >= -0x80 && value < 0x80) return "byte";
      if (value >= -0x8000 && value < 0x8000) return "short";
      if (value >= -0x8000_0000 && value < 0x8000_0000) return "signedint";
      return "long";
    default:
      if (value === null || value === undefined) return "void";
      if (Buffer.isBuffer(value)) return "binary";
      if (Array.isArray(value)) return "array";
      if (isDecimal(value)) return "decimal";
      return "table";
  }
}

/** Whether a queue holding `length` ready messages of `bodyBytes` is over its x-max-length(-bytes). */
export function isOverLimit(settings: QueueSettings, length: number, bodyBytes: number): boolean {
  return (
    (settings.maxLength !== undefined && length > settings.maxLength) ||
    (settings.maxLengthBytes !== undefined && bodyBytes > settings.maxLengthBytes)
  );
}

/** A finite integer value (number or bigint) as a number, or undefined. */
export function integerOf(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isInteger(value) ? value : undefined;
  if (typeof value === "bigint") return Number(value);
  return undefined;
}

// ---- the individual checks (each returns RabbitMQ's reason text, or undefined when fine) ----

function checkInteger(value: unknown): string | undefined {
  if (integerOf(value) !== undefined) return undefined;
  return `"expected integer, got ${fieldTypeName(value)}"`;
}

function checkNonNegativeInteger(value: unknown): string | undefined {
  const problem = checkInteger(value);
  if (problem) return problem;
  return (integerOf(value) as number) < 0 ? `{value_negative,${show(value)}}` : undefined;
}

function checkPositiveInteger(value: unknown): string | undefined {
  const problem = checkNonNegativeInteger(value);
  if (problem) return problem;
  return integerOf(value) === 0 ? `{value_zero,${show(value)}}` : undefined;
}

function checkExpiry(value: unknown, zeroAllowed: boolean): string | undefined {
  const problem = zeroAllowed ? checkNonNegativeInteger(value) : checkPositiveInteger(value);
  if (problem) return problem;
  return (integerOf(value) as number) > MAX_EXPIRY_MS ? `{value_too_large,${show(value)}}` : undefined;
}

function checkMaxPriority(value: unknown): string | undefined {
  const problem = checkNonNegativeInteger(value);
  if (problem) return problem;
  return (integerOf(value) as number) > MAX_PRIORITY ? `{max_value_exceeded,${show(value)}}` : undefined;
}

function checkDeadLetterRoutingKey(
  value: unknown,
  args: Readonly<Record<string, unknown>>,
): string | undefined {
  if (typeof value !== "string") return unacceptableType(value);
  return args["x-dead-letter-exchange"] === undefined ? "routing_key_but_no_dlx_defined" : undefined;
}

function checkEnum(
  value: unknown,
  allowed: readonly string[],
  invalid: (value: string) => string,
): string | undefined {
  if (typeof value !== "string") return unacceptableType(value);
  return allowed.includes(value) ? undefined : invalid(value);
}

function unacceptableType(value: unknown): string {
  return `{unacceptable_type,${fieldTypeName(value)}}`;
}

function isDecimal(value: unknown): boolean {
  return typeof value === "object" && value !== null && "scale" in value && "value" in value;
}

function sameArgumentValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const numberA = integerOf(a) ?? (typeof a === "number" ? a : undefined);
  const numberB = integerOf(b) ?? (typeof b === "number" ? b : undefined);
  if (numberA !== undefined && numberB !== undefined) return numberA === numberB;
  if (typeof a === "object" && typeof b === "object" && a !== null && b !== null) {
    return JSON.stringify(a, jsonSafe) === JSON.stringify(b, jsonSafe);
  }
  return false;
}

function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

function show(value: unknown): string {
  if (typeof value === "object" && value !== null) return JSON.stringify(value, jsonSafe);
  return String(value);
}
