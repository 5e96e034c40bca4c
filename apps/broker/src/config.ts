/**
 * The broker's settings: command-line flags first, then LEVERET_* environment variables, then
 * defaults. Every value is checked here so that a bad one stops the broker at start with a message
 * naming the setting, instead of failing later in some deeper layer.
 */
import { ConfigError } from "./config-error.js";

export type FsyncPolicy = "always" | "batch" | "none";
/** Where the log's record writes run (the WAL's writeMode). */
export type WalWriteMode = "inline" | "thread-pool";

export interface BrokerConfig {
  host: string;
  port: number;
  dataDir: string;
  fsync: FsyncPolicy;
  fsyncIntervalMs: number;
  segmentSizeBytes: number;
  walWriteMode: WalWriteMode;
  /** Bodies of durable messages kept in memory, at most; the rest are read back from the log. */
  bodyCacheBytes: number;
  frameMaxBytes: number;
  heartbeatSeconds: number;
  maxMessageSizeBytes: number;
  logLevel: string;
  /** Fraction of RAM above which publishers are blocked (RabbitMQ's vm_memory_high_watermark). */
  memoryHighWatermark: number;
  /** Free disk space under the data dir below which publishers are blocked. */
  diskFreeLimitBytes: number;
  /** A RabbitMQ definitions JSON (users, vhosts, permissions, …) imported at start; "" for none. */
  definitions: string;
  /** Port of the Prometheus endpoint (GET /metrics); -1 when off, 0 picks a free one. */
  metricsPort: number;
}

/** Raw string values as they came from flags or the environment. */
export type RawSettings = Partial<Record<keyof BrokerConfig, string | undefined>>;

interface Setting<K extends keyof BrokerConfig> {
  flag: string;
  env: string;
  fallback: BrokerConfig[K];
  parse: (raw: string, name: string) => BrokerConfig[K];
}

const SETTINGS: { [K in keyof BrokerConfig]: Setting<K> } = {
  host: { flag: "--host", env: "LEVERET_HOST", fallback: "0.0.0.0", parse: nonEmpty },
  port: { flag: "--port", env: "LEVERET_PORT", fallback: 5672, parse: (raw, name) => integer(raw, name, 0, 65535) },
  dataDir: { flag: "--data-dir", env: "LEVERET_DATA_DIR", fallback: "./data", parse: nonEmpty },
  fsync: { flag: "--fsync", env: "LEVERET_FSYNC", fallback: "always", parse: fsyncPolicy },
  fsyncIntervalMs: {
    flag: "--fsync-interval-ms",
    env: "LEVERET_FSYNC_INTERVAL_MS",
    fallback: 10,
    parse: (raw, name) => integer(raw, name, 1, 10_000),
  },
  segmentSizeBytes: {
    flag: "--segment-size-bytes",
    env: "LEVERET_SEGMENT_SIZE_BYTES",
    fallback: 64 * 1024 * 1024,
    parse: (raw, name) => integer(raw, name, 64 * 1024, 2 ** 31 - 1),
  },
  walWriteMode: {
    flag: "--wal-write-mode",
    env: "LEVERET_WAL_WRITE_MODE",
    fallback: "inline",
    parse: walWriteMode,
  },
  bodyCacheBytes: {
    flag: "--body-cache-bytes",
    env: "LEVERET_BODY_CACHE_BYTES",
    fallback: 64 * 1024 * 1024,
    parse: (raw, name) => integer(raw, name, 0, Number.MAX_SAFE_INTEGER),
  },
  frameMaxBytes: {
    flag: "--frame-max-bytes",
    env: "LEVERET_FRAME_MAX_BYTES",
    fallback: 131072,
    parse: (raw, name) => integer(raw, name, 4096, 2 ** 31 - 1),
  },
  heartbeatSeconds: {
    flag: "--heartbeat-seconds",
    env: "LEVERET_HEARTBEAT_SECONDS",
    fallback: 60,
    parse: (raw, name) => integer(raw, name, 0, 65535),
  },
  maxMessageSizeBytes: {
    flag: "--max-message-size-bytes",
    env: "LEVERET_MAX_MESSAGE_SIZE_BYTES",
    fallback: 128 * 1024 * 1024,
    parse: (raw, name) => integer(raw, name, 1, 512 * 1024 * 1024),
  },
  logLevel: { flag: "--log-level", env: "LEVERET_LOG_LEVEL", fallback: "info", parse: logLevel },
  metricsPort: {
    flag: "--metrics-port",
    env: "LEVERET_METRICS_PORT",
    fallback: -1,
    parse: (raw, name) => integer(raw, name, 0, 65535),
  },
  definitions: { flag: "--definitions", env: "LEVERET_DEFINITIONS", fallback: "", parse: nonEmpty },
  memoryHighWatermark: {
    flag: "--memory-high-watermark",
    env: "LEVERET_MEMORY_HIGH_WATERMARK",
    fallback: 0.4,
    parse: fraction,
  },
  diskFreeLimitBytes: {
    flag: "--disk-free-limit-bytes",
    env: "LEVERET_DISK_FREE_LIMIT_BYTES",
    fallback: 50_000_000,
    parse: (raw, name) => integer(raw, name, 0, Number.MAX_SAFE_INTEGER),
  },
};

export function settingNames(key: keyof BrokerConfig): { flag: string; env: string } {
  return { flag: SETTINGS[key].flag, env: SETTINGS[key].env };
}

/** Resolves flags (already parsed into raw strings) and the environment into a checked config. */
export function resolveConfig(flags: RawSettings, env: NodeJS.ProcessEnv): BrokerConfig {
  const config = {} as Record<keyof BrokerConfig, unknown>;
  for (const key of Object.keys(SETTINGS) as (keyof BrokerConfig)[]) {
    const setting = SETTINGS[key] as Setting<typeof key>;
    const fromFlag = flags[key];
    const fromEnv = env[setting.env];
    if (fromFlag !== undefined) config[key] = setting.parse(fromFlag, setting.flag);
    else if (fromEnv !== undefined && fromEnv !== "") config[key] = setting.parse(fromEnv, setting.env);
    else config[key] = setting.fallback;
  }
  return config as unknown as BrokerConfig;
}

function nonEmpty(raw: string, name: string): string {
  if (raw.trim() === "") throw new ConfigError(`${name} must not be empty`);
  return raw;
}

function integer(raw: string, name: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be a whole number, got '${raw}'`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

function fraction(raw: string, name: string): number {
  const value = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(value) || value <= 0 || value > 1) {
    throw new ConfigError(`${name} must be a fraction of RAM greater than 0 and at most 1, got '${raw}'`);
  }
  return value;
}

function fsyncPolicy(raw: string, name: string): FsyncPolicy {
  if (raw === "always" || raw === "batch" || raw === "none") return raw;
  throw new ConfigError(`${name} must be one of always, batch, none; got '${raw}'`);
}

function walWriteMode(raw: string, name: string): WalWriteMode {
  if (raw === "inline" || raw === "thread-pool") return raw;
  throw new ConfigError(`${name} must be one of inline, thread-pool; got '${raw}'`);
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

function logLevel(raw: string, name: string): string {
  if (LOG_LEVELS.includes(raw)) return raw;
  throw new ConfigError(`${name} must be one of ${LOG_LEVELS.join(", ")}; got '${raw}'`);
}
