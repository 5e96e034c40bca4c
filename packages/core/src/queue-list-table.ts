/**
 * Shared, numbered lists of queue ids. The message log keeps, for each live message, which queues
 * still hold it and which of them handed it out already; a backlog's messages mostly name the same
 * one or few queues, so each distinct list is kept once and messages refer to it by number (an int32
 * in a typed array instead of an array per message). Lists are reference-counted and their numbers
 * reused once unreferenced, so a workload that goes through many distinct lists does not leak them.
 *
 * Not here: what the lists mean. Number 0 is the empty list, never freed. Lists are frozen: a change
 * is a different list (with/without).
 */
import { assert } from "./errors.js";

export const EMPTY_LIST = 0;
const NO_QUEUES: readonly string[] = Object.freeze([]);

export class QueueListTable {
  private readonly lists: (readonly string[])[] = [NO_QUEUES];
  private readonly keys: string[] = [""];
  private readonly refs: number[] = [Number.POSITIVE_INFINITY];
  private readonly numbers = new Map<string, number>([["", EMPTY_LIST]]);
  private readonly free: number[] = [];

  /** Distinct lists held (the empty one included). */
  get size(): number {
    return this.numbers.size;
  }

  get(list: number): readonly string[] {
    const queues = this.lists[list];
    if (!(queues !== undefined && (this.refs[list] as number) > 0)) assert(false, `queue list ${list} is not held`);
    return queues;
  }

  /** The number of this list, counted as one more reference. */
  acquire(queues: readonly string[]): number {
    if (queues.length === 0) return EMPTY_LIST;
    // One queue, the usual case: the key join would make, without the call.
    const key = queues.length === 1 ? (queues[0] as string) : queues.join("\u0000");
    const known = this.holdKnown(key);
    if (known !== undefined) return known;
    const list = this.free.pop() ?? this.lists.length;
    this.lists[list] = Object.freeze([...queues]);
    this.keys[list] = key;
    this.refs[list] = 1;
    this.numbers.set(key, list);
    return list;
  }

  release(list: number): void {
    if (list === EMPTY_LIST) return;
    const refs = (this.refs[list] as number) - 1;
    if (!(refs >= 0)) assert(false, `queue list ${list} released more often than acquired`);
    this.refs[list] = refs;
    if (refs > 0) return;
    this.numbers.delete(this.keys[list] as string);
    this.lists[list] = NO_QUEUES;
    this.keys[list] = "";
    this.free.push(list);
  }

  /** The list without `queueId` (acquired), releasing `list`; the same number if it is not in it. */
  without(list: number, queueId: string): number {
    const queues = this.get(list);
    if (queues.length === 1) {
      // A message held by one queue, settled there: no filtered copy to build and look up.
      if (queues[0] !== queueId) return list;
      this.release(list);
      return EMPTY_LIST;
    }
    if (!queues.includes(queueId)) return list;
    const next = this.acquire(queues.filter((q) => q !== queueId));
    this.release(list);
    return next;
  }

  /** The list with `queueId` added at the end (acquired), releasing `list`; the same if it has it. */
  with(list: number, queueId: string): number {
    // A first delivery: the one-queue list is usually held already, under the queue id as its key.
    if (list === EMPTY_LIST) return this.holdKnown(queueId) ?? this.acquire([queueId]);
    const queues = this.get(list);
    if (queues.includes(queueId)) return list;
    const next = this.acquire([...queues, queueId]);
    this.release(list);
    return next;
  }

  /** The number of the list held under `key`, counted as one more reference; undefined if none is. */
  private holdKnown(key: string): number | undefined {
    const known = this.numbers.get(key);
    if (known !== undefined) this.refs[known] = (this.refs[known] as number) + 1;
    return known;
  }
}
