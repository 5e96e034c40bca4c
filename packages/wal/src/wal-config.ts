/**
 * Turns WalOptions into a checked configuration with every default filled in, and the default
 * console logger. Every limit is checked here, once, so the hot path can trust it.
 *
 * It does no I/O and owns no buffers.
 */
import * as path from "node:path";
import { WalError } from "./errors.js";
import type { FileIo } from "./file-io.js";
import { NodeFileIo } from "./node-file-io.js";
import { RECORD_HEADER_BYTES } from "./record-format.js";
import { SEGMENT_HEADER_BYTES } from "./segment-format.js";
import type { FsyncPolicy, WalLogger, WalOptions, WalState, WriteMode } from "./wal-types.js";

export const DEFAULT_SEGMENT_SIZE_BYTES = 64 * 1024 * 1024;
/** Tiny segments are allowed so that tests can rotate every few records. */
export const MIN_SEGMENT_SIZE_BYTES = SEGMENT_HEADER_BYTES + RECORD_HEADER_BYTES + 1;
/** Offsets stay exact JavaScript integers far beyond this; 4 GiB bounds the cost of scanning one segment. */
export const MAX_SEGMENT_SIZE_BYTES = 4 * 1024 * 1024 * 1024;
export const DEFAULT_FSYNC_INTERVAL_MS = 10;
export const MAX_FSYNC_INTERVAL_MS = 10_000;
/**
 * Batches written at once. With one, every batch waits for the previous one's disk round trip. One
 * producer with a confirm window of 100 keeps about two batches' worth of publishes outstanding, so a
 * few in flight are enough; more only split the same records into smaller writes (each writev costs
 * the event loop a thread-pool wake-up). Measured on a busy 2-vCPU VM (docs/benchmarks.md): 4 vs 1
 * gave 25.8k vs 24.0k confirmed msg/s (medians of 3), within noise there, as the broker was CPU-bound.
 */
export const DEFAULT_MAX_BATCHES_IN_FLIGHT = 4;
export const MAX_BATCHES_IN_FLIGHT = 64;
/**
 * Zeros kept written and synced ahead of the records of the active segment (prefill-window.ts). On
 * ext4 over virtio an O_DSYNC write of 110 KB cost ~300 µs when it extended the file and ~145 µs over
 * zero-filled, synced blocks. 4 MiB is 40 such writes ahead, refilled 1 MiB at a time when half is used.
 */
export const DEFAULT_PREFILL_BYTES = 4 * 1024 * 1024;
/** A bound on the disk a window may hold beyond the records; a window above the segment size is clamped. */
export const MAX_PREFILL_BYTES = 1024 * 1024 * 1024;

export interface WalConfig {
  dir: string;
  segmentSizeBytes: number;
  fsync: FsyncPolicy;
  fsyncIntervalMs: number;
  maxBatchesInFlight: number;
  prefillBytes: number;
  writeMode: WriteMode;
  io: FileIo;
  logger: WalLogger;
  onStateChange: ((state: WalState) => void) | undefined;
}

export const consoleLogger: WalLogger = {
  error: (obj, msg) => console.error(`[@leveret/wal] ${msg}`, obj),
  warn: (obj, msg) => console.warn(`[@leveret/wal] ${msg}`, obj),
};

function invalid(message: string): WalError {
  return new WalError("WAL_INVALID_ARGUMENT", message);
}

function checkedInteger(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalid(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

export function resolveWalConfig(options: WalOptions): WalConfig {
  if (typeof options?.dir !== "string" || options.dir.length === 0) {
    throw invalid("WalOptions.dir must be a non-empty path");
  }
  const fsync = options.fsync ?? "always";
  if (fsync !== "always" && fsync !== "batch" && fsync !== "none") {
    throw invalid(`WalOptions.fsync must be "always", "batch" or "none", got ${String(fsync)}`);
  }
  const writeMode = options.writeMode ?? "inline";
  if (writeMode !== "inline" && writeMode !== "thread-pool") {
    throw invalid(`WalOptions.writeMode must be "inline" or "thread-pool", got ${String(writeMode)}`);
  }
  return {
    dir: path.resolve(options.dir),
    segmentSizeBytes: checkedInteger(
      "segmentSizeBytes",
      options.segmentSizeBytes,
      DEFAULT_SEGMENT_SIZE_BYTES,
      MIN_SEGMENT_SIZE_BYTES,
      MAX_SEGMENT_SIZE_BYTES,
    ),
    fsync,
    fsyncIntervalMs: checkedInteger(
      "fsyncIntervalMs",
      options.fsyncIntervalMs,
      DEFAULT_FSYNC_INTERVAL_MS,
      0,
      MAX_FSYNC_INTERVAL_MS,
    ),
    maxBatchesInFlight: checkedInteger(
      "maxBatchesInFlight",
      options.maxBatchesInFlight,
      DEFAULT_MAX_BATCHES_IN_FLIGHT,
      1,
      MAX_BATCHES_IN_FLIGHT,
    ),
    prefillBytes: checkedInteger(
      "prefillBytes",
      options.prefillBytes,
      DEFAULT_PREFILL_BYTES,
      0,
      MAX_PREFILL_BYTES,
    ),
    writeMode,
    io: options.fileIo ?? new NodeFileIo(),
    logger: options.logger ?? consoleLogger,
    onStateChange: options.onStateChange,
  };
}
