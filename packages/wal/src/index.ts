/**
 * @leveret/wal: Leveret's write-ahead log. Segmented, CRC-checked, group-committed storage of typed
 * records; it knows nothing of messages.
 */
export type { WalErrorCode } from "./errors.js";
export { WalError } from "./errors.js";
export type { FileIo, OpenMode } from "./file-io.js";
export type { MemoryCrashOptions, MemoryFaultOperation, MemoryFileIoCounters } from "./memory-file-io.js";
export { MemoryFileIo } from "./memory-file-io.js";
export { NodeFileIo } from "./node-file-io.js";
export type { DecodedRecord } from "./record-format.js";
export {
  decodeRecord,
  encodeRecord,
  MAX_RECORD_PAYLOAD_BYTES,
  MAX_RECORD_TYPE,
  MIN_RECORD_TYPE,
  RECORD_HEADER_BYTES,
} from "./record-format.js";
export {
  parseSegmentFileName,
  SEGMENT_FORMAT_VERSION,
  SEGMENT_HEADER_BYTES,
  segmentFileName,
} from "./segment-format.js";
export { COOLDOWN_MS, SLOW_AVERAGE_MS, STALL_MS } from "./inline-write-policy.js";
export { Wal } from "./wal.js";
export {
  DEFAULT_FSYNC_INTERVAL_MS,
  DEFAULT_MAX_BATCHES_IN_FLIGHT,
  DEFAULT_PREFILL_BYTES,
  DEFAULT_SEGMENT_SIZE_BYTES,
} from "./wal-config.js";
export type {
  FsyncPolicy,
  RecordPosition,
  ReplayedRecord,
  SegmentInfo,
  WalLogger,
  WalOptions,
  WalState,
  WalStats,
  WriteMode,
} from "./wal-types.js";
