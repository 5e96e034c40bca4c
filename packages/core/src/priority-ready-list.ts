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
import type { QueueEntry } from "./queue.js";
import { FifoReadyList, type ReadyList } from "./ready-list.js";

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

  /** The level a message is queued at. */
  priorityOf(entry: QueueEntry): number {
    const priority = entry.message.properties.priority;
    if (typeof priority !== "number" || !Number.isInteger(priority) || priority < 0) return 0;
    return Math.min(priority, this.maxPriority);
  }

  get length(): number {
    return this.count;
  }

  get bodyBytes(): number {
    return this.bytes;
  }

  push(entry: QueueEntry): void {
    this.levelFor(entry).push(entry);
    this.added(entry);
  }

  shift(): QueueEntry | undefined {
    const level = this.topLevel();
    const entry = level?.shift();
    if (entry) this.removed(entry);
    return entry;
  }

  peek(): QueueEntry | undefined {
    return this.topLevel()?.peek();
  }

  restore(entry: QueueEntry): void {
    this.levelFor(entry).restore(entry);
    this.added(entry);
  }

  clear(): QueueEntry[] {
    const all: QueueEntry[] = [];
    for (let p = this.maxPriority; p >= 0; p--) all.push(...(this.levels[p] as FifoReadyList).clear());
    this.count = 0;
    this.bytes = 0;
    this.top = -1;
    return all;
  }

  shiftExpired(nowMs: number): QueueEntry | undefined {
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

  visitFirst(limit: number, visit: (entry: QueueEntry) => void): void {
    let left = limit;
    for (let p = this.top; p >= 0 && left > 0; p--) {
      const level = this.levels[p] as FifoReadyList;
      level.visitFirst(left, visit);
      left -= Math.min(left, level.length);
    }
  }

  private levelFor(entry: QueueEntry): FifoReadyList {
    return this.levels[this.priorityOf(entry)] as FifoReadyList;
  }

  private topLevel(): FifoReadyList | undefined {
    while (this.top >= 0 && (this.levels[this.top] as FifoReadyList).length === 0) this.top--;
    return this.top >= 0 ? this.levels[this.top] : undefined;
  }

  private added(entry: QueueEntry): void {
    this.count++;
    this.bytes += entry.message.bodySize;
    this.top = Math.max(this.top, this.priorityOf(entry));
  }

  private removed(entry: QueueEntry): void {
    this.count--;
    this.bytes -= entry.message.bodySize;
  }
}
