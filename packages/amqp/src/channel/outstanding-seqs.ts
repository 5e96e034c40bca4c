/**
 * The publish sequence numbers of one confirm channel that await their confirm. They are issued in
 * order and mostly settle in order, so they live in a ring of flags from the oldest outstanding number
 * up to the next one to issue: issue, settle and "oldest outstanding" cost O(1) (amortized) and no
 * allocation. A Set did the same with a hash-table insert and delete per publish, a rehash every so
 * often, and an iteration over deleted entries to find the oldest one left.
 *
 * Memory: one byte per number between the oldest outstanding one and the newest issued (the ring
 * doubles when a publisher gets that far ahead of its confirms, and never shrinks).
 */
const INITIAL_CAPACITY = 256;

export class OutstandingSeqs {
  /** Numbers below `oldest` are settled; `oldest` itself is outstanding unless it equals `next`. */
  private oldest = 1;
  private next = 1;
  private flags = new Uint8Array(INITIAL_CAPACITY);
  private mask = INITIAL_CAPACITY - 1;

  /** The next sequence number, now outstanding (1, 2, 3… as the confirms extension numbers them). */
  issue(): number {
    if (this.next - this.oldest === this.flags.length) this.grow();
    const seq = this.next++;
    this.flags[seq & this.mask] = 1;
    return seq;
  }

  /** Marks `seq` settled; false if it was not outstanding (never issued, or settled already). */
  settle(seq: number): boolean {
    if (seq < this.oldest || seq >= this.next || this.flags[seq & this.mask] === 0) return false;
    this.flags[seq & this.mask] = 0;
    if (seq === this.oldest) {
      let oldest = seq + 1;
      while (oldest < this.next && this.flags[oldest & this.mask] === 0) oldest++;
      this.oldest = oldest;
    }
    return true;
  }

  /** The oldest outstanding number, or Infinity when none is. */
  oldestOutstanding(): number {
    return this.oldest < this.next ? this.oldest : Number.POSITIVE_INFINITY;
  }

  /** Settles everything outstanding (the channel is closing). */
  clear(): void {
    this.flags.fill(0);
    this.oldest = this.next;
  }

  private grow(): void {
    const capacity = this.flags.length * 2;
    const flags = new Uint8Array(capacity);
    const mask = capacity - 1;
    for (let seq = this.oldest; seq < this.next; seq++)
      flags[seq & mask] = this.flags[seq & this.mask] as number;
    this.flags = flags;
    this.mask = mask;
  }
}
