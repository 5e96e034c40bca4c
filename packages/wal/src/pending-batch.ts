/**
 * A group-commit batch: the records appended during one event-loop turn (or while the pipeline of
 * batches in flight was full), laid out exactly as they will be written, one chunk per segment, and the
 * one promise every commit() waiting on them shares.
 *
 * Layout: each record's header, and every payload part of up to MAX_COPIED_PART_BYTES, is copied into
 * arenas taken from an ArenaPool, back to back, so that consecutive small records become one iovec;
 * a larger part is not copied but referenced as an iovec of its own between two arena runs.
 *
 * It does no I/O. It holds references to the caller's large payload parts until the batch has been
 * written; the caller must not modify a payload before its commit() settles. Its arenas go back to the
 * pool through release(), only once the batch's writes have returned. Reads of a record still in a
 * batch are served from these buffers, as a copy.
 */
import { Buffer } from "node:buffer";
import type { ArenaPool } from "./arena-pool.js";
import { recordChecksum } from "./checksum.js";
import { assertWal, WalError } from "./errors.js";
import { RECORD_HEADER_BYTES, writeRecordHeader } from "./record-format.js";
import type { RecordPosition } from "./wal-types.js";

/**
 * Payload parts up to this size are copied into the batch's arenas; larger ones are referenced. An
 * iovec costs Node and the kernel about 0.05-0.2 µs to marshal, copying 1 KiB about 0.03 µs (measured
 * on the bench machine, bench/README.md), so copying wins up to a few KiB.
 */
export const MAX_COPIED_PART_BYTES = 4096;

/** The records of one segment, contiguous from startOffset to endOffset. */
export interface BatchChunk {
  readonly segment: number;
  readonly startOffset: number;
  endOffset: number;
  /**
   * The chunk's bytes in file order, handed to writev as is: runs of arenas (headers and copied
   * parts) and referenced large parts. The last arena run is added when the batch is sealed.
   */
  readonly buffers: Buffer[];
  /** The offset of each record, ascending. */
  readonly recordOffsets: number[];
}

/**
 * forming -> writing -> (syncing) -> written. A commit() may still ask for a sync until the batch is
 * settled: the sync (if one is needed) happens when the batch's turn to complete comes.
 */
export type BatchPhase = "forming" | "writing" | "syncing" | "written";

const RESOLVED = Promise.resolve();

export class PendingBatch {
  readonly chunks: BatchChunk[] = [];
  phase: BatchPhase = "forming";
  syncRequested = false;
  recordCount = 0;
  /** Set once every write of the issued batch has returned: with the failure, if one failed. */
  writeResult: { error: WalError | undefined } | undefined;
  /** Set once a sync covering this batch has returned (when its writes alone were not durable). */
  synced = false;
  /** Set when issued: it rotates to a new segment, so nothing may be in flight beside it. */
  barrier = false;
  readonly #pool: ArenaPool;
  /** Every arena this batch took, to give back in release(). */
  readonly #arenas: Buffer[] = [];
  /** The arena being filled, where its unflushed run starts, and how far it is filled. */
  #arena: Buffer | null = null;
  #runStart = 0;
  #arenaUsed = 0;
  #issued = false;
  #writeWaiters: (() => void)[] | undefined;
  #outcome: { error: WalError | undefined } | undefined;
  #promise: Promise<void> | undefined;
  #resolve: (() => void) | undefined;
  #reject: ((error: WalError) => void) | undefined;

  /** Where the log ended when this batch began: a full-disk rollback cuts the files back to here. */
  constructor(
    pool: ArenaPool,
    readonly startSegment: number,
    readonly startOffset: number,
  ) {
    this.#pool = pool;
  }

  /**
   * Lays out the record at `position` (header and payload, `payloadBytes` in all, checked by the
   * caller) behind the records already in the batch.
   */
  add(
    position: RecordPosition,
    type: number,
    payload: Buffer | readonly Buffer[],
    payloadBytes: number,
  ): void {
    assertWal(this.phase === "forming", "append to a batch that is already being written");
    const chunk = this.#chunkFor(position);
    // Checked inline, not through assertWal, so that the message is only built when it fails.
    if (chunk.endOffset !== position.offset || position.length !== RECORD_HEADER_BYTES + payloadBytes) {
      assertWal(false, `record at ${position.offset} leaves a gap in the batch ending at ${chunk.endOffset}`);
    }
    const header = this.#reserve(chunk, RECORD_HEADER_BYTES);
    const headerArena = this.#arena!;
    if (Buffer.isBuffer(payload)) {
      this.#addPart(chunk, payload);
    } else {
      for (const part of payload as readonly Buffer[]) this.#addPart(chunk, part);
    }
    // The header (still unwritten: its run is not issued before the batch is) takes the checksum. A
    // single-buffer payload is summed as the caller's buffer, without a view of its copy (a Buffer
    // object per record for the garbage collector). A payload of several parts copied right behind the
    // header in the same arena is summed in one call over the copy; any other is summed part by part.
    let summed: Buffer | readonly Buffer[] = payload;
    if (!Buffer.isBuffer(payload)) {
      const payloadStart = header + RECORD_HEADER_BYTES;
      if (this.#arena === headerArena && this.#arenaUsed === payloadStart + payloadBytes) {
        summed = headerArena.subarray(payloadStart, payloadStart + payloadBytes);
      }
    }
    const checksum = recordChecksum(type, summed);
    writeRecordHeader(headerArena, header, payloadBytes, checksum, type);
    chunk.recordOffsets.push(position.offset);
    chunk.endOffset += position.length;
    this.recordCount += 1;
  }

  /**
   * Closes the last arena run, so that the chunks' buffers are complete, and moves to "writing".
   * Called once, when the batch is issued.
   */
  seal(): void {
    if (this.phase !== "forming") assertWal(false, `seal of a batch in phase ${this.phase}`);
    const last = this.chunks[this.chunks.length - 1];
    if (last !== undefined) this.#flushRun(last);
    this.phase = "writing";
    this.#issued = true;
  }

  /** Records that every write of the batch has returned, with the failure if one failed. */
  finishWrite(error: WalError | undefined): void {
    assertWal(this.#issued && this.writeResult === undefined, "a batch's writes finished twice");
    this.writeResult = { error };
    const waiters = this.#writeWaiters;
    this.#writeWaiters = undefined;
    if (waiters !== undefined) for (const wake of waiters) wake();
  }

  /** Resolves once the batch's writes have returned (at once if it was never issued). Never rejects. */
  whenWritten(): Promise<void> {
    if (!this.#issued || this.writeResult !== undefined) return RESOLVED;
    return new Promise((resolve) => {
      this.#writeWaiters ??= [];
      this.#writeWaiters.push(resolve);
    });
  }

  /** Gives the arenas back to the pool. Only once every write of the batch has returned. */
  release(): void {
    if (this.phase !== "written") assertWal(false, `release of a batch in phase ${this.phase}`);
    for (const arena of this.#arenas) this.#pool.give(arena);
    this.#arenas.length = 0;
    this.#arena = null;
  }

  /** The promise every commit() waiting on this batch shares, made on first request only. */
  promise(): Promise<void> {
    if (this.#outcome !== undefined) {
      return this.#outcome.error === undefined ? RESOLVED : Promise.reject(this.#outcome.error);
    }
    this.#promise ??= new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    return this.#promise;
  }

  settle(error?: WalError): void {
    if (this.#outcome !== undefined) return;
    this.#outcome = { error };
    if (error === undefined) this.#resolve?.();
    else this.#reject?.(error);
  }

  /**
   * A copy of the payload of the record at `position` if it is in this batch; undefined if the position
   * lies outside the batch; WAL_INVALID_ARGUMENT if it lies inside but is not a record of this batch.
   */
  findPayload(position: RecordPosition): Buffer | undefined {
    const chunk = this.chunks.find((candidate) => candidate.segment === position.segment);
    if (chunk === undefined || position.offset < chunk.startOffset || position.offset >= chunk.endOffset) {
      return undefined;
    }
    const index = binarySearch(chunk.recordOffsets, position.offset);
    const end = chunk.recordOffsets[index + 1] ?? chunk.endOffset;
    if (index < 0 || end - position.offset !== position.length) {
      throw new WalError(
        "WAL_INVALID_ARGUMENT",
        `no record of ${position.length} bytes starts at segment ${position.segment} offset ${position.offset}`,
      );
    }
    return this.#copyRange(chunk, position.offset + RECORD_HEADER_BYTES, end);
  }

  #chunkFor(position: RecordPosition): BatchChunk {
    const last = this.chunks[this.chunks.length - 1];
    if (last !== undefined && last.segment === position.segment) return last;
    // A run never spans segments: the previous chunk's last run ends here.
    if (last !== undefined) this.#flushRun(last);
    const chunk: BatchChunk = {
      segment: position.segment,
      startOffset: position.offset,
      endOffset: position.offset,
      buffers: [],
      recordOffsets: [],
    };
    this.chunks.push(chunk);
    return chunk;
  }

  #addPart(chunk: BatchChunk, part: Buffer): void {
    const length = part.length;
    if (length > MAX_COPIED_PART_BYTES) {
      this.#flushRun(chunk);
      chunk.buffers.push(part);
      return;
    }
    if (length === 0) return;
    const at = this.#reserve(chunk, length);
    this.#arena!.set(part, at);
  }

  /** `bytes` (at most an arena) of room in the current arena run; returns where they start. */
  #reserve(chunk: BatchChunk, bytes: number): number {
    if (this.#arena === null || this.#arenaUsed + bytes > this.#arena.length) {
      this.#flushRun(chunk);
      this.#arena = this.#pool.take();
      this.#arenas.push(this.#arena);
      this.#runStart = 0;
      this.#arenaUsed = 0;
    }
    const at = this.#arenaUsed;
    this.#arenaUsed += bytes;
    return at;
  }

  /** Appends the current arena run, if it holds anything, to `chunk`'s buffers; a new run starts. */
  #flushRun(chunk: BatchChunk): void {
    if (this.#arena === null || this.#arenaUsed === this.#runStart) return;
    chunk.buffers.push(this.#arena.subarray(this.#runStart, this.#arenaUsed));
    this.#runStart = this.#arenaUsed;
  }

  /** A copy of the chunk's bytes at file offsets [from, to), which may still lie in the open run. */
  #copyRange(chunk: BatchChunk, from: number, to: number): Buffer {
    const buffers = [...chunk.buffers];
    // Only a forming batch has an open run (seal() closes it), and it belongs to the last chunk.
    const open = this.#arena !== null && this.#arenaUsed > this.#runStart;
    if (open && chunk === this.chunks[this.chunks.length - 1]) {
      buffers.push(this.#arena!.subarray(this.#runStart, this.#arenaUsed));
    }
    const copy = Buffer.allocUnsafe(to - from);
    let bufferStart = chunk.startOffset;
    for (const buffer of buffers) {
      const bufferEnd = bufferStart + buffer.length;
      const start = Math.max(from, bufferStart);
      const end = Math.min(to, bufferEnd);
      if (start < end) copy.set(buffer.subarray(start - bufferStart, end - bufferStart), start - from);
      bufferStart = bufferEnd;
    }
    assertWal(bufferStart >= to, `record bytes up to ${to} missing from a batch ending at ${bufferStart}`);
    return copy;
  }
}

function binarySearch(sorted: readonly number[], wanted: number): number {
  let low = 0;
  let high = sorted.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const value = sorted[middle]!;
    if (value === wanted) return middle;
    if (value < wanted) low = middle + 1;
    else high = middle - 1;
  }
  return -1;
}
