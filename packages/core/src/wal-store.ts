/**
 * The durable MessageStore over @leveret/wal. Two logs under the data dir:
 *   definitions/  durable exchanges, queues and bindings (small, rarely written, synced on every change)
 *   messages/     persistent messages and their settlements
 *
 * Messages are appended once (with the ids of every durable queue they went to); settlements are
 * batched per event-loop turn into one SETTLE record per queue. A message segment is deleted once every
 * message in it is settled and every older segment is gone. Deleting only from the oldest end matters: a
 * SETTLE record must never vanish while the message it settles still sits in an older segment, or
 * recovery would bring a settled message back.
 */
import { join } from "node:path";
import { type FsyncPolicy, Wal, type WalOptions } from "@leveret/wal";
import type { Message } from "./message.js";
import type {
  BindingDefinition,
  ExchangeDefinition,
  MessageStore,
  QueueDefinition,
  RecoveredMessage,
  RecoveredState,
  StoreStats,
} from "./store.js";
import {
  DefinitionRecord,
  decodeMessageRecord,
  encodeMessageRecord,
  MessageRecord,
  packDefinition,
  unpackDefinition,
} from "./wal-records.js";

export interface WalStoreOptions {
  dataDir: string;
  fsync?: FsyncPolicy;
  fsyncIntervalMs?: number;
  segmentSizeBytes?: number;
  /** Test hook: file I/O for both logs (e.g. a crash-simulating MemoryFileIo). */
  fileIo?: WalOptions["fileIo"];
}

interface LiveMessage {
  segment: number;
  /** Durable queues still holding it. */
  remaining: number;
}

export class WalStore implements MessageStore {
  private definitions: Wal | undefined;
  private messages: Wal | undefined;
  private readonly live = new Map<number, LiveMessage>();
  /** Unsettled message references per segment. */
  private readonly segmentRefs = new Map<number, number>();
  private pendingSettles = new Map<string, number[]>();
  private settleFlushScheduled = false;
  private deleting = false;
  private readonly fatalListeners: ((error: Error) => void)[] = [];
  private readonly diskListeners: ((full: boolean) => void)[] = [];

  constructor(private readonly options: WalStoreOptions) {}

  async recover(): Promise<RecoveredState> {
    const exchanges = new Map<string, ExchangeDefinition>();
    const queues = new Map<string, QueueDefinition>();
    const bindings = new Map<string, BindingDefinition>();
    this.definitions = await Wal.open(this.walOptions("definitions"), ({ type, payload }) => {
      applyDefinition(type, payload, exchanges, queues, bindings);
    });
    const recovered = new Map<number, RecoveredMessage & { queueSet: Set<string>; segment: number }>();
    let maxId = 0;
    this.messages = await Wal.open(this.walOptions("messages"), ({ type, payload, position }) => {
      if (type === MessageRecord.Message) {
        // Copy: the log may reuse its read buffers, and the message outlives this callback.
        const { header, rawProperties, body } = decodeMessageRecord(Buffer.from(payload));
        maxId = Math.max(maxId, header.id);
        const message: Message = {
          id: header.id,
          exchange: header.exchange,
          routingKey: header.routingKey,
          properties: {},
          rawProperties,
          body,
          persistent: true,
        };
        recovered.set(header.id, { message, queueIds: [], queueSet: new Set(header.queues), segment: position.segment });
      } else if (type === MessageRecord.Settle) {
        const { q, ids } = unpackDefinition<{ q: string; ids: number[] }>(payload);
        for (const id of ids) {
          const entry = recovered.get(id);
          if (!entry) continue;
          entry.queueSet.delete(q);
          if (entry.queueSet.size === 0) recovered.delete(id);
        }
      }
    });
    const messages: RecoveredMessage[] = [];
    for (const entry of recovered.values()) {
      const queueIds = [...entry.queueSet].filter((id) => queues.has(id));
      if (queueIds.length === 0) continue;
      messages.push({ message: entry.message, queueIds });
      this.track(entry.message.id, entry.segment, queueIds.length);
    }
    return {
      exchanges: [...exchanges.values()],
      queues: [...queues.values()],
      bindings: [...bindings.values()],
      messages,
      nextMessageId: maxId + 1,
    };
  }

  saveExchange(definition: ExchangeDefinition): void {
    this.define(DefinitionRecord.ExchangeSaved, definition);
  }
  deleteExchange(vhost: string, name: string): void {
    this.define(DefinitionRecord.ExchangeDeleted, { vhost, name });
  }
  saveQueue(definition: QueueDefinition): void {
    this.define(DefinitionRecord.QueueSaved, definition);
  }
  deleteQueue(queueId: string): void {
    this.define(DefinitionRecord.QueueDeleted, { id: queueId });
  }
  saveBinding(definition: BindingDefinition): void {
    this.define(DefinitionRecord.BindingSaved, definition);
  }
  deleteBinding(definition: BindingDefinition): void {
    this.define(DefinitionRecord.BindingDeleted, definition);
  }

  appendMessage(message: Message, queueIds: readonly string[]): void {
    const log = this.messageLog();
    const payload = encodeMessageRecord(
      {
        id: message.id,
        exchange: message.exchange,
        routingKey: message.routingKey,
        queues: queueIds as string[],
        propertiesLength: message.rawProperties.length,
      },
      message.rawProperties,
      message.body,
    );
    const position = log.append(MessageRecord.Message, payload);
    this.track(message.id, position.segment, queueIds.length);
  }

  settle(queueId: string, messageId: number): void {
    let ids = this.pendingSettles.get(queueId);
    if (!ids) {
      ids = [];
      this.pendingSettles.set(queueId, ids);
    }
    ids.push(messageId);
    if (!this.settleFlushScheduled) {
      this.settleFlushScheduled = true;
      setImmediate(() => this.flushSettles(true));
    }
  }

  commit(): Promise<void> {
    this.flushSettles(false);
    const definitions = this.definitions;
    const messages = this.messageLog();
    if (definitions && !definitions.idle) return Promise.all([definitions.commit(), messages.commit()]).then(noop);
    return messages.commit();
  }

  get idle(): boolean {
    return (this.messages?.idle ?? true) && (this.definitions?.idle ?? true) && this.pendingSettles.size === 0;
  }

  onFatal(listener: (error: Error) => void): void {
    this.fatalListeners.push(listener);
  }

  onDiskFull(listener: (full: boolean) => void): void {
    this.diskListeners.push(listener);
  }

  stats(): StoreStats {
    const d = this.definitions?.stats();
    const m = this.messages?.stats();
    return {
      diskBytes: (d?.totalBytes ?? 0) + (m?.totalBytes ?? 0),
      corruptRecordsSkipped: (d?.corruptRecordsSkipped ?? 0) + (m?.corruptRecordsSkipped ?? 0),
    };
  }

  async close(): Promise<void> {
    this.flushSettles(false);
    await this.messages?.close();
    await this.definitions?.close();
  }

  // ---- internals ----

  private walOptions(name: string): WalOptions {
    const options: WalOptions = { dir: join(this.options.dataDir, name), fsync: this.options.fsync ?? "always" };
    if (this.options.fsyncIntervalMs !== undefined) options.fsyncIntervalMs = this.options.fsyncIntervalMs;
    if (this.options.segmentSizeBytes !== undefined) options.segmentSizeBytes = this.options.segmentSizeBytes;
    if (this.options.fileIo !== undefined) options.fileIo = this.options.fileIo;
    return options;
  }

  private messageLog(): Wal {
    if (!this.messages) throw new Error("WalStore used before recover()");
    return this.messages;
  }

  /**
   * Definitions are rare and must not wait for a publish to become durable: each change is committed
   * at once; a failure is fatal (a definition the client saw acknowledged would otherwise be lost).
   */
  private define(type: number, value: unknown): void {
    if (!this.definitions) throw new Error("WalStore used before recover()");
    this.definitions.append(type, packDefinition(value));
    this.definitions.commit().catch((error: Error) => this.fail(error));
  }

  private track(messageId: number, segment: number, refs: number): void {
    this.live.set(messageId, { segment, remaining: refs });
    this.segmentRefs.set(segment, (this.segmentRefs.get(segment) ?? 0) + refs);
  }

  private flushSettles(commit: boolean): void {
    this.settleFlushScheduled = false;
    if (this.pendingSettles.size === 0) return;
    const log = this.messageLog();
    const batch = this.pendingSettles;
    this.pendingSettles = new Map();
    let freedSegment = false;
    for (const [queueId, ids] of batch) {
      log.append(MessageRecord.Settle, packDefinition({ q: queueId, ids }));
      for (const id of ids) freedSegment = this.release(id) || freedSegment;
    }
    // A lost settle only causes a redelivery, so nobody waits for this commit; it just gets the
    // records written. Errors still matter: a failed sync is fatal for the whole store.
    if (commit) log.commit().catch((error: Error) => this.onCommitError(error));
    if (freedSegment) void this.deleteSettledSegments();
  }

  /** Returns true when the message's segment has no unsettled messages left. */
  private release(messageId: number): boolean {
    const live = this.live.get(messageId);
    if (!live) return false;
    live.remaining--;
    const refs = (this.segmentRefs.get(live.segment) ?? 1) - 1;
    this.segmentRefs.set(live.segment, refs);
    if (live.remaining === 0) this.live.delete(messageId);
    return refs === 0;
  }

  /** Deletes fully settled segments from the oldest end (see the file comment for why only there). */
  private async deleteSettledSegments(): Promise<void> {
    if (this.deleting || !this.messages) return;
    this.deleting = true;
    try {
      for (const segment of this.messages.segments()) {
        if (!segment.sealed || (this.segmentRefs.get(segment.segment) ?? 0) > 0) break;
        await this.messages.deleteSegment(segment.segment);
        this.segmentRefs.delete(segment.segment);
      }
    } catch (error) {
      this.fail(error as Error);
    } finally {
      this.deleting = false;
    }
  }

  private onCommitError(error: Error & { code?: string }): void {
    if (error.code === "WAL_NO_SPACE") return; // surfaced through the disk-full listeners
    this.fail(error);
  }

  private fail(error: Error): void {
    for (const listener of this.fatalListeners) listener(error);
  }
}

function noop(): void {}

function applyDefinition(
  type: number,
  payload: Buffer,
  exchanges: Map<string, ExchangeDefinition>,
  queues: Map<string, QueueDefinition>,
  bindings: Map<string, BindingDefinition>,
): void {
  switch (type) {
    case DefinitionRecord.ExchangeSaved: {
      const d = unpackDefinition<ExchangeDefinition>(payload);
      exchanges.set(`${d.vhost}\u0000${d.name}`, d);
      break;
    }
    case DefinitionRecord.ExchangeDeleted: {
      const d = unpackDefinition<{ vhost: string; name: string }>(payload);
      exchanges.delete(`${d.vhost}\u0000${d.name}`);
      for (const [key, b] of bindings) {
        if (b.vhost === d.vhost && (b.source === d.name || (b.destinationKind === "exchange" && b.destination === d.name))) {
          bindings.delete(key);
        }
      }
      break;
    }
    case DefinitionRecord.QueueSaved: {
      const d = unpackDefinition<QueueDefinition>(payload);
      queues.set(d.id, d);
      break;
    }
    case DefinitionRecord.QueueDeleted: {
      const { id } = unpackDefinition<{ id: string }>(payload);
      const queue = queues.get(id);
      queues.delete(id);
      if (queue) {
        for (const [key, b] of bindings) {
          if (b.vhost === queue.vhost && b.destinationKind === "queue" && b.destination === queue.name) bindings.delete(key);
        }
      }
      break;
    }
    case DefinitionRecord.BindingSaved: {
      const d = unpackDefinition<BindingDefinition>(payload);
      bindings.set(bindingKey(d), d);
      break;
    }
    case DefinitionRecord.BindingDeleted: {
      bindings.delete(bindingKey(unpackDefinition<BindingDefinition>(payload)));
      break;
    }
    default:
      // Unknown record types come from a newer format; refusing to guess is safer than misreading.
      throw new Error(`definitions log holds an unknown record type ${type}`);
  }
}

function bindingKey(d: BindingDefinition): string {
  return JSON.stringify([d.vhost, d.source, d.destinationKind, d.destination, d.routingKey, d.arguments]);
}
