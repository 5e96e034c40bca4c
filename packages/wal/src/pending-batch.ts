/**
 * A group-commit batch: the records appended during one event-loop turn (or while the pipeline of
 * batches in flight was full), laid out exactly as they will be written, one chunk per segment, and the
 * one promise every commit() waiting on them shares.
 *
 * It does no I/O. It holds references to the caller's payload buffers (never copies them) until the
 * batch has been written; the caller must not modify a payload before its commit() settles. Reads of a
 * record still in a batch are served from these buffers, as a copy.
 */
import { assertWal, WalError } from "./errors.js";
import { RECORD_HEADER_BYTES } from "./record-format.js";
import type { RecordPosition } from "./wal-types.js";

/** The records of one segment, contiguous from startOffset to endOffset. */
export interface BatchChunk {
  readonly segment: number;
  readonly startOffset: number;
  endOffset: number;
  /**
   * Per record its head (the header and any small leading payload parts copied behind it), then the
   * remaining payload parts, in file order: handed to writev as is.
   */
  readonly buffers: Buffer[];
  /** Per record: its offset, and the index of its head in `buffers`. */
  readonly recordOffsets: number[];
  readonly recordBufferIndexes: number[];
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
  /** Set when issued: the batch's writes, settling with their failure instead of rejecting. */
  written: Promise<WalError | undefined> | undefined;
  /** Set when issued: it rotates to a new segment, so nothing may be in flight beside it. */
  barrier = false;
  #outcome: { error: WalError | undefined } | undefined;
  #promise: Promise<void> | undefined;
  #resolve: (() => void) | undefined;
  #reject: ((error: WalError) => void) | undefined;

  /** Where the log ended when this batch began: a full-disk rollback cuts the files back to here. */
  constructor(
    readonly startSegment: number,
    readonly startOffset: number,
  ) {}

  /** `head` holds the header and the first `rest` payload parts; the parts from `rest` on follow it. */
  add(position: RecordPosition, head: Buffer, payload: Buffer | readonly Buffer[], rest: number): void {
    assertWal(this.phase === "forming", "append to a batch that is already being written");
    let chunk = this.chunks[this.chunks.length - 1];
    if (chunk === undefined || chunk.segment !== position.segment) {
      chunk = {
        segment: position.segment,
        startOffset: position.offset,
        endOffset: position.offset,
        buffers: [],
        recordOffsets: [],
        recordBufferIndexes: [],
      };
      this.chunks.push(chunk);
    }
    // Checked inline, not through assertWal, so that the message is only built when it fails.
    if (chunk.endOffset !== position.offset) {
      assertWal(false, `record at ${position.offset} leaves a gap in the batch ending at ${chunk.endOffset}`);
    }
    chunk.recordOffsets.push(position.offset);
    chunk.recordBufferIndexes.push(chunk.buffers.length);
    chunk.buffers.push(head);
    if (Buffer.isBuffer(payload)) {
      if (rest === 0) chunk.buffers.push(payload);
    } else {
      const parts = payload as readonly Buffer[];
      for (let i = rest; i < parts.length; i += 1) chunk.buffers.push(parts[i]!);
    }
    chunk.endOffset += position.length;
    this.recordCount += 1;
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

  /** True if any record of this batch lives in `segment`. */
  touches(segment: number): boolean {
    return this.chunks.some((chunk) => chunk.segment === segment);
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
    const head = index < 0 ? -1 : chunk.recordBufferIndexes[index]!;
    const end = chunk.recordBufferIndexes[index + 1] ?? chunk.buffers.length;
    const payload =
      head < 0
        ? undefined
        : Buffer.concat([
            chunk.buffers[head]!.subarray(RECORD_HEADER_BYTES),
            ...chunk.buffers.slice(head + 1, end),
          ]);
    if (payload === undefined || payload.length + RECORD_HEADER_BYTES !== position.length) {
      throw new WalError(
        "WAL_INVALID_ARGUMENT",
        `no record of ${position.length} bytes starts at segment ${position.segment} offset ${position.offset}`,
      );
    }
    return payload;
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
