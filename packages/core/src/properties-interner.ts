/**
 * One shared copy of each property list, exchange name, routing key and queue id that many messages
 * repeat. A backlog of a million messages usually carries a handful of distinct values; without this,
 * each message would hold its own copy, and a property list that is a small view into a shared 8 KiB
 * buffer pool slab would keep that whole slab (and the evicted bodies in it) alive.
 *
 * Not here: decoding. Bounded (MAX_DISTINCT_VALUES per kind): past it a value is copied, not kept.
 *
 * Buffers: buffer() returns either the interned copy or a fresh unpooled copy; the caller's view is
 * never kept, and nobody may mutate what it returns.
 */

import { Buffer } from "node:buffer";
import type { MessageProperties } from "./message.js";

/** Distinct values kept per kind; a workload with more distinct values pays one copy each. */
export const MAX_DISTINCT_VALUES = 10_000;

export class PropertiesInterner {
  private readonly strings = new Map<string, string>();
  private readonly buffers = new Map<string, Buffer>();
  /** Decoded properties by interned buffer: the same bytes decode to the same values. */
  private readonly decodedByBuffer = new Map<Buffer, MessageProperties>();
  /** The interned buffer returned last (only interned ones: a copy past the bound is not shared). */
  private lastBuffer: Buffer | undefined;

  string(value: string): string {
    const known = this.strings.get(value);
    if (known !== undefined) return known;
    if (this.strings.size < MAX_DISTINCT_VALUES) this.strings.set(value, value);
    return value;
  }

  /**
   * The decoded form of `raw` (a buffer this interner returned) shared by every message with those
   * bytes: the first one decoded is kept. Nobody mutates a message's properties.
   */
  decoded(raw: Buffer, properties: MessageProperties): MessageProperties {
    const known = this.decodedByBuffer.get(raw);
    if (known) return known;
    if (this.decodedByBuffer.size < MAX_DISTINCT_VALUES && this.buffers.has(raw.toString("latin1"))) {
      this.decodedByBuffer.set(raw, properties);
    }
    return properties;
  }

  /** A buffer with the bytes of `view` that does not keep the memory `view` points into alive. */
  buffer(view: Buffer): Buffer {
    // Consecutive messages mostly carry the same bytes: comparing with the last answer is cheaper than
    // building the string key.
    const last = this.lastBuffer;
    if (last !== undefined && view.equals(last)) return last;
    const key = view.toString("latin1");
    const known = this.buffers.get(key);
    if (known) {
      this.lastBuffer = known;
      return known;
    }
    // Unpooled: a pooled copy would share (and pin) a slab with unrelated buffers such as bodies.
    const copy = Buffer.allocUnsafeSlow(view.length);
    view.copy(copy);
    if (this.buffers.size < MAX_DISTINCT_VALUES) {
      this.buffers.set(key, copy);
      this.lastBuffer = copy;
    }
    return copy;
  }
}
