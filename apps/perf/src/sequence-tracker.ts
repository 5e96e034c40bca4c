/**
 * Which sequence numbers of one stream (one producer's messages as seen in one queue, or one
 * producer's confirms) have been seen: a watermark below which every number has been seen, plus the
 * set of numbers seen above it. Messages of a stream arrive almost in order, so the set stays tiny and
 * memory does not grow with the run length; a bitmap of every sequence would cost 125 MB per billion.
 *
 * Does not know what a sequence means (sent, confirmed, received); the loss ledger gives it that
 * meaning. Sequence numbers are integers from 0 up.
 */

export type RecordOutcome = "new" | "duplicate";

export class SequenceTracker {
  /** Every sequence below this has been seen; the watermark itself has not. */
  private watermark = 0;
  /** Sequences seen above the watermark (never contains it, never anything below it). */
  private readonly ahead = new Set<number>();

  record(seq: number): RecordOutcome {
    if (!Number.isSafeInteger(seq) || seq < 0)
      throw new RangeError(`sequence must be a natural number: ${seq}`);
    if (seq < this.watermark || this.ahead.has(seq)) return "duplicate";
    if (seq !== this.watermark) {
      this.ahead.add(seq);
      return "new";
    }
    this.watermark++;
    while (this.ahead.delete(this.watermark)) this.watermark++;
    return "new";
  }

  has(seq: number): boolean {
    return seq < this.watermark || this.ahead.has(seq);
  }

  /** How many distinct sequences have been seen. */
  get distinctCount(): number {
    return this.watermark + this.ahead.size;
  }

  /** The lowest sequence not yet seen. */
  get lowestUnseen(): number {
    return this.watermark;
  }

  /** How many sequences are held out of order (a measure of reordering, and of this tracker's memory). */
  get outOfOrderCount(): number {
    return this.ahead.size;
  }

  /** How many sequences `expected` has seen that this tracker has not. */
  countMissing(expected: SequenceTracker): number {
    let missing = 0;
    if (expected.watermark > this.watermark) {
      missing += expected.watermark - this.watermark;
      for (const seq of this.ahead) if (seq < expected.watermark) missing--;
    }
    for (const seq of expected.ahead) if (seq >= this.watermark && !this.ahead.has(seq)) missing++;
    return missing;
  }

  /** Up to `limit` of the sequences `expected` has seen that this tracker has not, lowest first. */
  listMissing(expected: SequenceTracker, limit: number): number[] {
    const found: number[] = [];
    for (let seq = this.watermark; seq < expected.watermark && found.length < limit; seq++) {
      if (!this.ahead.has(seq)) found.push(seq);
    }
    const beyond = [...expected.ahead].filter((seq) => !this.has(seq)).sort((a, b) => a - b);
    for (const seq of beyond) {
      if (found.length >= limit) break;
      found.push(seq);
    }
    return found;
  }
}
