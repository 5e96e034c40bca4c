/**
 * Appends encoded records to the end of the active segment file, rotates to a new segment file, syncs,
 * and cuts the files back after a write failed for lack of space.
 *
 * Ordering it guarantees (docs/ordering.md): a segment is synced before the next one is created, and a
 * new segment's header and directory entry are durable before any record is written to it, so after a
 * crash the surviving records always form a prefix of what was written.
 *
 * Several writes may be in flight at once (the Wal pipelines group-commit batches): each reserves its
 * range synchronously when called, so they land at consecutive offsets whatever order they complete
 * in. Rotation, rollback and closing must only be asked for when no write is in flight (the Wal waits).
 *
 * With a prefill window (prefill-window.ts) it keeps zeros written and synced ahead of the records, so
 * that group-commit writes overwrite allocated blocks instead of extending the file. A record write
 * whose range reaches into a zero write still in flight is held until that zero write returns, so a
 * zero write can never land over a record. Sealing a segment (rotation) and close() cut the zero tail
 * off, durably, before the next segment is created: sealed segments end at their last record.
 *
 * A write runs on the calling thread (FileIo.writevSync) or on the thread pool as InlineWritePolicy
 * decides, write by write; either way its outcome is reported asynchronously.
 *
 * It does not decide when to sync (the Wal's commit policy does) and does not know what records mean.
 * It classifies failures: WAL_NO_SPACE for ENOSPC/EDQUOT on a write or a file creation (nothing else
 * is wrong; the caller rolls back), WAL_SYNC_FAILED for everything else (fatal). It keeps no reference
 * to the caller's buffers after `write` settles.
 */
import { assertWal, describeError, isNoSpaceError, WalError, walAssertionError } from "./errors.js";
import type { FileIo } from "./file-io.js";
import type { InlineWritePolicy } from "./inline-write-policy.js";
import { FIRST_ZERO_CHUNK_BYTES, type PrefillSettings, PrefillWindow } from "./prefill-window.js";
import type { SegmentFileLease, SegmentFiles } from "./segment-files.js";
import { encodeSegmentHeader, SEGMENT_HEADER_BYTES } from "./segment-format.js";

/** Drops the first `skipBytes` bytes of `buffers`, without copying, after a short write. */
function skipWritten(buffers: readonly Buffer[], skipBytes: number): Buffer[] {
  const rest: Buffer[] = [];
  let skip = skipBytes;
  for (const buffer of buffers) {
    if (skip >= buffer.length) {
      skip -= buffer.length;
      continue;
    }
    rest.push(skip > 0 ? buffer.subarray(skip) : buffer);
    skip = 0;
  }
  return rest;
}

/** How a write ends: undefined when every byte was written, else why not. */
export type WriteDone = (error: WalError | undefined) => void;

function asWalError(error: unknown): WalError {
  if (error instanceof WalError) return error;
  return new WalError("WAL_SYNC_FAILED", `write path failed: ${describeError(error)}`, error);
}

function writeFailure(action: string, error: unknown): WalError {
  if (isNoSpaceError(error)) return new WalError("WAL_NO_SPACE", `${action}: ${describeError(error)}`, error);
  return new WalError("WAL_SYNC_FAILED", `${action}: ${describeError(error)}`, error);
}

export class SegmentWriter {
  /** Durability points (fdatasync calls and O_DSYNC writes), for stats. */
  syncCount = 0;
  /** writev calls made, for stats. */
  writeCount = 0;
  readonly #io: FileIo;
  readonly #files: SegmentFiles;
  #activeSegment: number;
  #lease: SegmentFileLease | null;
  #issuedEndOffset: number;
  /** Bytes of a plain (non-O_DSYNC) write, finished or in flight, that no completed fdatasync covers yet. */
  #unsynced = false;
  /**
   * Bumped when a plain write starts and when it ends. A sync clears `unsynced` only if none started or
   * ended while it ran and none is still running: such a write may not be covered by it.
   */
  #plainWriteGeneration = 0;
  #plainWritesInFlight = 0;
  /** Highest segment number this writer created a file for: rollback removes files above its target. */
  #highestCreated: number;
  /**
   * A second descriptor of the active segment, opened with O_DSYNC, for writes that must be durable:
   * `opening` while the open runs, `fd` once it returned (undefined if it failed).
   */
  #dsync: { segment: number; opening: Promise<number | undefined>; fd: number | undefined | null } | null =
    null;
  #dsyncUnavailable = false;
  /** Zeros ahead of the records of the active segment. */
  readonly prefill: PrefillWindow;
  /** Whether a write runs on the calling thread or on the thread pool. */
  readonly writePolicy: InlineWritePolicy;

  private constructor(
    io: FileIo,
    files: SegmentFiles,
    segment: number,
    lease: SegmentFileLease | null,
    endOffset: number,
    prefill: PrefillSettings,
    writePolicy: InlineWritePolicy,
  ) {
    this.#io = io;
    this.writePolicy = writePolicy;
    this.#files = files;
    this.#activeSegment = segment;
    this.#lease = lease;
    this.#issuedEndOffset = endOffset;
    this.#highestCreated = segment;
    this.prefill = new PrefillWindow(io, prefill, () => this.#issuedEndOffset);
  }

  /**
   * Continues appending to an existing segment file whose valid content ends at `endOffset`, which must
   * also be its size (recovery cut any tail off). Its whole prefill window is written and synced before
   * this resolves: opening is not on anyone's commit path, and the first commits then find it ready.
   */
  static async resume(
    io: FileIo,
    files: SegmentFiles,
    segment: number,
    endOffset: number,
    prefill: PrefillSettings,
    writePolicy: InlineWritePolicy,
  ): Promise<SegmentWriter> {
    const lease = await files.acquire(segment);
    const writer = new SegmentWriter(io, files, segment, lease, endOffset, prefill, writePolicy);
    writer.prefill.moveTo(segment, lease.fd, endOffset, true);
    await writer.#prefillAtOpen(prefill.windowBytes);
    return writer;
  }

  /** Creates the first segment file of an empty WAL directory. */
  static async createFirst(
    io: FileIo,
    files: SegmentFiles,
    segment: number,
    prefill: PrefillSettings,
    writePolicy: InlineWritePolicy,
  ): Promise<SegmentWriter> {
    const writer = new SegmentWriter(io, files, segment, null, 0, prefill, writePolicy);
    await writer.#createSegment(segment);
    await writer.#prefillAtOpen(prefill.windowBytes);
    return writer;
  }

  /** The rest of the window at open, in the foreground, then synced. */
  async #prefillAtOpen(windowBytes: number): Promise<void> {
    const before = this.prefill.zeroEndOffset;
    await this.prefill.fillFirst(windowBytes);
    if (this.prefill.zeroEndOffset === before) return;
    this.prefill.zeroSyncs += 1;
    try {
      await this.#io.fdatasync(this.#activeFd());
    } catch (error) {
      throw writeFailure(`syncing the zero-filled window of segment ${this.#activeSegment}`, error);
    }
  }

  get activeSegment(): number {
    return this.#activeSegment;
  }

  /** Where the next write to the active segment must start: the end of every write issued so far. */
  get issuedEndOffset(): number {
    return this.#issuedEndOffset;
  }

  /** True when a plain write to the active segment (finished or in flight) is not yet covered by a sync. */
  get unsynced(): boolean {
    return this.#unsynced;
  }

  /**
   * Writes `buffers` (`byteLength` bytes) at `offset` of `segment`, which must be the end of the active
   * segment or the start of the next one (which is then created: only with no other write in flight),
   * and calls `done` once with undefined or the classified failure (never synchronously). The range is
   * reserved before this returns, so the caller may issue the next write at once. With `durable`, the
   * bytes go through the O_DSYNC descriptor when no plain write before them is unsynced, which makes
   * them durable in one system call instead of two; otherwise `unsynced` turns true and the caller
   * syncs. Bytes written through O_DSYNC are durable on their own, not the ones before them: a caller
   * that overlaps writes must treat a range as durable only once every earlier write is.
   *
   * A callback rather than a promise: this is the hot path of every group commit, and each promise
   * between the system call's completion and the commit's resolution costs a microtask turn there.
   */
  write(
    segment: number,
    offset: number,
    buffers: readonly Buffer[],
    byteLength: number,
    durable: boolean,
    done: WriteDone,
  ): void {
    const prefillFailure = this.prefill.failure;
    if (prefillFailure !== null) {
      queueMicrotask(() => done(prefillFailure));
      return;
    }
    if (segment !== this.#activeSegment) {
      this.#rotateThenWrite(segment, offset, buffers, byteLength, durable).then(
        () => done(undefined),
        (error: unknown) => done(asWalError(error)),
      );
      return;
    }
    if (offset !== this.#issuedEndOffset) {
      assertWal(
        false,
        `write at segment ${segment} offset ${offset}, but the file ends at ${this.#issuedEndOffset}`,
      );
    }
    this.#issuedEndOffset += byteLength;
    // O_DSYNC covers only the bytes of this write: with unsynced plain bytes before them, a crash could
    // keep these and lose those, leaving a hole that recovery would take for the torn tail.
    const dsync = durable && !this.#unsynced && !this.#dsyncUnavailable;
    // A plain write counts as in flight from its reservation, so that a sync that runs while it waits
    // for a zero-fill or a descriptor does not take it as covered.
    if (!dsync) this.#startPlainWrite();
    const zeroFill = this.prefill.overlapping(segment, offset, offset + byteLength);
    this.prefill.noteRecordWrite(byteLength);
    this.prefill.refill();
    if (zeroFill === undefined) {
      this.#issueRange(segment, offset, buffers, byteLength, dsync, done);
      return;
    }
    // A zero write over this range is in flight: issued now, this write could land first and be wiped.
    zeroFill.then(() => this.#issueRange(segment, offset, buffers, byteLength, dsync, done));
  }

  #issueRange(
    segment: number,
    offset: number,
    buffers: readonly Buffer[],
    byteLength: number,
    dsync: boolean,
    done: WriteDone,
  ): void {
    if (!dsync) {
      this.#writeRange(this.#activeFd(), segment, offset, buffers, byteLength, false, done);
      return;
    }
    const open = this.#dsync;
    if (open !== null && open.segment === segment && typeof open.fd === "number") {
      this.#writeRange(open.fd, segment, offset, buffers, byteLength, true, done);
      return;
    }
    // The first durable write to this segment: its O_DSYNC descriptor is being opened.
    this.#dsyncDescriptor().then((fd) => {
      if (fd === undefined) {
        // The descriptor turned out unavailable: this is a plain write after all.
        this.#startPlainWrite();
        this.#writeRange(this.#activeFd(), segment, offset, buffers, byteLength, false, done);
      } else {
        this.#writeRange(fd, segment, offset, buffers, byteLength, true, done);
      }
    });
  }

  #startPlainWrite(): void {
    this.#markPlainWrite();
    this.#plainWritesInFlight += 1;
  }

  #rotateThenWrite(
    segment: number,
    offset: number,
    buffers: readonly Buffer[],
    byteLength: number,
    durable: boolean,
  ): Promise<void> {
    return this.#rotateTo(segment).then(
      () =>
        new Promise<void>((resolve, reject) => {
          this.write(segment, offset, buffers, byteLength, durable, (error) =>
            error === undefined ? resolve() : reject(error),
          );
        }),
    );
  }

  /** One range, through `fd` (the O_DSYNC descriptor when `dsync`), with its accounting. */
  #writeRange(
    fd: number,
    segment: number,
    offset: number,
    buffers: readonly Buffer[],
    byteLength: number,
    dsync: boolean,
    done: WriteDone,
  ): void {
    // Checked right before the system call: an overlapping zero write could clobber these bytes.
    try {
      this.prefill.assertClear(segment, offset, offset + byteLength);
    } catch (error) {
      if (!dsync) this.#plainWritesInFlight -= 1;
      queueMicrotask(() => done(asWalError(error)));
      return;
    }
    this.#writeLoop(fd, buffers, offset, byteLength, (error) => {
      if (!dsync) {
        this.#plainWriteGeneration += 1;
        this.#plainWritesInFlight -= 1;
      }
      if (error === undefined) {
        if (dsync) this.syncCount += 1;
        done(undefined);
        return;
      }
      // Whatever reached the file, even part of a failed write, needs a sync or a truncation now.
      this.#markPlainWrite();
      const action = `writing ${byteLength} bytes to segment ${segment}`;
      done(error instanceof WalError ? error : writeFailure(action, error));
    });
  }

  #markPlainWrite(): void {
    this.#unsynced = true;
    this.#plainWriteGeneration += 1;
  }

  /** fdatasync of the active segment. Any failure is fatal: a failed fsync is never retried. */
  async sync(): Promise<void> {
    if (this.prefill.failure !== null) throw this.prefill.failure;
    const fd = this.#activeFd();
    this.syncCount += 1;
    const generation = this.#plainWriteGeneration;
    try {
      await this.#io.fdatasync(fd);
    } catch (error) {
      throw new WalError(
        "WAL_SYNC_FAILED",
        `fdatasync of segment ${this.#activeSegment} failed: ${describeError(error)}`,
        error,
      );
    }
    // A plain write that started or ended while the sync ran, or is still running, may not be covered.
    if (generation === this.#plainWriteGeneration && this.#plainWritesInFlight === 0) this.#unsynced = false;
  }

  /**
   * After WAL_NO_SPACE: removes the files of segments above `segment` created since, makes `segment`
   * active again and truncates it to `offset`, durably. Throws WAL_SYNC_FAILED if that fails.
   */
  async rollback(segment: number, offset: number): Promise<void> {
    assertWal(
      segment <= this.#activeSegment,
      `rollback to segment ${segment}, ahead of ${this.#activeSegment}`,
    );
    try {
      await this.prefill.quiesce();
      await this.#closeDsyncDescriptor();
      await this.#removeSegmentsAbove(segment);
      if (this.#activeSegment !== segment || this.#lease === null) {
        this.#lease?.release();
        this.#lease = null;
        this.#lease = await this.#files.acquire(segment);
        this.#activeSegment = segment;
      }
      await this.#io.ftruncate(this.#activeFd(), offset);
      this.syncCount += 1;
      await this.#io.fdatasync(this.#activeFd());
    } catch (error) {
      if (error instanceof WalError) throw error;
      throw new WalError(
        "WAL_SYNC_FAILED",
        `cutting segment ${segment} back to ${offset} bytes after a full disk failed: ${describeError(error)}`,
        error,
      );
    }
    this.#issuedEndOffset = offset;
    this.#unsynced = false;
    // The truncation took any zero tail with it; the disk was full, so no prefill until the next segment.
    this.prefill.moveTo(segment, this.#activeFd(), offset, false);
  }

  /**
   * Waits for the zero-fill in flight; with `trimZeroTail` (a clean close, nothing failed) cuts the
   * active segment back to its last record, durably, so that a closed WAL carries no zero tail. Then
   * closes the O_DSYNC descriptor and gives up the lease on the active segment. Throws the zero-fill's
   * failure if one is pending.
   */
  async close(trimZeroTail: boolean): Promise<void> {
    try {
      await this.prefill.quiesce();
      if (this.prefill.failure !== null) throw this.prefill.failure;
      if (trimZeroTail && this.#lease !== null) await this.#trimZeroTail();
      await this.#closeDsyncDescriptor();
    } finally {
      this.#lease?.release();
      this.#lease = null;
    }
  }

  /**
   * The O_DSYNC descriptor of the active segment, opened on first use (once, however many writes ask
   * for it at the same time); undefined if the platform has none.
   */
  #dsyncDescriptor(): Promise<number | undefined> {
    const segment = this.#activeSegment;
    if (this.#dsync?.segment === segment) return this.#dsync.opening;
    const open: { segment: number; opening: Promise<number | undefined>; fd: number | undefined | null } = {
      segment,
      opening: this.#io.open(this.#files.pathOf(segment), "read-write-dsync").then(
        (opened) => {
          open.fd = opened;
          return opened;
        },
        () => {
          // Without O_DSYNC, write + fdatasync gives the same guarantee with one more round trip.
          this.#dsyncUnavailable = true;
          open.fd = undefined;
          return undefined;
        },
      ),
      fd: null,
    };
    this.#dsync = open;
    return open.opening;
  }

  async #closeDsyncDescriptor(): Promise<void> {
    const open = this.#dsync;
    if (open === null) return;
    this.#dsync = null;
    const fd = await open.opening;
    if (fd !== undefined) await this.#io.close(fd);
  }

  async #rotateTo(segment: number): Promise<void> {
    assertWal(segment === this.#activeSegment + 1, `rotation from ${this.#activeSegment} to ${segment}`);
    // Sealing syncs even under fsync "none": a sealed segment is never written again, and one sync per
    // segment keeps every crash's survivors a prefix of the log.
    await this.prefill.quiesce();
    if (this.prefill.failure !== null) throw this.prefill.failure;
    if (this.#unsynced) await this.sync();
    // A sealed segment ends at its last record: its zero tail goes, durably, before the next segment
    // exists, so that only the last segment of the directory can ever hold zeros after its records.
    await this.#trimZeroTail();
    const sealed = this.#lease;
    await this.#createSegment(segment);
    sealed?.release();
    await this.#closeDsyncDescriptor();
  }

  /** Truncates the active segment to the end of its records if zeros were written past it, then syncs. */
  async #trimZeroTail(): Promise<void> {
    const end = this.#issuedEndOffset;
    if (this.prefill.zeroEndOffset <= end) return;
    try {
      await this.#io.ftruncate(this.#activeFd(), end);
      this.syncCount += 1;
      await this.#io.fdatasync(this.#activeFd());
    } catch (error) {
      throw new WalError(
        "WAL_SYNC_FAILED",
        `cutting the zero tail of segment ${this.#activeSegment} at ${end} bytes failed: ${describeError(error)}`,
        error,
      );
    }
    this.prefill.moveTo(this.#activeSegment, this.#activeFd(), end, false);
  }

  /** Creates `segment`: header written and synced, directory entry synced, then it becomes active. */
  async #createSegment(segment: number): Promise<void> {
    const path = this.#files.pathOf(segment);
    let fd: number;
    try {
      fd = await this.#io.open(path, "create");
    } catch (error) {
      throw writeFailure(`creating segment file ${path}`, error);
    }
    this.#highestCreated = Math.max(this.#highestCreated, segment);
    this.#files.adopt(segment, fd);
    const lease = await this.#files.acquire(segment);
    const previous = { segment: this.#activeSegment, lease: this.#lease, end: this.#issuedEndOffset };
    this.#activeSegment = segment;
    this.#lease = lease;
    this.#issuedEndOffset = 0;
    try {
      const header = [encodeSegmentHeader(segment)];
      this.#markPlainWrite();
      await this.#writeFully(lease.fd, header, 0, SEGMENT_HEADER_BYTES, `writing header of ${path}`);
      this.#issuedEndOffset = SEGMENT_HEADER_BYTES;
      // The first zeros go with the header, under the same sync; the rest of the window follows.
      this.prefill.moveTo(segment, lease.fd, SEGMENT_HEADER_BYTES, true);
      await this.prefill.fillFirst(FIRST_ZERO_CHUNK_BYTES);
      await this.sync();
      await this.#io.syncDir(this.#files.dir);
    } catch (error) {
      // Back to the previous file so that rollback finds the writer where the batch started.
      lease.release();
      this.#activeSegment = previous.segment;
      this.#lease = previous.lease;
      this.#issuedEndOffset = previous.end;
      if (previous.lease !== null)
        this.prefill.moveTo(previous.segment, previous.lease.fd, previous.end, false);
      if (error instanceof WalError) throw error;
      throw new WalError(
        "WAL_SYNC_FAILED",
        `syncing directory ${this.#files.dir} failed: ${describeError(error)}`,
        error,
      );
    }
    this.#issuedEndOffset = SEGMENT_HEADER_BYTES;
    this.#unsynced = false;
  }

  async #removeSegmentsAbove(segment: number): Promise<void> {
    if (this.#highestCreated <= segment) return;
    for (let doomed = this.#highestCreated; doomed > segment; doomed -= 1) {
      if (doomed === this.#activeSegment) {
        this.#lease?.release();
        this.#lease = null;
      }
      await this.#files.close(doomed);
      await this.#io.unlink(this.#files.pathOf(doomed)).catch((error: unknown) => {
        if ((error as { code?: unknown }).code !== "ENOENT") throw error;
      });
    }
    await this.#io.syncDir(this.#files.dir);
    this.#highestCreated = segment;
  }

  /**
   * Writes all of `buffers` at `position`, continuing after short writes; `done(error)` once, never
   * synchronously. On the calling thread when the inline-write policy says so and the FileIo can.
   */
  #writeLoop(
    fd: number,
    buffers: readonly Buffer[],
    position: number,
    byteLength: number,
    done: (error: unknown) => void,
  ): void {
    this.writeCount += 1;
    if (this.#io.writevSync !== undefined && this.writePolicy.inline) {
      this.#writeInline(fd, buffers, position, byteLength, done);
      return;
    }
    let writing: Promise<number>;
    try {
      writing = this.#io.writev(fd, buffers, position);
    } catch (error) {
      // A FileIo that throws instead of rejecting: still reported asynchronously, like every outcome.
      queueMicrotask(() => done(error));
      return;
    }
    writing.then(
      (written) => this.#continueWrite(fd, buffers, position, byteLength, written, done),
      (error: unknown) => done(error),
    );
  }

  /** One writevSync, timed for the policy; its outcome is reported from a microtask, as an async one's. */
  #writeInline(
    fd: number,
    buffers: readonly Buffer[],
    position: number,
    byteLength: number,
    done: (error: unknown) => void,
  ): void {
    const policy = this.writePolicy;
    const started = policy.now();
    let written: number;
    try {
      written = this.#io.writevSync!(fd, buffers, position);
    } catch (error) {
      queueMicrotask(() => done(error));
      return;
    } finally {
      policy.noteInlineWrite(policy.now() - started);
    }
    queueMicrotask(() => this.#continueWrite(fd, buffers, position, byteLength, written, done));
  }

  /** After a write of `written` bytes: done, or the rest of a short write, or a broken FileIo. */
  #continueWrite(
    fd: number,
    buffers: readonly Buffer[],
    position: number,
    byteLength: number,
    written: number,
    done: (error: unknown) => void,
  ): void {
    if (!(written > 0 && written <= byteLength)) {
      done(walAssertionError(`writev returned ${written} of ${byteLength} bytes`));
    } else if (written < byteLength) {
      const rest = skipWritten(buffers, written);
      this.#writeLoop(fd, rest, position + written, byteLength - written, done);
    } else {
      done(undefined);
    }
  }

  /** #writeLoop for the rare paths (segment headers), as a promise of classified failures. */
  #writeFully(
    fd: number,
    buffers: readonly Buffer[],
    offset: number,
    byteLength: number,
    action: string,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#writeLoop(fd, buffers, offset, byteLength, (error) => {
        if (error === undefined) resolve();
        else reject(error instanceof WalError ? error : writeFailure(action, error));
      });
    });
  }

  #activeFd(): number {
    const lease = this.#lease;
    if (lease === null) assertWal(false, `segment ${this.#activeSegment} has no open descriptor`);
    return lease.fd;
  }
}
