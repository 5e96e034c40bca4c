/**
 * The storage interface the core owns. The core decides *what* must be durable (definitions of
 * durable entities; persistent messages routed to durable queues; their settlement); a store decides
 * *how*. WalStore keeps it in @leveret/wal; MemoryStore keeps nothing (tests, transient brokers).
 *
 * Ordering contract (docs/ordering.md): appends are synchronous and ordered; `commit()` resolves once
 * everything appended before it is durable. The caller sends a publisher confirm only after that.
 */
import type { Message, MessageProperties } from "./message.js";

export interface ExchangeDefinition {
  vhost: string;
  name: string;
  type: string;
  durable: boolean;
  autoDelete: boolean;
  internal: boolean;
  arguments: Record<string, unknown>;
}

export interface QueueDefinition {
  /** Unique per declaration: a queue deleted and declared again is a new incarnation. */
  id: string;
  vhost: string;
  name: string;
  durable: boolean;
  autoDelete: boolean;
  arguments: Record<string, unknown>;
}

export interface BindingDefinition {
  vhost: string;
  source: string;
  destinationKind: "queue" | "exchange";
  destination: string;
  routingKey: string;
  arguments: Record<string, unknown>;
}

/**
 * One recovered message as recovery hands it over: no body and no Message object (a backlog of a
 * million stays on disk; queues read each back by id when they deliver it).
 */
export interface RecoveredMessage {
  id: number;
  bodySize: number;
  /** Queue ids (durable queues) that still hold the message unsettled, in enqueue order. */
  queueIds: readonly string[];
  /** Those of `queueIds` that had handed it out before (its next delivery there is a redelivery). */
  deliveredQueueIds: readonly string[];
  /** The properties that shape queueing (per-message TTL, priority), when it has them. */
  expiration: string | undefined;
  priority: number | undefined;
}

/**
 * The recovered messages, in publish order. forEach hands out one object it reuses for every message:
 * copy what must outlive the call (a list of a million objects is what this avoids).
 */
export interface RecoveredMessages {
  readonly count: number;
  forEach(visit: (message: Readonly<RecoveredMessage>) => void): void;
}

/** A stored message read back: views into one buffer read from disk, owned by the caller. */
export interface StoredMessage {
  exchange: string;
  routingKey: string;
  rawProperties: Buffer;
  body: Buffer;
}

export interface RecoverOptions {
  /** Decodes raw properties, so that recovery can report each message's expiration and priority. */
  decodeProperties?: (raw: Buffer) => MessageProperties;
}

export interface RecoveredState {
  exchanges: ExchangeDefinition[];
  queues: QueueDefinition[];
  bindings: BindingDefinition[];
  /** In publish order. */
  messages: RecoveredMessages;
  nextMessageId: number;
}

export interface StoreStats {
  /** Bytes the store occupies on disk (0 for memory). */
  diskBytes: number;
  corruptRecordsSkipped: number;
  /** Record writes to the logs since start, and how many of them ran on the event loop (0 for memory). */
  logWrites: number;
  inlineLogWrites: number;
}

export interface MessageStore {
  /** Reads everything back. Called once, before any other method. */
  recover(options?: RecoverOptions): Promise<RecoveredState>;

  saveExchange(definition: ExchangeDefinition): void;
  deleteExchange(vhost: string, name: string): void;
  saveQueue(definition: QueueDefinition): void;
  deleteQueue(queueId: string): void;
  saveBinding(definition: BindingDefinition): void;
  deleteBinding(definition: BindingDefinition): void;

  /**
   * A persistent message enqueued on these durable queues. `bodyEvictable`: every queue holding it
   * stored it, so once durable its body may leave memory (a store with a body cache drops it and
   * readBody brings it back); otherwise the body must stay, as some holder could not read it back.
   */
  appendMessage(message: Message, queueIds: readonly string[], bodyEvictable?: boolean): void;
  /** A stored, unsettled message read back from disk (its body left memory, or it was recovered). */
  readMessage(messageId: number): Promise<StoredMessage>;
  /**
   * The queue handed the message out for the first time: after a restart its next delivery there
   * carries redelivered=true. Not synced on its own (it rides on the next commit); a marker lost in a
   * crash only clears a redelivered flag the spec calls a hint.
   */
  markDelivered(queueId: string, messageId: number): void;
  /** The message left that queue for good (acked, dropped, purged, dead-lettered). */
  settle(queueId: string, messageId: number): void;

  /** Resolves when everything appended so far is durable; rejects (StoreError) if it cannot be. */
  commit(): Promise<void>;
  /** True when nothing appended is waiting for durability. */
  readonly idle: boolean;

  /** Called on a fatal storage failure (the broker must stop). */
  onFatal(listener: (error: Error) => void): void;
  /** Called when the disk fills (true) or has room again (false). */
  onDiskFull(listener: (full: boolean) => void): void;

  stats(): StoreStats;
  close(): Promise<void>;
}
