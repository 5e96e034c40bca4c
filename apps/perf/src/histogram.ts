/**
 * A log-linear latency histogram (the HdrHistogram idea, reduced to what leveret-perf needs): values
 * are non-negative integers (leveret-perf records microseconds), counted in buckets whose width grows
 * with the value so that every bucket's width is at most 1/128 of its lower bound. A percentile is
 * therefore reported within 0.8% of the true sample, and memory stays fixed (4,352 counters, 34 KB) however
 * many samples are recorded: a run of a billion messages costs the same as a run of ten.
 *
 * Does not store samples, does not know about time or units, and allocates nothing after construction.
 *
 * Layout: values below SUB_BUCKET_COUNT (256) get one bucket each. Above that, each power of two
 * [2^k, 2^(k+1)) is split into HALF_SUB_BUCKET_COUNT (128) equal buckets:
 *
 *   index = shift * 128 + (value >> shift)      where shift = floor(log2(value)) - 7
 *
 *   value:   0 1 2 ... 255 | 256 258 ... 510 | 512 516 ... 1020 | ...
 *   index:   0 1 2 ... 255 | 256 257 ... 383 | 384 385 ...  511 | ...
 */

const SUB_BUCKET_BITS = 8;
const SUB_BUCKET_COUNT = 1 << SUB_BUCKET_BITS;
const HALF_SUB_BUCKET_COUNT = SUB_BUCKET_COUNT >> 1;
/** Values are clamped to below 2^40 (about 12.7 days in microseconds), far past any sane latency. */
const MAX_VALUE_BITS = 40;
export const HISTOGRAM_MAX_VALUE = 2 ** MAX_VALUE_BITS - 1;
const BUCKET_COUNT = (MAX_VALUE_BITS - SUB_BUCKET_BITS + 2) * HALF_SUB_BUCKET_COUNT;

export class Histogram {
  /** Float64 rather than Uint32: counts stay exact up to 2^53 and never wrap. */
  private readonly counts = new Float64Array(BUCKET_COUNT);
  private totalCount = 0;
  private sum = 0;
  private minValue = Number.POSITIVE_INFINITY;
  private maxValue = 0;
  /** How many recorded values were above HISTOGRAM_MAX_VALUE (and counted as it). */
  private clampedCount = 0;

  /** Records one value; negative values (a clock step) count as 0, huge ones as HISTOGRAM_MAX_VALUE. */
  record(value: number): void {
    let v = Math.floor(value);
    if (!(v >= 0)) v = 0; // also catches NaN
    if (v > HISTOGRAM_MAX_VALUE) {
      v = HISTOGRAM_MAX_VALUE;
      this.clampedCount++;
    }
    const index = bucketIndexOf(v);
    this.counts[index] = (this.counts[index] ?? 0) + 1;
    this.totalCount++;
    this.sum += v;
    if (v < this.minValue) this.minValue = v;
    if (v > this.maxValue) this.maxValue = v;
  }

  get count(): number {
    return this.totalCount;
  }

  get min(): number {
    return this.totalCount === 0 ? 0 : this.minValue;
  }

  /** The exact largest recorded value (not a bucket bound). */
  get max(): number {
    return this.maxValue;
  }

  get mean(): number {
    return this.totalCount === 0 ? 0 : this.sum / this.totalCount;
  }

  get clamped(): number {
    return this.clampedCount;
  }

  /**
   * The value at percentile `p` (0..100]: the highest value equivalent to the bucket that holds the
   * sample of rank ceil(p% of count), never above the exact maximum. 0 when empty.
   */
  percentile(p: number): number {
    if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`);
    if (this.totalCount === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.totalCount));
    let seen = 0;
    for (let index = 0; index < BUCKET_COUNT; index++) {
      seen += this.counts[index] ?? 0;
      if (seen >= rank) return Math.min(highestValueOf(index), this.maxValue);
    }
    throw new Error(`histogram invariant broken: ${seen} counted in buckets, ${this.totalCount} recorded`);
  }

  /** Adds every sample of `other` into this histogram. */
  add(other: Histogram): void {
    for (let index = 0; index < BUCKET_COUNT; index++) {
      const c = other.counts[index] ?? 0;
      if (c !== 0) this.counts[index] = (this.counts[index] ?? 0) + c;
    }
    this.totalCount += other.totalCount;
    this.sum += other.sum;
    this.clampedCount += other.clampedCount;
    if (other.totalCount > 0) {
      this.minValue = Math.min(this.minValue, other.minValue);
      this.maxValue = Math.max(this.maxValue, other.maxValue);
    }
  }

  reset(): void {
    this.counts.fill(0);
    this.totalCount = 0;
    this.sum = 0;
    this.minValue = Number.POSITIVE_INFINITY;
    this.maxValue = 0;
    this.clampedCount = 0;
  }
}

function bucketIndexOf(value: number): number {
  if (value < SUB_BUCKET_COUNT) return value;
  // Math.log2 is exact for powers of two, and floor() of it is the position of the top bit for every
  // integer below 2^53; values here are below 2^40.
  const shift = Math.floor(Math.log2(value)) - (SUB_BUCKET_BITS - 1);
  return shift * HALF_SUB_BUCKET_COUNT + Math.floor(value / 2 ** shift);
}

/** The largest value that lands in bucket `index`. */
function highestValueOf(index: number): number {
  if (index < SUB_BUCKET_COUNT) return index;
  const shift = Math.floor(index / HALF_SUB_BUCKET_COUNT) - 1;
  const subBucket = index - shift * HALF_SUB_BUCKET_COUNT;
  return (subBucket + 1) * 2 ** shift - 1;
}
