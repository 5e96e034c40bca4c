/**
 * The options of `connect()`/`createClient()`, their defaults, and how one configured URL becomes
 * the URL and socket options amqplib is handed (heartbeat as a URL query parameter, connection name
 * as a client property, TLS options for amqps://).
 *
 * Does not open sockets. Holds no buffers other than TLS material the caller passed in.
 */
import type { ConnectionOptions as TlsConnectionOptions } from "node:tls";
import { type Backoff, type BackoffOptions, normalizeBackoff } from "./backoff.js";
import type { Codec } from "./codec.js";
import { InvalidArgumentError } from "./errors.js";
import type { Topology } from "./topology.js";

export interface ReconnectOptions extends BackoffOptions {
  /** Failed attempts (one attempt = one URL tried) before the first `connect()` gives up. Default 5. */
  initialAttempts?: number;
  /** Consecutive failed attempts after a connection loss before the client gives up. Default Infinity. */
  maxAttempts?: number;
}

export interface PublisherOptions {
  /**
   * Unconfirmed messages on the wire at once (the confirm window). Default 256: measured on 2 CPUs
   * with 100-byte persistent messages, windows of 1 / 32 / 256 confirmed about 1.5k / 10k / 18k msg/s
   * on RabbitMQ 3.10 (bench/confirm-window.mjs).
   */
  maxInFlight?: number;
  /** Messages held while disconnected or while the window is full; beyond it publish rejects. Default 10 000. */
  maxBufferedMessages?: number;
  /** Bytes of content held in that buffer; beyond it publish rejects. Default 64 MiB. */
  maxBufferedBytes?: number;
  /** Default time a publish may wait for its confirm, buffering included; 0 waits forever. Default 60 000 ms. */
  timeoutMs?: number;
  /** Default for `mandatory` (unroutable messages reject with PublishReturnedError). Default false. */
  mandatory?: boolean;
  /** Default for `persistent` (delivery mode 2). Default true: a confirmed message survives a broker restart. */
  persistent?: boolean;
}

export interface ClientOptions {
  /** amqp:// or amqps:// URL(s). Several URLs are tried in turn (fail-over), starting after the one that failed. */
  urls: string | readonly string[];
  /** Shown by the broker's management tools (client property `connection_name`). */
  connectionName?: string;
  /** Heartbeat interval to propose; 0 disables heartbeats. Default: accept the broker's proposal. */
  heartbeatSeconds?: number;
  /** TLS options for amqps:// URLs (ca, cert, key, passphrase, rejectUnauthorized, servername...). */
  tls?: TlsConnectionOptions;
  /** Time allowed for the TCP/TLS connect and AMQP handshake of one attempt. Default 10 000 ms. */
  connectTimeoutMs?: number;
  reconnect?: ReconnectOptions;
  /** Options of the default publisher behind `client.publish()`. */
  publisher?: PublisherOptions;
  /** Exchanges, queues and bindings declared on connect and re-declared after every reconnect. */
  topology?: Topology;
  /** Codecs added to the built-in ones (JSON, msgpack, raw, text). */
  codecs?: readonly Codec<unknown>[];
  /** Content type used for payloads that are neither Buffer nor string. Default "application/json". */
  defaultContentType?: string;
  /** How long `close()` waits for pending confirms and running handlers. Default 30 000 ms. */
  closeTimeoutMs?: number;
}

export interface NormalizedClientOptions {
  readonly urls: readonly string[];
  readonly connectionName: string | undefined;
  readonly heartbeatSeconds: number | undefined;
  readonly tls: TlsConnectionOptions | undefined;
  readonly connectTimeoutMs: number;
  readonly backoff: Backoff;
  readonly initialAttempts: number;
  readonly maxAttempts: number;
  readonly publisher: PublisherOptions;
  readonly topology: Topology;
  readonly codecs: readonly Codec<unknown>[];
  readonly defaultContentType: string | undefined;
  readonly closeTimeoutMs: number;
}

export type ConnectTarget = string | readonly string[] | ClientOptions;

export function normalizeClientOptions(target: ConnectTarget): NormalizedClientOptions {
  const options: ClientOptions =
    typeof target === "string" || isStringArray(target) ? { urls: target } : target;
  const urls = typeof options.urls === "string" ? [options.urls] : [...options.urls];
  if (urls.length === 0) throw new InvalidArgumentError("at least one broker URL is required");
  for (const url of urls) parseBrokerUrl(url);
  if (
    options.heartbeatSeconds !== undefined &&
    !(Number.isInteger(options.heartbeatSeconds) && options.heartbeatSeconds >= 0)
  ) {
    throw new InvalidArgumentError("heartbeatSeconds must be an integer >= 0");
  }
  const reconnect = options.reconnect ?? {};
  return {
    urls,
    connectionName: options.connectionName,
    heartbeatSeconds: options.heartbeatSeconds,
    tls: options.tls,
    connectTimeoutMs: positive(options.connectTimeoutMs ?? 10_000, "connectTimeoutMs"),
    backoff: normalizeBackoff(reconnect),
    initialAttempts: positive(reconnect.initialAttempts ?? 5, "reconnect.initialAttempts"),
    maxAttempts: positive(reconnect.maxAttempts ?? Number.POSITIVE_INFINITY, "reconnect.maxAttempts"),
    publisher: options.publisher ?? {},
    topology: options.topology ?? {},
    codecs: options.codecs ?? [],
    defaultContentType: options.defaultContentType,
    closeTimeoutMs: positive(options.closeTimeoutMs ?? 30_000, "closeTimeoutMs"),
  };
}

function isStringArray(value: unknown): value is readonly string[] {
  return Array.isArray(value);
}

function positive(value: number, name: string): number {
  if (!(value > 0)) throw new InvalidArgumentError(`${name} must be > 0, got ${value}`);
  return value;
}

function parseBrokerUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidArgumentError(`'${redactUrl(url)}' is not a valid URL`);
  }
  if (parsed.protocol !== "amqp:" && parsed.protocol !== "amqps:") {
    throw new InvalidArgumentError(`broker URLs must be amqp:// or amqps://, got '${redactUrl(url)}'`);
  }
  return parsed;
}

/** The URL amqplib dials: the configured one with the heartbeat option as a query parameter. */
export function dialUrl(url: string, options: NormalizedClientOptions): string {
  if (options.heartbeatSeconds === undefined) return url;
  const parsed = parseBrokerUrl(url);
  parsed.searchParams.set("heartbeat", String(options.heartbeatSeconds));
  return parsed.toString();
}

/** amqplib's socket options: TLS material, connect timeout, connection name. */
export function socketOptions(options: NormalizedClientOptions): Record<string, unknown> {
  const clientProperties: Record<string, unknown> = {};
  if (options.connectionName !== undefined) clientProperties.connection_name = options.connectionName;
  return {
    ...(options.tls ?? {}),
    // Confirms are latency-bound: Nagle's algorithm would hold small publishes back.
    noDelay: true,
    timeout: options.connectTimeoutMs,
    clientProperties,
  };
}

/** The URL with its password replaced, fit for events and error messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparseable URL)";
  }
}
