/**
 * The zero-filled "prefill window" ahead of the write cursor of the active segment.
 *
 * Why: on ext4 an O_DSYNC write (or write + fdatasync) that extends a file must also commit the new
 * size and extent through the journal, which measured about twice the cost of the same write over
 * blocks that were already written and synced (110 KB: ~300 µs against ~145 µs on ext4 over virtio).
 * fallocate/ftruncate do not help: unwritten extents still need converting in the journal. So zeros
 * are really written, in large chunks, and synced, ahead of the records; group-commit writes then
 * overwrite allocated blocks. PostgreSQL zero-fills its WAL segments for the same reason.
 *
 * The one rule that makes it safe: a zero write never overlaps a range a record write has reserved.
 * Writes on the thread pool complete in any order, so a zero write racing a record write over the
 * same bytes could land second and wipe the record. Hence (asserted, not just designed):
 *  - a zero-fill is only issued at or beyond the reserved end of the segment at the time it is issued;
 *  - a record write whose range reaches into a zero-fill still in flight waits (`overlapping`) until
 *    that zero write has returned before it is issued.
 *
 * Correctness never depends on the prefill: a record write is made durable by its own O_DSYNC write or
 * fdatasync whether or not the zeros under it were synced, and recovery reads all-zero space as the
 * end of the records. The prefill only changes how expensive that durability point is.
 *
 * Failures: ENOSPC/EDQUOT on a zero write stops the prefill for this segment (logged; records then
 * extend the file as without prefill; the next segment tries again). Any other failure of a zero write
 * or its sync is kept in `failure`, and the writer fails its next write or sync with it (fatal, like a
 * failed fdatasync: the WAL never retries a failed sync).
 *
 * It does not decide where records go, nor seal or truncate segments (SegmentWriter does, using
 * `zeroEndOffset`). It owns one zero buffer, shared by every window, that nobody else writes to.
 */
import { Buffer } from "node:buffer";
import { assertWal, describeError, isNoSpaceError, WalError } from "./errors.js";
import type { FileIo } from "./file-io.js";
import type { WalLogger } from "./wal-types.js";

/** Largest zero write: 1 MiB keeps one zero-fill's write + sync short next to a group commit's. */
export const MAX_ZERO_CHUNK_BYTES = 1024 * 1024;
/**
 * Zeros written with a new segment's header, before it takes records: small, because the batch that
 * opened the segment waits for it; the rest of the window follows in the background.
 */
export const FIRST_ZERO_CHUNK_BYTES = 256 * 1024;
const PAGE_BYTES = 4096;
/**
 * Record writes this large (on average) get no zeros laid ahead of them: an extending write's journal
 * commit is a fixed cost that matters for small writes, while zeros cost their full size again in disk
 * bandwidth (bench/README.md: 64 KiB writes gained with the prefill, 256 KiB writes lost).
 */
export const LARGE_RECORD_WRITE_BYTES = 128 * 1024;

let sharedZeros: Buffer | null = null;

function zeros(byteLength: number): Buffer {
  if (sharedZeros === null) sharedZeros = Buffer.alloc(MAX_ZERO_CHUNK_BYTES);
  assertWal(byteLength <= sharedZeros.length, `zero chunk of ${byteLength} bytes`);
  return sharedZeros.subarray(0, byteLength);
}

export interface PrefillSettings {
  /** Zeros kept ahead of the reserved end; 0 disables the prefill. */
  windowBytes: number;
  /** No zero is written at or beyond this offset. */
  segmentSizeBytes: number;
  logger: WalLogger;
}

interface ZeroFill {
  segment: number;
  startOffset: number;
  endOffset: number;
  /** True until the zero write has returned (its sync may still run): record writes over it must wait. */
  writing: boolean;
  /** Settles (never rejects) once the zero write has returned. */
  written: Promise<void>;
}

export class PrefillWindow {
  /** Zero writes and their bytes since open, for stats. */
  zeroWrites = 0;
  zeroBytes = 0;
  /** fdatasync calls made for zero-fills. */
  zeroSyncs = 0;
  readonly #io: FileIo;
  readonly #settings: PrefillSettings;
  /** Where the chunk sizes come from: at most MAX_ZERO_CHUNK_BYTES, a quarter window otherwise. */
  readonly #chunkBytes: number;
  /** Pages when the window is at least a page; byte-exact windows are for tests with tiny segments. */
  readonly #alignBytes: number;
  /** The reserved end of the active segment, asked fresh each time (the writer owns it). */
  readonly #reservedEnd: () => number;
  #segment = 0;
  #fd = -1;
  /** End of every zero write issued to this segment (finished or not): what the physical size may reach. */
  #zeroEndOffset = 0;
  /** End of the zeros written and synced in this segment (for stats and tests). */
  #durableZeroEndOffset = 0;
  #enabled = false;
  /** Moving average of record write sizes (1/8 weight for the newest). */
  #averageWriteBytes = 0;
  #inFlight: ZeroFill | null = null;
  /** Settles when the zero write in flight and its sync are done. */
  #settled: Promise<void> = Promise.resolve();
  #failure: WalError | null = null;

  constructor(io: FileIo, settings: PrefillSettings, reservedEnd: () => number) {
    this.#io = io;
    this.#settings = settings;
    this.#reservedEnd = reservedEnd;
    this.#chunkBytes = Math.max(1, Math.min(MAX_ZERO_CHUNK_BYTES, Math.floor(settings.windowBytes / 4)));
    this.#alignBytes = settings.windowBytes >= PAGE_BYTES ? PAGE_BYTES : 1;
  }

  /** A fatal failure of a zero write or sync, if one happened. */
  get failure(): WalError | null {
    return this.#failure;
  }

  /** How far zero writes have reached in the active segment (0 when none was issued). */
  get zeroEndOffset(): number {
    return this.#zeroEndOffset;
  }

  get durableZeroEndOffset(): number {
    return this.#durableZeroEndOffset;
  }

  /**
   * Points the window at `segment`, whose file (through `fd`) ends at `endOffset` and holds no zero
   * tail. Only with no zero-fill in flight (call `quiesce` first). `enabled` false keeps the prefill
   * off for this segment (after a full disk).
   */
  moveTo(segment: number, fd: number, endOffset: number, enabled: boolean): void {
    assertWal(this.#inFlight === null, `prefill moved to segment ${segment} with a zero-fill in flight`);
    this.#segment = segment;
    this.#fd = fd;
    this.#zeroEndOffset = endOffset;
    this.#durableZeroEndOffset = endOffset;
    this.#enabled = enabled && this.#settings.windowBytes > 0;
  }

  /**
   * Writes up to `maxBytes` of zeros (at most a window) right after the reserved end, in the foreground:
   * the caller syncs them (with a new segment's header, or alone at open). A full disk only switches
   * the prefill off; any other failure throws WAL_SYNC_FAILED.
   */
  async fillFirst(maxBytes: number): Promise<void> {
    if (!this.#enabled) return;
    assertWal(this.#inFlight === null, "foreground zero-fill with a background one in flight");
    const start = Math.max(this.#zeroEndOffset, this.#reservedEnd());
    const end = this.#chunkEnd(start, Math.min(maxBytes, this.#settings.windowBytes));
    if (end <= start) return;
    this.#assertBeyondReserved(start);
    this.#zeroEndOffset = end;
    try {
      await this.#writeZeros(this.#fd, start, end);
      this.#durableZeroEndOffset = end; // the caller's sync of the header covers them
    } catch (error) {
      if (!this.#noSpace(error, start)) throw this.#fatal(error, start, end);
    }
  }

  /**
   * Called after every reservation: when fewer than half a window of zeros lie ahead of the reserved
   * end, issues the next chunk in the background (one at a time, never past the segment size).
   */
  refill(): void {
    if (!this.#enabled || this.#inFlight !== null || this.#failure !== null) return;
    if (this.#averageWriteBytes >= LARGE_RECORD_WRITE_BYTES) return;
    const reserved = this.#reservedEnd();
    const window = this.#settings.windowBytes;
    if (this.#zeroEndOffset - reserved >= window / 2) return;
    const start = Math.max(this.#zeroEndOffset, reserved);
    const end = this.#chunkEnd(start, this.#chunkBytes);
    if (end <= start) return;
    this.#assertBeyondReserved(start);
    this.#zeroEndOffset = end;
    const segment = this.#segment;
    const fd = this.#fd;
    let wrote: () => void = () => {};
    const fill: ZeroFill = {
      segment,
      startOffset: start,
      endOffset: end,
      writing: true,
      written: new Promise<void>((resolve) => (wrote = resolve)),
    };
    this.#inFlight = fill;
    this.#settled = this.#writeZeros(fd, start, end)
      .finally(() => {
        fill.writing = false;
        wrote();
      })
      .then(async () => {
        this.zeroSyncs += 1;
        await this.#io.fdatasync(fd);
        if (this.#segment === segment) this.#durableZeroEndOffset = end;
      })
      .catch((error: unknown) => {
        if (!this.#noSpace(error, start)) this.#failure ??= this.#fatal(error, start, end);
      })
      .finally(() => {
        this.#inFlight = null;
        this.refill();
      });
  }

  /** Called with the size of every record write reserved (what decides whether zeros pay off). */
  noteRecordWrite(byteLength: number): void {
    this.#averageWriteBytes += (byteLength - this.#averageWriteBytes) / 8;
  }

  /**
   * The zero write a record write to `[startOffset, endOffset)` of `segment` must wait for, if one in
   * flight overlaps that range; undefined if the record write may be issued now.
   */
  overlapping(segment: number, startOffset: number, endOffset: number): Promise<void> | undefined {
    return this.#zeroWriteOver(segment, startOffset, endOffset)?.written;
  }

  /** Asserted right before a record write is issued: no zero write in flight overlaps its range. */
  assertClear(segment: number, startOffset: number, endOffset: number): void {
    const fill = this.#zeroWriteOver(segment, startOffset, endOffset);
    if (fill === undefined) return;
    assertWal(
      false,
      `record write [${startOffset}, ${endOffset}) of segment ${segment} overlaps the zero-fill [${fill.startOffset}, ${fill.endOffset}) in flight`,
    );
  }

  /** The zero write in flight (not yet returned) over any byte of that range, if there is one. */
  #zeroWriteOver(segment: number, startOffset: number, endOffset: number): ZeroFill | undefined {
    const fill = this.#inFlight;
    if (fill === null || !fill.writing || fill.segment !== segment) return undefined;
    return endOffset <= fill.startOffset || startOffset >= fill.endOffset ? undefined : fill;
  }

  /** Waits for the zero-fill in flight (write and sync) and stops issuing new ones until `moveTo`. */
  async quiesce(): Promise<void> {
    this.#enabled = false;
    while (this.#inFlight !== null) await this.#settled;
  }

  /** End of the next chunk from `start`: at most `chunkBytes` and the window, page-aligned when it can be. */
  #chunkEnd(start: number, chunkBytes: number): number {
    const limit = Math.min(this.#settings.segmentSizeBytes, this.#reservedEnd() + this.#settings.windowBytes);
    let end = Math.min(start + chunkBytes, limit);
    const aligned = end - (end % this.#alignBytes);
    if (aligned > start) end = aligned;
    return end;
  }

  #assertBeyondReserved(start: number): void {
    const reserved = this.#reservedEnd();
    assertWal(
      start >= reserved,
      `zero-fill at offset ${start} of segment ${this.#segment}, below the reserved end ${reserved}`,
    );
  }

  /** Writes zeros to `[start, end)`, continuing after short writes. Rejects with the raw error. */
  async #writeZeros(fd: number, start: number, end: number): Promise<void> {
    let offset = start;
    while (offset < end) {
      const byteLength = Math.min(end - offset, MAX_ZERO_CHUNK_BYTES);
      this.zeroWrites += 1;
      const written = await this.#io.writev(fd, [zeros(byteLength)], offset);
      assertWal(written > 0 && written <= byteLength, `zero writev returned ${written} of ${byteLength}`);
      this.zeroBytes += written;
      offset += written;
    }
  }

  /** True (and the prefill is off for this segment) when `error` is a full disk. */
  #noSpace(error: unknown, offset: number): boolean {
    if (!isNoSpaceError(error)) return false;
    this.#enabled = false;
    this.#settings.logger.warn(
      { segment: this.#segment, offset, error: describeError(error) },
      "wal: disk full while zero-filling ahead of the records; records extend the file until the next segment",
    );
    return true;
  }

  #fatal(error: unknown, start: number, end: number): WalError {
    if (error instanceof WalError) return error;
    const failure = new WalError(
      "WAL_SYNC_FAILED",
      `zero-filling [${start}, ${end}) of segment ${this.#segment} failed: ${describeError(error)}`,
      error,
    );
    this.#settings.logger.error(
      { segment: this.#segment, error: failure.message },
      "wal: zero-fill failed; the next write fails the WAL",
    );
    return failure;
  }
}
