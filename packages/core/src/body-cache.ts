/**
 * Keeps the bodies of durable stored messages in memory up to a byte budget, and drops the rest. A
 * message enters once its record is durable (only then can it be read back); when the bodies held add
 * up to more than the budget, the newest go first: queues hand out their oldest messages first, so the
 * heads of a backlog stay in memory and its tail waits on disk.
 *
 * Not here: reading bodies back (the store's readMessage, driven by the queues), deciding which messages
 * may lose their body (the vhost: only those every holder has stored). Bodies read back for delivery do
 * not come back in: they belong to the few entries about to be sent, and the queue bounds how many.
 *
 * Buffers: the cache never copies a body; evicting sets `message.body` to undefined so that the buffer
 * can be collected once nothing else references it.
 */
import { assert } from "./errors.js";
import type { Message } from "./message.js";

/** 64 MiB: a few seconds of 1 KB messages at full publish rate, and a small part of a broker's RSS. */
export const DEFAULT_BODY_CACHE_BYTES = 64 * 1024 * 1024;

export interface BodyCacheStats {
  /** Bodies held (bytes). */
  cachedBytes: number;
  cachedMessages: number;
  /** Bodies dropped from memory since start. */
  evictions: number;
}

export class BodyCache {
  private readonly cached = new Map<number, Message>();
  private cachedBytes = 0;
  private evictions = 0;

  constructor(readonly budgetBytes: number = DEFAULT_BODY_CACHE_BYTES) {
    assert(Number.isSafeInteger(budgetBytes) && budgetBytes >= 0, `body cache budget ${budgetBytes} is not a byte count`);
  }

  /** A durable message whose body may be dropped: held while it fits, else dropped at once. */
  admit(message: Message): void {
    if (message.body === undefined || this.cached.has(message.id)) return;
    if (message.body.length !== message.bodySize) assert(false, `message ${message.id} body length differs from bodySize`);
    if (this.cachedBytes + message.bodySize > this.budgetBytes) {
      // It would be the newest, and the newest go first: it leaves memory at once. The bodies held stay
      // until their messages are gone, so a backlog keeps its head in memory and its tail on disk.
      message.body = undefined;
      this.evictions++;
      return;
    }
    this.cached.set(message.id, message);
    this.cachedBytes += message.bodySize;
  }

  /** The message left the store: its body is no longer the cache's business. */
  forget(messageId: number): void {
    const message = this.cached.get(messageId);
    if (!message) return;
    this.cached.delete(messageId);
    this.cachedBytes -= message.bodySize;
  }

  stats(): BodyCacheStats {
    return { cachedBytes: this.cachedBytes, cachedMessages: this.cached.size, evictions: this.evictions };
  }
}
