/**
 * The ready messages of a queue, in the order they will be handed out. FifoReadyList is the plain
 * queue (publish order; a requeued message goes back to its original place by sequence number);
 * PriorityReadyList (priority-ready-list.ts) serves higher priorities first. Both keep the byte count
 * of their bodies for x-max-length-bytes, and expose their heads' expiry so that a queue can drop
 * expired messages where RabbitMQ does: at the head.
 *
 * Not here: delivery, settlement, timers. Entries are owned by the queue; lists only order them.
 */
import { Deque } from "./deque.js";
import { isExpired } from "./message-expiry.js";
import type { QueueEntry } from "./queue.js";

export interface ReadyList {
  readonly length: number;
  /** Sum of the body sizes of the entries (what x-max-length-bytes limits). */
  readonly bodyBytes: number;
  push(entry: QueueEntry): void;
  /** Removes and returns the next entry to hand out. */
  shift(): QueueEntry | undefined;
  peek(): QueueEntry | undefined;
  /** A requeued entry goes back to its original position (by seq). */
  restore(entry: QueueEntry): void;
  /** Removes everything; returns the entries in order. */
  clear(): QueueEntry[];
  /** Removes and returns one expired entry sitting at a head, if any. */
  shiftExpired(nowMs: number): QueueEntry | undefined;
  /** The earliest expiry among the heads (what the queue's timer waits for). */
  nextExpiryMs(): number | undefined;
  /** Visits up to `limit` entries in the order they will be handed out (for reading bodies ahead). */
  visitFirst(limit: number, visit: (entry: QueueEntry) => void): void;
}

export class FifoReadyList implements ReadyList {
  private readonly entries = new Deque<QueueEntry>();
  private bytes = 0;

  get length(): number {
    return this.entries.length;
  }

  get bodyBytes(): number {
    return this.bytes;
  }

  push(entry: QueueEntry): void {
    this.entries.push(entry);
    this.bytes += entry.message.bodySize;
  }

  shift(): QueueEntry | undefined {
    const entry = this.entries.shift();
    if (entry) this.bytes -= entry.message.bodySize;
    return entry;
  }

  peek(): QueueEntry | undefined {
    return this.entries.peek();
  }

  restore(entry: QueueEntry): void {
    this.bytes += entry.message.bodySize;
    const first = this.entries.peek();
    if (!first || entry.seq < first.seq) {
      this.entries.unshift(entry);
      return;
    }
    let low = 0;
    let high = this.entries.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.entries.at(mid) as QueueEntry).seq < entry.seq) low = mid + 1;
      else high = mid;
    }
    this.entries.insertAt(low, entry);
  }

  clear(): QueueEntry[] {
    this.bytes = 0;
    return this.entries.clear();
  }

  shiftExpired(nowMs: number): QueueEntry | undefined {
    const head = this.entries.peek();
    return head && isExpired(head.expiresAtMs, nowMs) ? this.shift() : undefined;
  }

  nextExpiryMs(): number | undefined {
    return this.entries.peek()?.expiresAtMs;
  }

  visitFirst(limit: number, visit: (entry: QueueEntry) => void): void {
    const count = Math.min(limit, this.entries.length);
    for (let i = 0; i < count; i++) visit(this.entries.at(i) as QueueEntry);
  }
}
