/**
 * Wal: an append-only log of typed records in segment files, with group commit.
 *
 * append() encodes a record's header, gives the record its final position at once and queues it in
 * the forming batch; no I/O happens yet. Once per event-loop turn (setImmediate), or sooner when the
 * pipeline has just emptied and a commit waits (#pumpAfterSettle), the forming batch is issued:
 * written with one writev per segment and, when someone waits in commit(), made durable (one
 * O_DSYNC write, or a write and an fdatasync). Up to `maxBatchesInFlight` batches are in flight at once,
 * each at its own offset, so a batch does not wait for the previous one's disk round trip; they may
 * finish in any order, but they are settled strictly in order: a commit resolves only once its batch
 * and every earlier one are durable. A batch that opens a new segment waits until nothing else is in
 * flight. So a lone append+commit costs one write, and a thousand concurrent ones cost about the same.
 * The order append -> write -> sync -> resolve commit is the durability contract (docs/ordering.md).
 *
 * Failures: ENOSPC/EDQUOT voids the failed batch and every record appended after it (batches in flight
 * behind it included, once their writes have returned), cuts the files back to where the batch began, and marks the Wal blocked by a full disk until a later write
 * succeeds. Any other write-path failure, above all a failed fdatasync, is fatal: a failed fsync is
 * never retried (the kernel may already have dropped the dirty pages), every pending and future commit
 * rejects, and the owner must restart the process, which recovers from what is on disk.
 *
 * It does not know what records mean, nor which are live (the owner decides, and compacts with
 * readSegment/deleteSegment). Payload parts passed to append() of up to 4 KiB are copied into the
 * batch (into reused arenas); larger ones are referenced, not copied, until the batch holding them is
 * written: do not modify them before commit() settles. Buffers it returns (read, replay) are the caller's.
 */
import { Buffer } from "node:buffer";
import * as path from "node:path";
import { ArenaPool } from "./arena-pool.js";
import { assertWal, describeError, WalError } from "./errors.js";
import type { FileIo } from "./file-io.js";
import { InlineWritePolicy } from "./inline-write-policy.js";
import { PendingBatch } from "./pending-batch.js";
import {
  assertRecordType,
  decodeRecord,
  MAX_RECORD_PAYLOAD_BYTES,
  RECORD_HEADER_BYTES,
} from "./record-format.js";
import { type RecoveryResult, recoverSegments } from "./recovery.js";
import { readAt, SegmentFiles } from "./segment-files.js";
import { parseSegmentFileName, SEGMENT_HEADER_BYTES } from "./segment-format.js";
import { guardOwnerCallback, scanSegment } from "./segment-scanner.js";
import { SegmentWriter } from "./segment-writer.js";
import { resolveWalConfig, type WalConfig } from "./wal-config.js";
import type {
  RecordPosition,
  ReplayedRecord,
  SegmentInfo,
  WalLogger,
  WalOptions,
  WalState,
  WalStats,
} from "./wal-types.js";

const RESOLVED: Promise<void> = Promise.resolve();

interface SegmentMeta {
  sizeBytes: number;
}

function toWalError(error: unknown): WalError {
  if (error instanceof WalError) return error;
  return new WalError("WAL_SYNC_FAILED", `write path failed: ${describeError(error)}`, error);
}

async function listSegments(config: WalConfig): Promise<number[]> {
  try {
    // A directory we created must itself survive a power cut, so its parent is synced too.
    if (await config.io.mkdir(config.dir)) await config.io.syncDir(path.dirname(config.dir));
    const names = await config.io.readdir(config.dir);
    const segments: number[] = [];
    for (const name of names) {
      const segment = parseSegmentFileName(name);
      if (segment !== undefined) segments.push(segment);
    }
    return segments.sort((a, b) => a - b);
  } catch (error) {
    throw new WalError(
      "WAL_DIR_UNUSABLE",
      `cannot use ${config.dir} as a WAL directory: ${describeError(error)}`,
      error,
    );
  }
}

async function startWriter(
  config: WalConfig,
  files: SegmentFiles,
  recovered: RecoveryResult,
): Promise<SegmentWriter> {
  const last = recovered.segments[recovered.segments.length - 1];
  const segment = last?.segment ?? 1;
  const prefill = {
    windowBytes: config.prefillBytes,
    segmentSizeBytes: config.segmentSizeBytes,
    logger: config.logger,
  };
  try {
    const writePolicy = new InlineWritePolicy(config.writeMode, config.logger);
    if (last === undefined) {
      return await SegmentWriter.createFirst(config.io, files, segment, prefill, writePolicy);
    }
    return await SegmentWriter.resume(config.io, files, segment, last.sizeBytes, prefill, writePolicy);
  } catch (error) {
    throw new WalError(
      "WAL_DIR_UNUSABLE",
      `cannot write segment file ${files.pathOf(segment)}: ${describeError(error)}`,
      error,
    );
  }
}

export class Wal {
  readonly #config: WalConfig;
  readonly #io: FileIo;
  readonly #logger: WalLogger;
  readonly #files: SegmentFiles;
  readonly #writer: SegmentWriter;
  readonly #segments = new Map<number, SegmentMeta>();
  /** Arenas the batches copy headers and small payloads into, reused once a batch is written. */
  readonly #arenas = new ArenaPool();
  #cursorSegment: number;
  #cursorOffset: number;
  /** The entry of #segments for #cursorSegment, kept at hand for the hot path. */
  #cursorMeta: SegmentMeta;
  #forming: PendingBatch | null = null;
  /** Issued batches, oldest first: their writes may finish in any order, they settle in this one. */
  readonly #inFlight: PendingBatch[] = [];
  #pumpScheduled = false;
  /** #pumpAfterSettle is queued and has not run yet. */
  #pumpAfterSettleQueued = false;
  /** Under fsync "batch": the timer that issues a forming batch once its sync slot comes. */
  #syncSlotTimer: ReturnType<typeof setTimeout> | null = null;
  /**
   * A sync, a full-disk rollback or a failure is being handled for #inFlight[0]: #advance waits for it.
   */
  #completionBusy = false;
  /** close() waiting for #inFlight to empty. */
  #drainWaiters: (() => void)[] = [];
  /** A full-disk rollback is cutting the files back: nothing is issued until it is done. */
  #rollingBack = false;
  #state: "open" | "closing" | "closed" = "open";
  #closePromise: Promise<void> | undefined;
  #failure: WalError | null = null;
  #blockedByDiskFull = false;
  #lastSyncStartMs = Number.NEGATIVE_INFINITY;
  #corruptRecordsSkipped: number;
  readonly #tornTailBytesTruncated: number;
  readonly #recoverySyncs: number;
  #appendedRecords = 0;

  private constructor(
    config: WalConfig,
    files: SegmentFiles,
    writer: SegmentWriter,
    recovered: RecoveryResult,
  ) {
    this.#config = config;
    this.#io = config.io;
    this.#logger = config.logger;
    this.#files = files;
    this.#writer = writer;
    for (const { segment, sizeBytes } of recovered.segments) this.#segments.set(segment, { sizeBytes });
    this.#segments.set(writer.activeSegment, { sizeBytes: writer.issuedEndOffset });
    this.#cursorSegment = writer.activeSegment;
    this.#cursorOffset = writer.issuedEndOffset;
    this.#cursorMeta = this.#segments.get(writer.activeSegment)!;
    this.#corruptRecordsSkipped = recovered.corruptRecordsSkipped;
    this.#tornTailBytesTruncated = recovered.tornTailBytesTruncated;
    this.#recoverySyncs = recovered.syncs;
  }

  /**
   * Opens `options.dir` (creating it if needed) and replays every valid record, in order, through
   * `onRecord`, one segment at a time. Bad data never makes it throw: a torn tail of the last segment is
   * cut off and a corrupt record of a sealed segment is skipped, logged and counted. It throws WalError
   * on I/O errors, WAL_DIR_UNUSABLE for a directory it cannot use, WAL_UNSUPPORTED_FORMAT for segments of
   * a newer format, and whatever `onRecord` throws.
   */
  static async open(options: WalOptions, onRecord: (record: ReplayedRecord) => void): Promise<Wal> {
    const config = resolveWalConfig(options);
    const segmentNumbers = await listSegments(config);
    const files = new SegmentFiles(config.io, config.dir, (segment, error) =>
      config.logger.error(
        { segment, error: describeError(error) },
        "wal: closing an idle segment file failed",
      ),
    );
    try {
      const recovered = await recoverSegments(
        { io: config.io, files, logger: config.logger, onRecord },
        segmentNumbers,
      );
      const writer = await startWriter(config, files, recovered);
      return new Wal(config, files, writer, recovered);
    } catch (error) {
      // The open already failed with `error`, which is what the caller needs to see; a descriptor that
      // also fails to close changes nothing for them.
      await files.closeAll().catch(() => undefined);
      throw error;
    }
  }

  /** The segment appends currently go to. */
  get activeSegment(): number {
    return this.#cursorSegment;
  }

  /** True when nothing is waiting to be written or synced: commit() would resolve at once. */
  get idle(): boolean {
    if (this.#forming !== null || this.#inFlight.length > 0) return false;
    return this.#config.fsync === "none" || !this.#writer.unsynced;
  }

  /** True after a write failed for lack of space, until a later write succeeds. */
  get blockedByDiskFull(): boolean {
    return this.#blockedByDiskFull;
  }

  /** True after a fatal write-path failure: nothing more is accepted; restart the process. */
  get failed(): boolean {
    return this.#failure !== null;
  }

  /**
   * Queues a record and returns its final position; no I/O happens here. `payload` may be several
   * buffers, written back to back without being concatenated. Throws WAL_INVALID_ARGUMENT for a type
   * outside 1..255 or a payload over 512 MiB, WAL_CLOSED after close(), WAL_FAILED after a fatal error.
   */
  append(type: number, payload: Buffer | readonly Buffer[]): RecordPosition {
    this.#assertWritable();
    assertRecordType(type);
    const payloadBytes = payloadLength(payload);
    const totalBytes = RECORD_HEADER_BYTES + payloadBytes;
    // The batch starts where the log ends now, before any rotation: that is where a rollback cuts back to.
    this.#forming ??= new PendingBatch(this.#arenas, this.#cursorSegment, this.#cursorOffset);
    const batch = this.#forming;
    // A record never spans segments; one larger than a whole segment gets a segment of its own.
    if (
      this.#cursorOffset > SEGMENT_HEADER_BYTES &&
      this.#cursorOffset + totalBytes > this.#config.segmentSizeBytes
    ) {
      this.#rotateCursor();
    }
    const position: RecordPosition = {
      segment: this.#cursorSegment,
      offset: this.#cursorOffset,
      length: totalBytes,
    };
    batch.add(position, type, payload, payloadBytes);
    this.#cursorOffset += totalBytes;
    this.#cursorMeta.sizeBytes = this.#cursorOffset;
    this.#appendedRecords += 1;
    this.#schedulePump();
    return position;
  }

  /**
   * Resolves when every record appended before this call is durable under the fsync policy. All
   * commits made while a batch forms share one promise. Rejects with WAL_NO_SPACE (those records were
   * not written; their positions are void), WAL_SYNC_FAILED (fatal), WAL_FAILED or WAL_CLOSED.
   */
  commit(): Promise<void> {
    if (this.#failure !== null) return Promise.reject(this.#failedError());
    if (this.#state === "closed") return Promise.reject(new WalError("WAL_CLOSED", "the WAL is closed"));
    const forming = this.#forming;
    if (forming !== null) {
      forming.syncRequested = true;
      return forming.promise();
    }
    // The newest batch in flight settles after every earlier one and decides whether to sync only when
    // its turn comes: asking it is enough.
    const newest = this.#inFlight[this.#inFlight.length - 1];
    if (newest !== undefined) {
      newest.syncRequested = true;
      return newest.promise();
    }
    if (this.#config.fsync !== "none" && this.#writer.unsynced) {
      const syncOnly = new PendingBatch(this.#arenas, this.#cursorSegment, this.#cursorOffset);
      syncOnly.syncRequested = true;
      this.#forming = syncOnly;
      this.#schedulePump();
      return syncOnly.promise();
    }
    return RESOLVED;
  }

  /**
   * The payload of the record at `position` (a new buffer), from memory while its batch is not yet
   * written, else from its segment file. Verifies the checksum: WAL_CORRUPT_RECORD on mismatch.
   */
  async read(position: RecordPosition): Promise<Buffer> {
    this.#assertReadable();
    this.#assertPosition(position);
    for (const batch of this.#inFlight) {
      const pending = batch.findPayload(position);
      if (pending !== undefined) return pending;
    }
    const forming = this.#forming?.findPayload(position);
    if (forming !== undefined) return forming;
    const lease = await this.#files.acquire(position.segment).catch((error: unknown) => {
      throw new WalError(
        "WAL_IO_FAILED",
        `opening segment ${position.segment}: ${describeError(error)}`,
        error,
      );
    });
    let record: Buffer;
    try {
      record = await readAt(this.#io, lease.fd, position.offset, position.length);
    } catch (error) {
      throw new WalError(
        "WAL_IO_FAILED",
        `reading segment ${position.segment}: ${describeError(error)}`,
        error,
      );
    } finally {
      lease.release();
    }
    const decoded = decodeRecord(record, 0, record.length);
    if (decoded.kind !== "record" || decoded.totalBytes !== position.length) {
      const reason = decoded.kind === "record" ? `length ${decoded.totalBytes}` : decoded.kind;
      throw new WalError(
        "WAL_CORRUPT_RECORD",
        `record at segment ${position.segment} offset ${position.offset} is unreadable: ${reason}`,
      );
    }
    return record.subarray(RECORD_HEADER_BYTES);
  }

  /** The segments in ascending order; every one but the active one is sealed. */
  segments(): readonly SegmentInfo[] {
    const infos: SegmentInfo[] = [];
    for (const [segment, meta] of this.#segments) {
      infos.push({ segment, sizeBytes: meta.sizeBytes, sealed: segment !== this.#cursorSegment });
    }
    return infos;
  }

  /**
   * Replays the records of a sealed segment (for compaction), with the same rules as recovery: a
   * corrupt record is skipped, logged and counted. Waits for that segment's pending writes first.
   */
  async readSegment(segment: number, onRecord: (record: ReplayedRecord) => void): Promise<void> {
    await this.#settleSealedSegment(segment);
    const lease = await this.#files.acquire(segment).catch((error: unknown) => {
      throw new WalError("WAL_IO_FAILED", `opening segment ${segment}: ${describeError(error)}`, error);
    });
    const owner = guardOwnerCallback(onRecord);
    try {
      const fileSizeBytes = await this.#io.fileSize(lease.fd);
      const scan = await scanSegment({
        io: this.#io,
        fd: lease.fd,
        segment,
        fileSizeBytes,
        mode: "sealed",
        logger: this.#logger,
        onRecord: owner.onRecord,
      });
      this.#corruptRecordsSkipped += scan.corruptRecords;
    } catch (error) {
      const ownerThrew = owner.thrown();
      if (ownerThrew !== undefined) throw ownerThrew.error;
      if (error instanceof WalError) throw error;
      throw new WalError("WAL_IO_FAILED", `reading segment ${segment}: ${describeError(error)}`, error);
    } finally {
      lease.release();
    }
  }

  /**
   * Deletes a sealed segment file, durably. Call it only after committing whatever replaces the
   * segment's live records. Throws WAL_SEGMENT_ACTIVE for the active segment.
   */
  async deleteSegment(segment: number): Promise<void> {
    await this.#settleSealedSegment(segment);
    // Looked up again after the await: a concurrent deleteSegment may have taken it meanwhile.
    const meta = this.#segments.get(segment);
    if (meta === undefined) throw new WalError("WAL_INVALID_ARGUMENT", `no segment ${segment}`);
    // Forgotten first, so that reads of it fail fast while the file goes away.
    this.#segments.delete(segment);
    try {
      await this.#files.close(segment);
      await this.#io.unlink(this.#files.pathOf(segment));
      await this.#io.syncDir(this.#config.dir);
    } catch (error) {
      this.#segments.set(segment, meta);
      throw new WalError("WAL_IO_FAILED", `deleting segment ${segment}: ${describeError(error)}`, error);
    }
  }

  stats(): WalStats {
    let totalBytes = 0;
    for (const meta of this.#segments.values()) totalBytes += meta.sizeBytes;
    return {
      corruptRecordsSkipped: this.#corruptRecordsSkipped,
      tornTailBytesTruncated: this.#tornTailBytesTruncated,
      segments: this.#segments.size,
      totalBytes,
      appendedRecords: this.#appendedRecords,
      syncs: this.#recoverySyncs + this.#writer.syncCount,
      writes: this.#writer.writeCount,
      inlineWrites: this.#writer.writePolicy.inlineWrites,
      prefillWrites: this.#writer.prefill.zeroWrites,
      prefillBytes: this.#writer.prefill.zeroBytes,
    };
  }

  /**
   * Writes and syncs everything pending (whatever the fsync policy), then closes the files. Idempotent.
   * Rejects if the pending records could not be made durable. After a fatal error it only closes.
   */
  close(): Promise<void> {
    this.#closePromise ??= this.#closeOnce();
    return this.#closePromise;
  }

  async #closeOnce(): Promise<void> {
    this.#state = "closing";
    let flushError: unknown;
    try {
      if (this.#failure === null) await this.commit();
      await this.#settled();
      // Under fsync "none" commit() only wrote: close still promises durability.
      if (this.#failure === null && this.#writer.unsynced) await this.#writer.sync();
    } catch (error) {
      flushError = error;
    }
    await this.#settled();
    this.#state = "closed";
    try {
      await this.#writer.close(this.#failure === null && flushError === undefined);
    } catch (error) {
      flushError ??= new WalError(
        "WAL_IO_FAILED",
        `closing the active segment: ${describeError(error)}`,
        error,
      );
    }
    await this.#files.closeAll();
    if (flushError !== undefined) throw flushError;
  }

  #rotateCursor(): void {
    this.#cursorSegment += 1;
    this.#cursorOffset = SEGMENT_HEADER_BYTES;
    this.#cursorMeta = { sizeBytes: SEGMENT_HEADER_BYTES };
    this.#segments.set(this.#cursorSegment, this.#cursorMeta);
  }

  #schedulePump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    setImmediate(this.#pumpSoon);
  }

  /**
   * Queued when settling empties the pipeline, behind the continuations of the commits just resolved:
   * a producer that awaits each commit appends and commits again right there. Issuing that batch when
   * they have run, instead of at the end of the event-loop turn, gives the idle disk its next write a
   * loop phase sooner (the gap from one write's completion to the next one's submission went from
   * 14-16 to 11-14 µs at one record per sync, bench/README.md). Only a
   * batch that a commit waits on goes early; records nobody waits for gather until the turn ends (the
   * setImmediate their append scheduled still runs, and finds nothing to do if the batch went early).
   */
  readonly #pumpAfterSettle = (): void => {
    this.#pumpAfterSettleQueued = false;
    if (this.#forming?.syncRequested === true && this.#inFlight.length === 0) this.#pump();
  };

  readonly #pumpSoon = (): void => {
    this.#pumpScheduled = false;
    this.#pump();
  };

  /** Issues the forming batch if the pipeline has room for it. Synchronous: it only starts the I/O. */
  #pump(): void {
    const batch = this.#forming;
    if (batch === null || this.#failure !== null || this.#rollingBack) return;
    const inFlight = this.#inFlight;
    if (inFlight.length >= this.#config.maxBatchesInFlight) return; // the completer pumps again
    // Rotation syncs and seals the old segment and moves the writer: nothing may overlap it.
    const barrier = batch.chunks.length > 1 || batch.chunks[0]?.segment !== this.#writer.activeSegment;
    const rotating = batch.chunks.length > 0 && barrier;
    if (inFlight.length > 0 && (rotating || inFlight[inFlight.length - 1]!.barrier)) return;
    // Under "batch", a batch that must sync waits for its slot, gathering more records meanwhile.
    if (batch.syncRequested && !this.#syncSlotReached()) return;
    this.#forming = null;
    this.#issue(batch, rotating);
  }

  #issue(batch: PendingBatch, barrier: boolean): void {
    const writer = this.#writer;
    if (batch.startSegment !== writer.activeSegment || batch.startOffset !== writer.issuedEndOffset) {
      assertWal(
        false,
        `batch starts at ${batch.startSegment}:${batch.startOffset}, the log ends at ${writer.activeSegment}:${writer.issuedEndOffset}`,
      );
    }
    batch.seal();
    batch.barrier = barrier;
    const durable = this.#mustSync(batch);
    if (durable && batch.chunks.length > 0 && this.#config.fsync === "batch") {
      this.#lastSyncStartMs = performance.now();
    }
    this.#inFlight.push(batch);
    if (batch.chunks.length === 0) {
      // A sync-only batch: nothing to write. Reported asynchronously, like any write.
      queueMicrotask(() => this.#chunkWritten(batch, 0, durable, undefined));
      return;
    }
    this.#writeChunk(batch, 0, durable);
  }

  #mustSync(batch: PendingBatch): boolean {
    return this.#config.fsync !== "none" && (batch.syncRequested || this.#state !== "open");
  }

  /**
   * Writes a batch's chunks one after the other. The first write reserves its range synchronously, so
   * the next batch can be issued right behind it; a batch of several chunks rotates, and runs alone.
   */
  #writeChunk(batch: PendingBatch, index: number, durable: boolean): void {
    const chunk = batch.chunks[index]!;
    const byteLength = chunk.endOffset - chunk.startOffset;
    try {
      this.#writer.write(chunk.segment, chunk.startOffset, chunk.buffers, byteLength, durable, (error) =>
        this.#chunkWritten(batch, index + 1, durable, error),
      );
    } catch (error) {
      // A broken invariant in the writer: the batch fails (fatally), reported like any write failure.
      queueMicrotask(() => this.#chunkWritten(batch, index + 1, durable, toWalError(error)));
    }
  }

  #chunkWritten(batch: PendingBatch, next: number, durable: boolean, error: WalError | undefined): void {
    if (error === undefined && next < batch.chunks.length) {
      this.#writeChunk(batch, next, durable);
      return;
    }
    batch.finishWrite(error);
    this.#advance();
  }

  /**
   * Settles the batches in flight strictly in order, as far as their writes allow: a batch's commit
   * resolves only after its own writes and every earlier batch's are durable. Called whenever a write,
   * a sync or a failure handling step finishes; the slow steps (sync, rollback, failure) run one at a
   * time, and #advance resumes when they are done. Synchronous, so that a commit resolves in the same
   * microtask as the write that made it durable.
   */
  #advance(): void {
    const inFlight = this.#inFlight;
    while (!this.#completionBusy) {
      const batch = inFlight[0];
      if (batch === undefined) break;
      const written = batch.writeResult;
      if (written === undefined) return; // the oldest batch is still being written
      const error = written.error ?? this.#failure ?? undefined;
      if (error !== undefined) {
        this.#runCompletionStep(
          error.code === "WAL_NO_SPACE" ? this.#rollBackAfterNoSpace(batch, error) : this.#failAndWait(error),
        );
        return;
      }
      // One fdatasync now covers this batch and every earlier one if any was a plain write. A batch
      // written through O_DSYNC behind durable bytes needs none.
      if (!batch.synced && this.#mustSync(batch) && this.#writer.unsynced) {
        this.#runCompletionStep(this.#syncFor(batch));
        return;
      }
      inFlight.shift();
      if (batch.chunks.length > 0 && this.#blockedByDiskFull) this.#setBlockedByDiskFull(false, undefined);
      batch.phase = "written";
      batch.settle();
      // Its writes have returned and it is out of #inFlight: nothing reads its arenas any more.
      batch.release();
      if (inFlight.length === 0 && !this.#pumpAfterSettleQueued) {
        this.#pumpAfterSettleQueued = true;
        queueMicrotask(this.#pumpAfterSettle);
      }
    }
    this.#pump();
    if (inFlight.length === 0 && !this.#completionBusy) {
      const waiters = this.#drainWaiters;
      this.#drainWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  /**
   * Runs one slow completion step, then resumes #advance. The steps handle their own I/O failures; one
   * that throws anyway (a broken invariant) makes the Wal fail rather than leave #advance stuck.
   */
  #runCompletionStep(step: Promise<void>): void {
    this.#completionBusy = true;
    const resume = (): void => {
      this.#completionBusy = false;
      this.#advance();
    };
    step.then(resume, (error: unknown) => {
      this.#fail(toWalError(error));
      resume();
    });
  }

  /** fdatasync for `batch`, whose writes and every earlier batch's have returned; fatal on failure. */
  async #syncFor(batch: PendingBatch): Promise<void> {
    try {
      batch.phase = "syncing";
      await this.#waitForSyncSlot();
      this.#lastSyncStartMs = performance.now();
      await this.#writer.sync();
      batch.synced = true;
    } catch (error) {
      await this.#failAndWait(toWalError(error));
    }
  }

  /** Waits until everything issued is settled (for close). */
  async #settled(): Promise<void> {
    while (this.#inFlight.length > 0 || this.#completionBusy) {
      await new Promise<void>((resolve) => this.#drainWaiters.push(resolve));
    }
  }

  #syncSlotReached(): boolean {
    if (this.#config.fsync !== "batch") return true;
    const waitMs = this.#lastSyncStartMs + this.#config.fsyncIntervalMs - performance.now();
    if (waitMs <= 0) return true;
    this.#syncSlotTimer ??= setTimeout(() => {
      this.#syncSlotTimer = null;
      this.#pump();
    }, waitMs);
    return false;
  }

  async #waitForSyncSlot(): Promise<void> {
    if (this.#config.fsync !== "batch") return;
    const waitMs = this.#lastSyncStartMs + this.#config.fsyncIntervalMs - performance.now();
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
  }

  /**
   * The failed batch and everything after it (in flight or forming) are void: their positions are
   * handed out again. The cursor moves back at once, so appends made during the rollback already get
   * the right positions; the files are cut back only once every voided write has returned, so that no
   * write lands behind the cut.
   */
  async #rollBackAfterNoSpace(batch: PendingBatch, error: WalError): Promise<void> {
    assertWal(this.#inFlight[0] === batch, "rollback of a batch that is not the oldest in flight");
    this.#rollingBack = true;
    const voided = this.#inFlight.splice(0);
    const forming = this.#forming;
    this.#forming = null;
    if (forming !== null) voided.push(forming);
    for (const segment of [...this.#segments.keys()]) {
      if (segment > batch.startSegment) this.#segments.delete(segment);
    }
    this.#cursorSegment = batch.startSegment;
    this.#cursorOffset = batch.startOffset;
    this.#cursorMeta = this.#segments.get(batch.startSegment)!;
    this.#cursorMeta.sizeBytes = batch.startOffset;
    let voidedRecords = 0;
    for (const each of voided) voidedRecords += each.recordCount;
    this.#logger.warn(
      { segment: batch.startSegment, offset: batch.startOffset, voidedRecords, error: error.message },
      "wal: disk full; the batch was not written and its records are void",
    );
    this.#setBlockedByDiskFull(true, error);
    await Promise.all(voided.map((each) => each.whenWritten()));
    try {
      await this.#writer.rollback(batch.startSegment, batch.startOffset);
    } catch (rollbackError) {
      this.#rollingBack = false;
      this.#fail(toWalError(rollbackError), ...voided);
      return;
    }
    for (const each of voided) each.settle(error);
    this.#rollingBack = false;
  }

  /** Enters the failed state, then waits for the writes still in flight before descriptors may close. */
  async #failAndWait(error: WalError): Promise<void> {
    const stranded = [...this.#inFlight];
    this.#fail(error);
    await Promise.all(stranded.map((each) => each.whenWritten()));
  }

  #fail(error: WalError, ...batches: (PendingBatch | null)[]): void {
    if (this.#failure === null) {
      this.#failure = error;
      this.#logger.error(
        { code: error.code, error: error.message },
        "wal: fatal write-path failure; nothing more is accepted, restart the process to recover from disk",
      );
      this.#notifyState();
    }
    const stranded = this.#inFlight.splice(0);
    const forming = this.#forming;
    this.#forming = null;
    for (const batch of [...batches, ...stranded, forming]) batch?.settle(error);
  }

  #setBlockedByDiskFull(blocked: boolean, error: WalError | undefined): void {
    if (this.#blockedByDiskFull === blocked) return;
    this.#blockedByDiskFull = blocked;
    this.#notifyState(error);
  }

  #notifyState(error?: WalError): void {
    const listener = this.#config.onStateChange;
    if (listener === undefined) return;
    const reason = this.#failure ?? error;
    const state: WalState = { blockedByDiskFull: this.#blockedByDiskFull, failed: this.#failure !== null };
    if (reason !== undefined) state.error = reason;
    try {
      listener(state);
    } catch (listenerError) {
      this.#logger.error({ error: describeError(listenerError) }, "wal: onStateChange listener threw");
    }
  }

  #failedError(): WalError {
    return new WalError(
      "WAL_FAILED",
      `the WAL failed earlier and accepts nothing more: ${this.#failure?.message}`,
      this.#failure,
    );
  }

  #assertWritable(): void {
    if (this.#failure !== null) throw this.#failedError();
    if (this.#state !== "open") throw new WalError("WAL_CLOSED", "the WAL is closed");
  }

  #assertReadable(): void {
    if (this.#failure !== null) throw this.#failedError();
    if (this.#state === "closed") throw new WalError("WAL_CLOSED", "the WAL is closed");
  }

  #assertPosition(position: RecordPosition): void {
    const { segment, offset, length } = position;
    const meta = Number.isSafeInteger(segment) ? this.#segments.get(segment) : undefined;
    const valid =
      meta !== undefined &&
      Number.isSafeInteger(offset) &&
      Number.isSafeInteger(length) &&
      offset >= SEGMENT_HEADER_BYTES &&
      length >= RECORD_HEADER_BYTES &&
      length <= RECORD_HEADER_BYTES + MAX_RECORD_PAYLOAD_BYTES &&
      offset + length <= meta.sizeBytes;
    if (!valid) {
      throw new WalError(
        "WAL_INVALID_ARGUMENT",
        `no record at segment ${segment} offset ${offset} length ${length}`,
      );
    }
  }

  /** Checks that `segment` is sealed and exists, after waiting for any of its records still pending. */
  async #settleSealedSegment(segment: number): Promise<void> {
    this.#assertReadable();
    const check = (): void => {
      if (segment === this.#cursorSegment) {
        throw new WalError("WAL_SEGMENT_ACTIVE", `segment ${segment} is the active segment`);
      }
      if (!this.#segments.has(segment)) throw new WalError("WAL_INVALID_ARGUMENT", `no segment ${segment}`);
    };
    check();
    if (segment >= this.#writer.activeSegment) {
      await this.commit();
      check();
    }
  }
}

function payloadLength(payload: Buffer | readonly Buffer[]): number {
  let payloadBytes = 0;
  if (Buffer.isBuffer(payload)) {
    payloadBytes = payload.length;
  } else if (Array.isArray(payload)) {
    for (const part of payload as readonly unknown[]) {
      if (!Buffer.isBuffer(part)) throw new WalError("WAL_INVALID_ARGUMENT", "payload parts must be Buffers");
      payloadBytes += part.length;
    }
  } else {
    throw new WalError("WAL_INVALID_ARGUMENT", "payload must be a Buffer or an array of Buffers");
  }
  if (payloadBytes > MAX_RECORD_PAYLOAD_BYTES) {
    throw new WalError(
      "WAL_INVALID_ARGUMENT",
      `payload of ${payloadBytes} bytes exceeds the limit of ${MAX_RECORD_PAYLOAD_BYTES}`,
    );
  }
  return payloadBytes;
}
