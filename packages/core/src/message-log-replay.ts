/**
 * Replaying the messages/ log at startup into the compact live index: MESSAGE records add a message
 * (a later copy, written by compaction, replaces the earlier one: its queue list is the newer truth),
 * SETTLE records take a queue off a message's list (the message goes when no queue is left), DELIVERED
 * records note that a queue had handed it out. Nothing per message is kept on the heap but what the
 * queues must know at startup and is not in the index: expiration and priority, for the few messages
 * that have them.
 *
 * Not here: segment accounting (the message log does it once replay is over, when the set is final),
 * bodies (they stay on disk).
 */
import type { ReplayedRecord } from "@leveret/wal";
import { LiveIndex } from "./live-index.js";
import type { MessageProperties } from "./message.js";
import { EMPTY_LIST } from "./queue-list-table.js";
import { decodeMessageRecord, MessageRecord, unpackDefinition } from "./wal-records.js";

/** The queueing properties of a recovered message (shared between messages with the same values). */
export interface QueueingTraits {
  expiration: string | undefined;
  priority: number | undefined;
}

/** Decoded property lists remembered by their bytes, at most (a workload with unique ones decodes each). */
const MAX_REMEMBERED_PROPERTIES = 10_000;

export class MessageLogReplay {
  readonly index = new LiveIndex();
  /** Only messages with an expiration or a priority. */
  readonly traits = new Map<number, QueueingTraits>();
  maxId = 0;
  private readonly traitsByProperties = new Map<string, QueueingTraits | undefined>();
  private readonly sharedTraits = new Map<string, QueueingTraits>();

  constructor(private readonly decodeProperties: ((raw: Buffer) => MessageProperties) | undefined) {}

  apply({ type, payload, position }: ReplayedRecord): void {
    if (type === MessageRecord.Message) {
      const { header, rawProperties, body } = decodeMessageRecord(payload);
      const id = header.id;
      if (id > this.maxId) this.maxId = id;
      // A later copy (compaction wrote it) replaces the earlier one: its queue list is the newer truth.
      this.index.remove(id);
      const queues = this.index.lists.acquire(header.queues);
      this.index.set(id, { segment: position.segment, offset: position.offset, bytes: position.length, bodySize: body.length, queues, delivered: EMPTY_LIST });
      const traits = this.traitsOf(rawProperties);
      if (traits) this.traits.set(id, traits);
      else this.traits.delete(id);
    } else if (type === MessageRecord.Settle || type === MessageRecord.Delivered) {
      const { q, ids } = unpackDefinition<{ q: string; ids: number[] }>(payload);
      for (const id of ids) {
        if (type === MessageRecord.Delivered) this.index.markDelivered(id, q);
        else if (this.index.dropQueue(id, q) === "gone") this.traits.delete(id);
      }
    }
  }

  private traitsOf(rawProperties: Buffer): QueueingTraits | undefined {
    if (!this.decodeProperties) return undefined;
    const key = rawProperties.toString("latin1");
    if (this.traitsByProperties.has(key)) return this.traitsByProperties.get(key);
    const { expiration, priority } = this.decodeProperties(rawProperties);
    let traits: QueueingTraits | undefined;
    if (expiration !== undefined || priority !== undefined) {
      const traitsKey = `${expiration}\u0000${priority}`;
      traits = this.sharedTraits.get(traitsKey);
      if (!traits) {
        traits = { expiration, priority };
        this.sharedTraits.set(traitsKey, traits);
      }
    }
    if (this.traitsByProperties.size < MAX_REMEMBERED_PROPERTIES) this.traitsByProperties.set(key, traits);
    return traits;
  }
}
