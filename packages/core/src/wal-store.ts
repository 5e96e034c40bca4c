/**
 * The durable MessageStore over @leveret/wal. Two logs under the data dir:
 *   definitions/  durable exchanges, queues and bindings (small, rarely written, committed on change)
 *   messages/     persistent messages and their settlements (see MessageLog)
 *
 * Bodies: a message whose every holder stored it enters the BodyCache once its record is durable; past
 * the cache's budget its body leaves memory and readMessage() reads it back from its record.
 */
import { join } from "node:path";
import type { FsyncPolicy, Wal, WalOptions } from "@leveret/wal";
import { BodyCache, type BodyCacheStats, DEFAULT_BODY_CACHE_BYTES } from "./body-cache.js";
import type { Message } from "./message.js";
import { openDefinitionsLog } from "./definitions-log.js";
import { MessageLog } from "./message-log.js";
import type {
  BindingDefinition,
  ExchangeDefinition,
  MessageStore,
  QueueDefinition,
  RecoverOptions,
  RecoveredState,
  StoredMessage,
  StoreStats,
} from "./store.js";
import { DefinitionRecord, packDefinition, unpackDefinition } from "./wal-records.js";

/** Bodies appended without anyone asking for a commit, at most, before the store asks for one itself. */
const UNSYNCED_BODY_BYTES = 4 * 1024 * 1024;
/** Longest wait of durable bodies for their cache admission when no further publish comes. */
const ADMISSION_DELAY_MS = 1;

export interface WalStoreOptions {
  dataDir: string;
  fsync?: FsyncPolicy;
  fsyncIntervalMs?: number;
  segmentSizeBytes?: number;
  /** Where record writes run (WalOptions.writeMode; default the WAL's, "inline"). */
  walWriteMode?: WalOptions["writeMode"];
  /** Test hook: file I/O for both logs (e.g. a crash-simulating MemoryFileIo). */
  fileIo?: WalOptions["fileIo"];
  /** Where the logs report corrupt records and I/O trouble (default: console). */
  logger?: WalOptions["logger"];
  /** Bodies of durable messages kept in memory, at most (default 64 MiB); the rest are read back from disk. */
  bodyCacheBytes?: number;
}

export class WalStore implements MessageStore {
  private definitions: Wal | undefined;
  private messages: MessageLog | undefined;
  private readonly fatalListeners: ((error: Error) => void)[] = [];
  private readonly diskListeners: ((full: boolean) => void)[] = [];
  private readonly bodies: BodyCache;
  /** Evictable messages appended since the last commit() call: they enter the cache once durable. */
  private notYetDurable: Message[] = [];
  private notYetDurableBytes = 0;
  private durabilityScheduled = false;
  /** The commit whose continuation admits `awaitingAdmission` to the body cache. */
  private awaitingCommit: Promise<void> | undefined;
  private awaitingAdmission: Message[] = [];
  /** Durable bodies waiting to enter the cache (see queueAdmission), and what will admit them. */
  private admissionsDue: Message[][] = [];
  private admissionTimer: NodeJS.Timeout | undefined;
  private admissionImmediate = false;
  /** One read per message however many queues ask for it. */
  private readonly reads = new Map<number, Promise<StoredMessage>>();

  constructor(private readonly options: WalStoreOptions) {
    this.bodies = new BodyCache(options.bodyCacheBytes ?? DEFAULT_BODY_CACHE_BYTES);
  }

  async recover(options: RecoverOptions = {}): Promise<RecoveredState> {
    const exchanges = new Map<string, ExchangeDefinition>();
    const queues = new Map<string, QueueDefinition>();
    const bindings = new Map<string, BindingDefinition>();
    this.definitions = await openDefinitionsLog(
      {
        ...this.walOptions("definitions"),
        onStateChange: (state) => {
          if (state.failed) this.fail(state.error ?? new Error("the definitions log failed"));
        },
      },
      ({ type, payload }) => applyDefinition(type, payload, exchanges, queues, bindings),
      () => [
        ...[...exchanges.values()].map((d) => ({ type: DefinitionRecord.ExchangeSaved, payload: packDefinition(d) })),
        ...[...queues.values()].map((d) => ({ type: DefinitionRecord.QueueSaved, payload: packDefinition(d) })),
        ...[...bindings.values()].map((d) => ({ type: DefinitionRecord.BindingSaved, payload: packDefinition(d) })),
      ],
    );
    const { log, messages, maxId } = await MessageLog.open(
      { ...this.walOptions("messages"), ...options },
      (queueId) => queues.has(queueId),
      {
        onFatal: (error) => this.fail(error),
        onDiskFull: (full) => {
          for (const listener of this.diskListeners) listener(full);
        },
        onGone: (messageId) => this.bodies.forget(messageId),
      },
    );
    this.messages = log;
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

  appendMessage(message: Message, queueIds: readonly string[], bodyEvictable = false): void {
    this.messageLog().append(message, queueIds);
    if (!bodyEvictable) return;
    message.evictionPending = true;
    this.notYetDurable.push(message);
    this.notYetDurableBytes += message.bodySize;
    // Publishers without confirms never call commit(): their bodies still need one to become evictable.
    // Asked for only past a few MiB, so that such publishers do not pay an fsync per turn.
    if (this.durabilityScheduled || this.notYetDurableBytes < UNSYNCED_BODY_BYTES) return;
    this.durabilityScheduled = true;
    setImmediate(() => {
      this.durabilityScheduled = false;
      if (this.notYetDurable.length > 0) this.commit().catch(() => {}); // failures reach onFatal/onDiskFull
    });
  }

  readMessage(messageId: number): Promise<StoredMessage> {
    const pending = this.reads.get(messageId);
    if (pending) return pending;
    const read = this.messageLog()
      .readMessage(messageId)
      .catch((error: Error & { code?: string }) => {
        // A confirmed message that cannot be read back cannot be delivered: the broker must stop.
        if (error.code?.startsWith("WAL_") && error.code !== "WAL_CLOSED") this.fail(error);
        throw error;
      })
      .finally(() => this.reads.delete(messageId));
    this.reads.set(messageId, read);
    return read;
  }

  markDelivered(queueId: string, messageId: number): void {
    this.messageLog().markDelivered(queueId, messageId);
  }

  settle(queueId: string, messageId: number): void {
    this.messageLog().settle(queueId, messageId);
  }

  commit(): Promise<void> {
    const definitions = this.definitions;
    const messages = this.messageLog();
    const commit =
      definitions && !definitions.idle
        ? Promise.all([definitions.commit(), messages.commit()]).then(noop)
        : messages.commit();
    // The write of this commit is issued in the check phase (the log queued it at the first append);
    // admissions queued behind it run while the disk works, off the path of the next confirms.
    if (this.admissionsDue.length > 0 && !this.admissionImmediate) {
      this.admissionImmediate = true;
      setImmediate(this.admitDue);
    }
    if (this.notYetDurable.length > 0) {
      this.notYetDurableBytes = 0;
      // Every publish of one group commit shares its promise: one continuation per batch, not per
      // message. Bodies enter the cache only after the sync (before it the record could vanish).
      if (commit === this.awaitingCommit) {
        // The usual case, once per publish: no new array, no spread.
        for (const message of this.notYetDurable) this.awaitingAdmission.push(message);
        this.notYetDurable.length = 0;
      } else {
        const durable = this.notYetDurable;
        this.notYetDurable = [];
        this.awaitingCommit = commit;
        this.awaitingAdmission = durable;
        commit.then(
          () => {
            if (this.awaitingCommit === commit) this.awaitingCommit = undefined;
            this.queueAdmission(durable);
          },
          () => {
            // Not durable, so not evictable: the bodies stay (the store reported the failure).
            if (this.awaitingCommit === commit) this.awaitingCommit = undefined;
            for (const message of durable) message.evictionPending = false;
          },
        );
      }
    }
    return commit;
  }

  /**
   * Durable bodies enter the cache off the confirm path. A publisher waiting on confirms sends its next
   * burst only once they arrive, and the loop then sits idle while that burst's write is on disk: the
   * next commit() admits them in that shadow. Without a next publish, a timer admits them shortly.
   */
  private queueAdmission(durable: Message[]): void {
    this.admissionsDue.push(durable);
    this.admissionTimer ??= setTimeout(this.admitDue, ADMISSION_DELAY_MS);
  }

  private readonly admitDue = (): void => {
    this.admissionImmediate = false;
    clearTimeout(this.admissionTimer);
    this.admissionTimer = undefined;
    const due = this.admissionsDue;
    if (due.length === 0) return;
    this.admissionsDue = [];
    const messages = this.messageLog();
    for (const durable of due) {
      for (const message of durable) {
        message.evictionPending = false;
        if (messages.holds(message.id)) this.bodies.admit(message);
      }
    }
  };

  get idle(): boolean {
    return (this.messages?.idle ?? true) && (this.definitions?.idle ?? true);
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
      diskBytes: (d?.totalBytes ?? 0) + (m?.diskBytes ?? 0),
      corruptRecordsSkipped: (d?.corruptRecordsSkipped ?? 0) + (m?.corruptRecordsSkipped ?? 0),
      logWrites: (d?.writes ?? 0) + (m?.writes ?? 0),
      inlineLogWrites: (d?.inlineWrites ?? 0) + (m?.inlineWrites ?? 0),
    };
  }

  /** Message-log figures (live data, compactions) for tests and metrics. */
  messageStats() {
    return this.messageLog().stats();
  }

  /** Body cache figures (bytes held, evictions) for tests and metrics. */
  bodyCacheStats(): BodyCacheStats {
    return this.bodies.stats();
  }

  async close(): Promise<void> {
    clearTimeout(this.admissionTimer);
    this.admissionTimer = undefined;
    await this.messages?.close();
    await this.definitions?.close();
  }

  // ---- internals ----

  private walOptions(name: string): WalOptions {
    const options: WalOptions = { dir: join(this.options.dataDir, name), fsync: this.options.fsync ?? "always" };
    // Definitions change rarely: zeros laid ahead of them would cost a few MiB of disk and a write at
    // every start for nothing measurable.
    if (name === "definitions") options.prefillBytes = 0;
    if (this.options.fsyncIntervalMs !== undefined) options.fsyncIntervalMs = this.options.fsyncIntervalMs;
    if (this.options.segmentSizeBytes !== undefined) options.segmentSizeBytes = this.options.segmentSizeBytes;
    if (this.options.walWriteMode !== undefined) options.writeMode = this.options.walWriteMode;
    if (this.options.fileIo !== undefined) options.fileIo = this.options.fileIo;
    if (this.options.logger !== undefined) options.logger = this.options.logger;
    return options;
  }

  private messageLog(): MessageLog {
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
