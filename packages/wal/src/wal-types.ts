/**
 * The public types of @leveret/wal: options, positions, replayed records, stats and state.
 *
 * No behaviour lives here. ReplayedRecord payloads belong to the callback's caller (copies, never views
 * into a shared read buffer).
 */
import type { FileIo } from "./file-io.js";

/**
 * When a commit() resolves:
 *  - "always": after writev and fdatasync (a confirmed record survives a power cut);
 *  - "batch": same, but at most one fdatasync per `fsyncIntervalMs`, so commits wait up to that long;
 *  - "none": after writev returned (survives a process crash, not a power cut or kernel crash).
 */
export type FsyncPolicy = "always" | "batch" | "none";

export interface WalLogger {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** What the owner needs to know to block or stop publishers. */
export interface WalState {
  /** The last write failed with ENOSPC/EDQUOT; cleared by the next successful write. */
  blockedByDiskFull: boolean;
  /** A sync (or another write-path I/O) failed: the Wal accepts nothing more; restart the process. */
  failed: boolean;
  /** The error behind the current state, if any. */
  error?: Error;
}

/** Where record writes run: see WalOptions.writeMode. */
export type WriteMode = "inline" | "thread-pool";

export interface WalOptions {
  dir: string;
  /** Maximum size of a segment file. Default 64 MiB. A record larger than this gets a segment of its own. */
  segmentSizeBytes?: number;
  /** Default "always". */
  fsync?: FsyncPolicy;
  /** For "batch": sync at most every N ms (default 10); commits wait for that sync. */
  fsyncIntervalMs?: number;
  /**
   * Group-commit batches written at the same time, 1..64 (default 4). Each is written at its own
   * offset; commits still resolve strictly in order, each once its batch and all earlier ones are durable.
   */
  maxBatchesInFlight?: number;
  /**
   * Bytes of zeros kept written and synced ahead of the records in the active segment, so that commits
   * overwrite allocated blocks instead of growing the file (about half the cost of a durable write on
   * ext4). Default 4 MiB, 0..1 GiB; 0 turns it off. Use a multiple of 4096: chunks end on 4 KiB pages
   * when the window is at least one page. The active segment's file may be up to this much larger than
   * its records; sealed segments and a cleanly closed WAL carry no zeros.
   */
  prefillBytes?: number;
  /**
   * Where record writes run. "inline" (default): on the calling thread (`FileIo.writevSync`), which
   * saves two thread hand-offs per group commit, while the disk is fast; after one write of 100 ms or
   * more, or an average above 5 ms, they go to the thread pool for 10 s (logged as a warning).
   * "thread-pool": always on libuv's thread pool, so a slow disk never holds up the event loop. Syncs,
   * zero-fills, reads and segment changes always use the thread pool.
   */
  writeMode?: WriteMode;
  /** Default: NodeFileIo (real files). */
  fileIo?: FileIo;
  /** Default: console-based. */
  logger?: WalLogger;
  /** Called whenever `blockedByDiskFull` or `failed` changes. */
  onStateChange?: (state: WalState) => void;
}

/** Where a record lives: `offset` of the record start; `length` = total record bytes (header + payload). */
export interface RecordPosition {
  segment: number;
  offset: number;
  length: number;
}

export interface ReplayedRecord {
  type: number;
  /** A copy: the callee may keep it. */
  payload: Buffer;
  position: RecordPosition;
}

export interface SegmentInfo {
  segment: number;
  sizeBytes: number;
  sealed: boolean;
}

export interface WalStats {
  /** Records skipped (or the remainder of a segment abandoned) for failing validation in a sealed segment. */
  corruptRecordsSkipped: number;
  /** Bytes cut off the end of the last segment when opening (torn, partial or zero-filled tail). */
  tornTailBytesTruncated: number;
  segments: number;
  /**
   * Sum of the segments' logical sizes (headers and records), including records appended but not yet
   * written. The active segment's file may be larger, by at most `prefillBytes` of zeros.
   */
  totalBytes: number;
  /** append() calls since open, including records later voided by a full disk. */
  appendedRecords: number;
  /** fdatasync calls (and O_DSYNC writes) of records and segments since open, zero-fill syncs excluded. */
  syncs: number;
  /** writev calls of records and headers since open (zero-fills are counted apart). */
  writes: number;
  /** Record and header writes done on the calling thread (writeMode "inline"), included in `writes`. */
  inlineWrites: number;
  /** Zero-fill writev calls since open (the prefill window), and the bytes they wrote. */
  prefillWrites: number;
  prefillBytes: number;
}
