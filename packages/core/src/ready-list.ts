/**
 * The ready messages of a queue, in the order they will be handed out. FifoReadyList is the plain
 * queue (publish order; a requeued message goes back to its original place by sequence number);
 * PriorityReadyList (priority-ready-list.ts) serves higher priorities first. Both keep the byte count
 * of their bodies for x-max-length-bytes, and expose their heads' expiry so that a queue can drop
 * expired messages where RabbitMQ does: at the head.
 *
 * Compact: a ready message is a row of typed-array columns (id, seq, delivery count, expiry, size,
 * flags), not an object. Its Message object is kept beside the row only while it is useful: once the
 * body cache has dropped the body, the row forgets the object too (a backlog of a million messages
 * on disk costs about 50 bytes each here), and the queue reads the whole message back by id before it
 * hands it out (attach). Rows are examined for that a few at a time as messages arrive (sweep), so
 * the cost stays constant per publish.
 *
 * Not here: delivery, settlement, timers, reading from disk. push() copies what it needs from the entry
 * it is given; shift() hands out a fresh entry object.
 */
import type { Message } from "./message.js";
import { isExpired } from "./message-expiry.js";

/** A ready message as the queue handles it; `message` is undefined while it lives only on disk. */
export interface ReadyEntry {
  readonly id: number;
  /** Position in the queue; requeued messages go back to their place by it. */
  readonly seq: number;
  /** How many times it was handed out (deliver or get); > 0 means redelivered. */
  deliveryCount: number;
  /** Whether the store holds it for this queue (persistent message on a durable queue). */
  readonly stored: boolean;
  /** Set once settled, so a double settle is caught. */
  settled: boolean;
  /** When it expires on this queue (ms since the epoch), or undefined for never. */
  readonly expiresAtMs: number | undefined;
  readonly bodySize: number;
  /** Its level in a priority queue (0 elsewhere). */
  readonly priority: number;
  message: Message | undefined;
}

export interface ReadyList {
  readonly length: number;
  /** Sum of the body sizes of the entries (what x-max-length-bytes limits). */
  readonly bodyBytes: number;
  push(entry: ReadyEntry): void;
  /** Removes and returns the next entry to hand out. */
  shift(): ReadyEntry | undefined;
  peek(): ReadyEntry | undefined;
  /** The next entry's message if it is held in memory (with or without its body). */
  headMessage(): Message | undefined;
  /** A requeued entry goes back to its original position (by seq). */
  restore(entry: ReadyEntry): void;
  /** Removes everything, visiting each entry's id in order. */
  drain(visit: (id: number, stored: boolean) => void): number;
  /** Removes and returns one expired entry sitting at a head, if any. */
  shiftExpired(nowMs: number): ReadyEntry | undefined;
  /** The earliest expiry among the heads (what the queue's timer waits for). */
  nextExpiryMs(): number | undefined;
  /** Visits up to `limit` entries in the order they will be handed out (for reading bodies ahead). */
  visitFirst(limit: number, visit: (seq: number, id: number, message: Message | undefined) => void): void;
  /** Gives the entry with this seq its message read back from disk; false if it is no longer here. */
  attach(seq: number, id: number, message: Message): boolean;
}

const STORED = 1;
const NO_EXPIRY = Number.NaN;
/** Rows examined per push for messages whose body left memory. More than one, so the sweep catches up. */
const SWEEP_ROWS_PER_PUSH = 4;
/** Columns shrink back (by half) once less than an eighth is used, down to this many rows. */
const SHRINK_FLOOR_ROWS = 1024;

export class FifoReadyList implements ReadyList {
  private capacity: number;
  private head = 0;
  private count = 0;
  private bytes = 0;
  /** Rows from the head already examined by the sweep. */
  private swept = 0;
  private ids: Float64Array;
  private seqs: Float64Array;
  private deliveryCounts: Uint32Array;
  private expiries: Float64Array;
  private sizes: Uint32Array;
  private flags: Uint8Array;
  private priorities: Uint8Array;
  private messages: (Message | undefined)[];

  constructor(initialCapacity = 16) {
    this.capacity = initialCapacity;
    this.ids = new Float64Array(initialCapacity);
    this.seqs = new Float64Array(initialCapacity);
    this.deliveryCounts = new Uint32Array(initialCapacity);
    this.expiries = new Float64Array(initialCapacity);
    this.sizes = new Uint32Array(initialCapacity);
    this.flags = new Uint8Array(initialCapacity);
    this.priorities = new Uint8Array(initialCapacity);
    this.messages = new Array(initialCapacity).fill(undefined);
  }

  get length(): number {
    return this.count;
  }

  get bodyBytes(): number {
    return this.bytes;
  }

  /** Rows the columns have room for (they grow and shrink with the backlog). */
  get capacityRows(): number {
    return this.capacity;
  }

  push(entry: ReadyEntry): void {
    if (this.count === this.capacity) this.resize(this.capacity * 2);
    this.write(this.slot(this.count), entry);
    this.count++;
    this.sweep(SWEEP_ROWS_PER_PUSH);
  }

  shift(): ReadyEntry | undefined {
    if (this.count === 0) return undefined;
    const entry = this.read(this.head);
    this.clearSlot(this.head);
    this.head = this.head + 1 === this.capacity ? 0 : this.head + 1;
    this.count--;
    if (this.swept > 0) this.swept--;
    // A drained backlog must not keep its columns (about 40 bytes a row) for good.
    if (this.capacity > SHRINK_FLOOR_ROWS && this.count < this.capacity >>> 3) this.resize(this.capacity >>> 1);
    return entry;
  }

  peek(): ReadyEntry | undefined {
    return this.count === 0 ? undefined : this.read(this.head);
  }

  headMessage(): Message | undefined {
    return this.count === 0 ? undefined : this.messages[this.head];
  }

  restore(entry: ReadyEntry): void {
    if (this.count === this.capacity) this.resize(this.capacity * 2);
    const index = this.indexOfSeq(entry.seq);
    // Open a gap at `index` by moving the shorter side by one row.
    if (index < this.count - index) {
      this.head = this.head === 0 ? this.capacity - 1 : this.head - 1;
      for (let i = 0; i < index; i++) this.move(this.slot(i + 1), this.slot(i));
    } else {
      for (let i = this.count; i > index; i--) this.move(this.slot(i - 1), this.slot(i));
    }
    this.write(this.slot(index), entry);
    this.count++;
    if (index < this.swept) this.swept++;
  }

  drain(visit: (id: number, stored: boolean) => void): number {
    const drained = this.count;
    for (let i = 0; i < drained; i++) {
      const slot = this.slot(i);
      visit(this.ids[slot] as number, ((this.flags[slot] as number) & STORED) !== 0);
      this.messages[slot] = undefined;
    }
    this.head = 0;
    this.count = 0;
    this.bytes = 0;
    this.swept = 0;
    if (this.capacity > SHRINK_FLOOR_ROWS) this.resize(SHRINK_FLOOR_ROWS);
    return drained;
  }

  shiftExpired(nowMs: number): ReadyEntry | undefined {
    return this.count > 0 && isExpired(this.expiryAt(this.head), nowMs) ? this.shift() : undefined;
  }

  nextExpiryMs(): number | undefined {
    return this.count === 0 ? undefined : this.expiryAt(this.head);
  }

  visitFirst(limit: number, visit: (seq: number, id: number, message: Message | undefined) => void): void {
    const rows = Math.min(limit, this.count);
    for (let i = 0; i < rows; i++) {
      const slot = this.slot(i);
      visit(this.seqs[slot] as number, this.ids[slot] as number, this.messages[slot]);
    }
  }

  attach(seq: number, id: number, message: Message): boolean {
    const index = this.indexOfSeq(seq);
    if (index >= this.count) return false;
    const slot = this.slot(index);
    if (this.seqs[slot] !== seq || this.ids[slot] !== id) return false;
    this.messages[slot] = message;
    return true;
  }

  // ---- internals ----

  private slot(index: number): number {
    const slot = this.head + index;
    return slot >= this.capacity ? slot - this.capacity : slot;
  }

  private expiryAt(slot: number): number | undefined {
    const at = this.expiries[slot] as number;
    return Number.isNaN(at) ? undefined : at;
  }

  /** First index whose seq is not below `seq` (rows are in seq order). */
  private indexOfSeq(seq: number): number {
    let low = 0;
    let high = this.count;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.seqs[this.slot(mid)] as number) < seq) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  private write(slot: number, entry: ReadyEntry): void {
    this.ids[slot] = entry.id;
    this.seqs[slot] = entry.seq;
    this.deliveryCounts[slot] = entry.deliveryCount;
    this.expiries[slot] = entry.expiresAtMs ?? NO_EXPIRY;
    this.sizes[slot] = entry.bodySize;
    this.flags[slot] = entry.stored ? STORED : 0;
    this.priorities[slot] = entry.priority;
    this.messages[slot] = entry.message;
    this.bytes += entry.bodySize;
  }

  private read(slot: number): ReadyEntry {
    const expiry = this.expiries[slot] as number;
    return {
      id: this.ids[slot] as number,
      seq: this.seqs[slot] as number,
      deliveryCount: this.deliveryCounts[slot] as number,
      stored: ((this.flags[slot] as number) & STORED) !== 0,
      settled: false,
      expiresAtMs: Number.isNaN(expiry) ? undefined : expiry,
      bodySize: this.sizes[slot] as number,
      priority: this.priorities[slot] as number,
      message: this.messages[slot],
    };
  }

  private clearSlot(slot: number): void {
    this.bytes -= this.sizes[slot] as number;
    this.messages[slot] = undefined;
  }

  private move(from: number, to: number): void {
    this.ids[to] = this.ids[from] as number;
    this.seqs[to] = this.seqs[from] as number;
    this.deliveryCounts[to] = this.deliveryCounts[from] as number;
    this.expiries[to] = this.expiries[from] as number;
    this.sizes[to] = this.sizes[from] as number;
    this.flags[to] = this.flags[from] as number;
    this.priorities[to] = this.priorities[from] as number;
    this.messages[to] = this.messages[from];
    this.messages[from] = undefined;
  }

  /**
   * Forgets the Message objects of rows whose body left memory, examining up to `rows` rows past the
   * last one examined. It waits at a message whose body the cache has not yet decided on (it may still
   * go); a message that keeps its body, or carries CC/BCC keys only its object knows, stays an object.
   */
  private sweep(rows: number): void {
    for (let left = rows; left > 0 && this.swept < this.count; left--) {
      const slot = this.slot(this.swept);
      const message = this.messages[slot];
      if (message !== undefined) {
        if (message.body === undefined) {
          if (message.extraRoutingKeys === undefined) this.messages[slot] = undefined;
        } else if (message.evictionPending) {
          return;
        }
      }
      this.swept++;
    }
  }

  /** New columns of `capacity` rows (at least the rows held), the rows moved to their start. */
  private resize(capacity: number): void {
    const order = (column: Float64Array | Uint32Array | Uint8Array) => {
      const next = new (column.constructor as new (length: number) => typeof column)(capacity);
      for (let i = 0; i < this.count; i++) next[i] = column[this.slot(i)] as number;
      return next;
    };
    this.ids = order(this.ids) as Float64Array;
    this.seqs = order(this.seqs) as Float64Array;
    this.deliveryCounts = order(this.deliveryCounts) as Uint32Array;
    this.expiries = order(this.expiries) as Float64Array;
    this.sizes = order(this.sizes) as Uint32Array;
    this.flags = order(this.flags) as Uint8Array;
    this.priorities = order(this.priorities) as Uint8Array;
    const messages: (Message | undefined)[] = new Array(capacity).fill(undefined);
    for (let i = 0; i < this.count; i++) messages[i] = this.messages[this.slot(i)];
    this.messages = messages;
    this.head = 0;
    this.capacity = capacity;
  }
}
