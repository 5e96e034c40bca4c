/**
 * The settings of one leveret-perf run, their defaults, and the checks that reject nonsense before a
 * single connection is opened. The CLI (cli.ts) turns flags into a PerfOptionsInput; library users call
 * resolveOptions() themselves.
 *
 * Does not parse command lines and does not touch the network.
 */
import { PerfError, PerfErrorCode } from "./errors.js";
import { HEADER_SIZE_BYTES, MAX_PRODUCER_INDEX, MAX_SEQUENCE } from "./message-body.js";

export type ExchangeType = "direct" | "fanout" | "topic";
export const EXCHANGE_TYPES: readonly ExchangeType[] = ["direct", "fanout", "topic"];

export interface PerfOptions {
  url: string;
  producers: number;
  consumers: number;
  sizeBytes: number;
  persistent: boolean;
  /** Outstanding unconfirmed publishes allowed per producer; 0 = no publisher confirms. */
  confirmWindow: number;
  /** basic.qos prefetch per consumer; 0 = unlimited. Ignored with autoAck. */
  prefetch: number;
  autoAck: boolean;
  queues: number;
  queuePrefix: string;
  /** x-arguments for queue.declare, e.g. { "x-queue-type": "quorum" }. */
  queueArgs: Record<string, unknown>;
  exchangeType: ExchangeType;
  /** Exchange name; `leveret-perf-<type>` when not given. */
  exchange: string;
  /** Producers stop after this long (seconds, after the warm-up if there is one), if set. */
  durationS: number | undefined;
  /** Messages per producer, if set. */
  countPerProducer: number | undefined;
  /** Messages per second per producer; 0 = as fast as the broker takes them. */
  ratePerS: number;
  /** How long consumers may take, after producers stop, to receive every confirmed message. */
  graceS: number;
  /**
   * Seconds of load before measuring starts (on top of durationS): rates and latencies count only
   * what happens after it, so that JIT compilation and heap growth in the client and a freshly started
   * broker do not weigh on a short run. The loss check still covers every message of the run.
   */
  warmupS: number;
  /** Leave queues, exchange and messages alone at start and end. */
  keep: boolean;
}

export type PerfOptionsInput = Partial<PerfOptions>;

export const DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672";
/** The run length when neither a duration nor a count is given. */
export const DEFAULT_DURATION_S = 10;

export function resolveOptions(input: PerfOptionsInput): PerfOptions {
  const exchangeType = input.exchangeType ?? "direct";
  const options: PerfOptions = {
    url: input.url ?? DEFAULT_URL,
    producers: input.producers ?? 1,
    consumers: input.consumers ?? 1,
    sizeBytes: input.sizeBytes ?? 1024,
    persistent: input.persistent ?? false,
    confirmWindow: input.confirmWindow ?? 0,
    prefetch: input.prefetch ?? 0,
    autoAck: input.autoAck ?? false,
    queues: input.queues ?? 1,
    queuePrefix: input.queuePrefix ?? "perf-q-",
    queueArgs: input.queueArgs ?? {},
    exchangeType,
    exchange: input.exchange ?? `leveret-perf-${exchangeType}`,
    durationS: input.durationS,
    countPerProducer: input.countPerProducer,
    ratePerS: input.ratePerS ?? 0,
    graceS: input.graceS ?? 10,
    warmupS: input.warmupS ?? 0,
    keep: input.keep ?? false,
  };
  if (options.durationS === undefined && options.countPerProducer === undefined) {
    options.durationS = DEFAULT_DURATION_S;
  }
  validate(options);
  return options;
}

function validate(o: PerfOptions): void {
  checkInteger("producers", o.producers, 0, MAX_PRODUCER_INDEX);
  checkInteger("consumers", o.consumers, 0, 100_000);
  checkInteger("size", o.sizeBytes, HEADER_SIZE_BYTES, 512 * 1024 * 1024);
  checkInteger("confirm", o.confirmWindow, 0, 1_000_000);
  checkInteger("prefetch", o.prefetch, 0, 65_535);
  checkInteger("queues", o.queues, 1, 100_000);
  checkNumber("rate", o.ratePerS, 0, Number.MAX_SAFE_INTEGER);
  checkNumber("grace", o.graceS, 0, 86_400);
  checkNumber("warmup", o.warmupS, 0, 86_400);
  if (o.countPerProducer !== undefined) checkInteger("count", o.countPerProducer, 1, MAX_SEQUENCE + 1);
  if (o.durationS !== undefined) checkNumber("duration", o.durationS, 0.001, 7 * 86_400);
  if (!EXCHANGE_TYPES.includes(o.exchangeType)) {
    throw usage(`--exchange-type must be one of ${EXCHANGE_TYPES.join(", ")}, got ${String(o.exchangeType)}`);
  }
  if (o.producers === 0 && o.consumers === 0) throw usage("nothing to do: --producers and --consumers are 0");
  if (o.producers === 0 && o.durationS === undefined) {
    throw usage("a run without producers ends by time only: give --duration");
  }
  if (o.warmupS > 0 && o.durationS === undefined) {
    // A run by count ends when its messages are out, which may be before the warm-up is over.
    throw usage("--warmup needs --duration");
  }
  if (o.queuePrefix === "") throw usage("--queue-prefix must not be empty");
  if (typeof o.queueArgs !== "object" || o.queueArgs === null || Array.isArray(o.queueArgs)) {
    throw usage("--queue-args must be a JSON object");
  }
  try {
    new URL(o.url);
  } catch {
    throw usage(`--url is not a URL: ${o.url}`);
  }
}

function checkInteger(flag: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw usage(`--${flag} must be an integer from ${min} to ${max}, got ${value}`);
  }
}

function checkNumber(flag: string, value: number, min: number, max: number): void {
  if (!Number.isFinite(value) || value < min || value > max) {
    throw usage(`--${flag} must be a number from ${min} to ${max}, got ${value}`);
  }
}

function usage(message: string): PerfError {
  return new PerfError(PerfErrorCode.usage, message);
}

/** Quorum and stream queues must be durable; a classic queue is durable only for persistent runs. */
export function queuesAreDurable(o: PerfOptions): boolean {
  const type = o.queueArgs["x-queue-type"];
  return o.persistent || type === "quorum" || type === "stream";
}

/** The URL with its password replaced, for printing. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return url;
  }
}
