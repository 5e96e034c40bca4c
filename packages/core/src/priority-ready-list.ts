/**
 * The ready list of a priority queue (x-max-priority): one FIFO per priority level, served highest
 * first. A message's priority property above the queue's maximum counts as the maximum and a missing
 * one as 0 (RabbitMQ's rule), so order within a level stays publish order.
 *
 * Expiry is checked at the head of every level, as RabbitMQ's priority queues do (each level is a
 * queue of its own there): an expired low-priority message is dropped even while higher ones wait.
 *
 * Not here: delivery or settlement. Entries are owned by the queue.
 */
import type { Message } from "./message.js";
import { FifoReadyList, type ReadyEntry, type ReadyList } from "./ready-list.js";

/** A message's priority property as a level (0..255): anything but a non-negative integer is 0. */
export function priorityLevel(priority: unknown): number {
  if (typeof priority !== "number" || !Number.isInteger(priority) || priority < 0) return 0;
  return Math.min(priority, 255);
}

export class PriorityReadyList implements ReadyList {
  /** levels[p] holds the entries of priority p. */
  private readonly levels: FifoReadyList[];
  private count = 0;
  private bytes = 0;
  /** Highest level that may be non-empty (levels above it are empty). */
  private top = -1;

  constructor(readonly maxPriority: number) {
    this.levels = Array.from({ length: maxPriority + 1 }, () => new FifoReadyList());
  }

  /** The level an entry is queued at. */
  priorityOf(entry: ReadyEntry): number {
    return Math.min(entry.priority, this.maxPriority);
  }

  get length(): number {
    return this.count;
  }

  get bodyBytes(): number {
    return this.bytes;
  }

  push(entry: ReadyEntry): void {
    this.levelFor(entry).push(entry);
    this.added(entry);
  }

  shift(): ReadyEntry | undefined {
    const level = this.topLevel();
    const entry = level?.shift();
    if (entry) this.removed(entry);
    return entry;
  }

  peek(): ReadyEntry | undefined {
    return this.topLevel()?.peek();
  }

  restore(entry: ReadyEntry): void {
    this.levelFor(entry).restore(entry);
    this.added(entry);
  }

  headMessage(): Message | undefined {
    return this.topLevel()?.headMessage();
  }

  drain(visit: (id: number, stored: boolean) => void): number {
    let drained = 0;
    for (let p = this.maxPriority; p >= 0; p--) drained += (this.levels[p] as FifoReadyList).drain(visit);
    this.count = 0;
    this.bytes = 0;
    this.top = -1;
    return drained;
  }

  shiftExpired(nowMs: number): ReadyEntry | undefined {
    for (let p = this.top; p >= 0; p--) {
      const entry = (this.levels[p] as FifoReadyList).shiftExpired(nowMs);
      if (entry) {
        this.removed(entry);
        return entry;
      }
    }
    return undefined;
  }

  nextExpiryMs(): number | undefined {
    let earliest: number | undefined;
    for (let p = this.top; p >= 0; p--) {
      const at = (this.levels[p] as FifoReadyList).nextExpiryMs();
      if (at !== undefined && (earliest === undefined || at < earliest)) earliest = at;
    }
    return earliest;
  }

  visitFirst(limit: number, visit: (seq: number, id: number, message: Message | undefined) => void): void {
    let left = limit;
    for (let p = this.top; p >= 0 && left > 0; p--) {
      const level = this.levels[p] as FifoReadyList;
      level.visitFirst(left, visit);
      left -= Math.min(left, level.length);
    }
  }

  attach(seq: number, id: number, message: Message): boolean {
    for (let p = this.top; p >= 0; p--) if ((this.levels[p] as FifoReadyList).attach(seq, id, message)) return true;
    return false;
  }

  private levelFor(entry: ReadyEntry): FifoReadyList {
    return this.levels[this.priorityOf(entry)] as FifoReadyList;
  }

  private topLevel(): FifoReadyList | undefined {
    while (this.top >= 0 && (this.levels[this.top] as FifoReadyList).length === 0) this.top--;
    return this.top >= 0 ? this.levels[this.top] : undefined;
  }

  private added(entry: ReadyEntry): void {
    this.count++;
    this.bytes += entry.bodySize;
    this.top = Math.max(this.top, this.priorityOf(entry));
  }

  private removed(entry: ReadyEntry): void {
    this.count--;
    this.bytes -= entry.bodySize;
  }
}
