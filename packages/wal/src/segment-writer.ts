/**
 * Appends encoded records to the end of the active segment file, rotates to a new segment file, syncs,
 * and cuts the files back after a write failed for lack of space.
 *
 * Ordering it guarantees (docs/ordering.md): a segment is synced before the next one is created, and a
 * new segment's header and directory entry are durable before any record is written to it, so after a
 * crash the surviving records always form a prefix of what was written.
 *
 * It does not decide when to sync (the Wal's commit policy does) and does not know what records mean.
 * It classifies failures: WAL_NO_SPACE for ENOSPC/EDQUOT on a write or a file creation (nothing else
 * is wrong; the caller rolls back), WAL_SYNC_FAILED for everything else (fatal). It keeps no reference
 * to the caller's buffers after `write` settles.
 */
import { assertWal, describeError, isNoSpaceError, WalError } from "./errors.js";
import type { FileIo } from "./file-io.js";
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
  #writtenEndOffset: number;
  #unsynced = false;
  /** Highest segment number this writer created a file for: rollback removes files above its target. */
  #highestCreated: number;
  /** A second descriptor of the active segment, opened with O_DSYNC, for writes that must be durable. */
  #dsync: { segment: number; fd: number } | null = null;
  #dsyncUnavailable = false;

  private constructor(
    io: FileIo,
    files: SegmentFiles,
    segment: number,
    lease: SegmentFileLease | null,
    endOffset: number,
  ) {
    this.#io = io;
    this.#files = files;
    this.#activeSegment = segment;
    this.#lease = lease;
    this.#writtenEndOffset = endOffset;
    this.#highestCreated = segment;
  }

  /** Continues appending to an existing segment file whose valid content ends at `endOffset`. */
  static async resume(
    io: FileIo,
    files: SegmentFiles,
    segment: number,
    endOffset: number,
  ): Promise<SegmentWriter> {
    const lease = await files.acquire(segment);
    return new SegmentWriter(io, files, segment, lease, endOffset);
  }

  /** Creates the first segment file of an empty WAL directory. */
  static async createFirst(io: FileIo, files: SegmentFiles, segment: number): Promise<SegmentWriter> {
    const writer = new SegmentWriter(io, files, segment, null, 0);
    await writer.#createSegment(segment);
    return writer;
  }

  get activeSegment(): number {
    return this.#activeSegment;
  }

  get writtenEndOffset(): number {
    return this.#writtenEndOffset;
  }

  /** True when bytes were written to the active segment since its last fdatasync. */
  get unsynced(): boolean {
    return this.#unsynced;
  }

  /**
   * Writes `buffers` (`byteLength` bytes) at `offset` of `segment`, which must be the end of the active
   * segment or the start of the next one (which is then created). With `durable`, they are written
   * through the O_DSYNC descriptor when everything before them is already synced, which makes them
   * durable in one system call instead of two; otherwise `unsynced` stays true and the caller syncs.
   */
  async write(
    segment: number,
    offset: number,
    buffers: readonly Buffer[],
    byteLength: number,
    durable: boolean,
  ): Promise<void> {
    if (segment !== this.#activeSegment) await this.#rotateTo(segment);
    assertWal(
      offset === this.#writtenEndOffset,
      `write at segment ${segment} offset ${offset}, but the file ends at ${this.#writtenEndOffset}`,
    );
    const action = `writing ${byteLength} bytes to segment ${segment}`;
    // O_DSYNC covers only the bytes of this write: with unsynced bytes before them, a crash could keep
    // these and lose those, leaving a hole that recovery would take for the torn tail.
    const dsyncFd = durable && !this.#unsynced ? await this.#dsyncDescriptor() : undefined;
    if (dsyncFd !== undefined) {
      await this.#writeFully(dsyncFd, buffers, offset, byteLength, action);
      this.syncCount += 1;
      this.#unsynced = false;
    } else {
      await this.#writeFully(this.#activeFd(), buffers, offset, byteLength, action);
    }
    this.#writtenEndOffset += byteLength;
  }

  /** fdatasync of the active segment. Any failure is fatal: a failed fsync is never retried. */
  async sync(): Promise<void> {
    const fd = this.#activeFd();
    this.syncCount += 1;
    try {
      await this.#io.fdatasync(fd);
    } catch (error) {
      throw new WalError(
        "WAL_SYNC_FAILED",
        `fdatasync of segment ${this.#activeSegment} failed: ${describeError(error)}`,
        error,
      );
    }
    this.#unsynced = false;
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
    this.#writtenEndOffset = offset;
    this.#unsynced = false;
  }

  /** Closes the O_DSYNC descriptor and gives up the lease on the active segment (on close). */
  async close(): Promise<void> {
    try {
      await this.#closeDsyncDescriptor();
    } finally {
      this.#lease?.release();
      this.#lease = null;
    }
  }

  /** The O_DSYNC descriptor of the active segment, opened on first use; undefined if unavailable. */
  async #dsyncDescriptor(): Promise<number | undefined> {
    if (this.#dsync?.segment === this.#activeSegment) return this.#dsync.fd;
    if (this.#dsyncUnavailable) return undefined;
    await this.#closeDsyncDescriptor();
    try {
      const fd = await this.#io.open(this.#files.pathOf(this.#activeSegment), "read-write-dsync");
      this.#dsync = { segment: this.#activeSegment, fd };
      return fd;
    } catch {
      // Without O_DSYNC, write + fdatasync gives the same guarantee with one more round trip.
      this.#dsyncUnavailable = true;
      return undefined;
    }
  }

  async #closeDsyncDescriptor(): Promise<void> {
    const open = this.#dsync;
    if (open === null) return;
    this.#dsync = null;
    await this.#io.close(open.fd);
  }

  async #rotateTo(segment: number): Promise<void> {
    assertWal(segment === this.#activeSegment + 1, `rotation from ${this.#activeSegment} to ${segment}`);
    // Sealing syncs even under fsync "none": a sealed segment is never written again, and one sync per
    // segment keeps every crash's survivors a prefix of the log.
    if (this.#unsynced) await this.sync();
    const sealed = this.#lease;
    await this.#createSegment(segment);
    sealed?.release();
    await this.#closeDsyncDescriptor();
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
    const previous = { segment: this.#activeSegment, lease: this.#lease, end: this.#writtenEndOffset };
    this.#activeSegment = segment;
    this.#lease = lease;
    this.#writtenEndOffset = 0;
    try {
      const header = [encodeSegmentHeader(segment)];
      await this.#writeFully(lease.fd, header, 0, SEGMENT_HEADER_BYTES, `writing header of ${path}`);
      await this.sync();
      await this.#io.syncDir(this.#files.dir);
    } catch (error) {
      // Back to the previous file so that rollback finds the writer where the batch started.
      lease.release();
      this.#activeSegment = previous.segment;
      this.#lease = previous.lease;
      this.#writtenEndOffset = previous.end;
      if (error instanceof WalError) throw error;
      throw new WalError(
        "WAL_SYNC_FAILED",
        `syncing directory ${this.#files.dir} failed: ${describeError(error)}`,
        error,
      );
    }
    this.#writtenEndOffset = SEGMENT_HEADER_BYTES;
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

  async #writeFully(
    fd: number,
    buffers: readonly Buffer[],
    offset: number,
    byteLength: number,
    action: string,
  ): Promise<void> {
    let remaining = buffers;
    let position = offset;
    let remainingBytes = byteLength;
    while (remainingBytes > 0) {
      this.writeCount += 1;
      let written: number;
      try {
        written = await this.#io.writev(fd, remaining, position);
      } catch (error) {
        throw writeFailure(action, error);
      } finally {
        // Whatever reached the file, even a partial write, now needs a sync or a truncation.
        this.#unsynced = true;
      }
      assertWal(
        written > 0 && written <= remainingBytes,
        `writev returned ${written} of ${remainingBytes} bytes`,
      );
      remainingBytes -= written;
      position += written;
      if (remainingBytes > 0) remaining = skipWritten(remaining, written);
    }
  }

  #activeFd(): number {
    assertWal(this.#lease !== null, `segment ${this.#activeSegment} has no open descriptor`);
    return this.#lease.fd;
  }
}
