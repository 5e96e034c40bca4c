/**
 * A queue: ready messages in FIFO order, the count of delivered-but-unsettled ones, and its consumers.
 * Dispatch hands ready messages to consumers round-robin, each only while it has credit. Settlement of
 * a persistent message on a durable queue is recorded in the store (no sync needed: a lost settle only
 * means a redelivery, which at-least-once allows).
 *
 * Not here: routing (exchanges), delivery tags (channels), the wire format.
 */
import type { Consumer } from "./consumer.js";
import { Deque } from "./deque.js";
import { accessRefused, assert } from "./errors.js";
import type { Message } from "./message.js";
import type { MessageStore } from "./store.js";

export interface QueueEntry {
  readonly message: Message;
  /** Position in the queue; requeued messages go back to their place by it. */
  readonly seq: number;
  /** How many times it was handed out (deliver or get); > 0 means redelivered. */
  deliveryCount: number;
  /** Whether the store holds it for this queue (persistent message on a durable queue). */
  readonly stored: boolean;
  /** Set once settled, so a double settle is caught. */
  settled: boolean;
}

export interface QueueOptions {
  id: string;
  name: string;
  vhost: string;
  durable: boolean;
  autoDelete: boolean;
  /** The connection that owns an exclusive queue (opaque to the core). */
  exclusiveOwner: object | undefined;
  arguments: Record<string, unknown>;
}

export class Queue {
  readonly id: string;
  readonly name: string;
  readonly vhost: string;
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly exclusiveOwner: object | undefined;
  readonly arguments: Record<string, unknown>;
  deleted = false;
  /** Called when an auto-delete queue loses its last consumer. */
  onUnused: ((queue: Queue) => void) | undefined;

  private readonly ready = new Deque<QueueEntry>();
  private readonly consumers: Consumer[] = [];
  private nextConsumer = 0;
  private nextSeq = 1;
  private unsettledCount = 0;
  private hadConsumer = false;
  private dispatching = false;

  constructor(
    options: QueueOptions,
    private readonly store: MessageStore,
  ) {
    this.id = options.id;
    this.name = options.name;
    this.vhost = options.vhost;
    this.durable = options.durable;
    this.autoDelete = options.autoDelete;
    this.exclusiveOwner = options.exclusiveOwner;
    this.arguments = options.arguments;
  }

  get messageCount(): number {
    return this.ready.length;
  }

  get unackedCount(): number {
    return this.unsettledCount;
  }

  get consumerCount(): number {
    return this.consumers.length;
  }

  /** Whether a persistent message routed here must be stored. */
  storesPersistentMessages(): boolean {
    return this.durable;
  }

  enqueue(message: Message, deliveryCount = 0): void {
    const stored = message.persistent && this.durable;
    this.ready.push({ message, seq: this.nextSeq++, deliveryCount, stored, settled: false });
    this.dispatch();
  }

  /** basic.get: the next ready message, counted as delivered. */
  get(noAck: boolean): QueueEntry | undefined {
    const entry = this.ready.shift();
    if (!entry) return undefined;
    entry.deliveryCount++;
    this.unsettledCount++;
    if (noAck) this.settle(entry);
    return entry;
  }

  /** The consumer or getter is done with it (ack, or reject without requeue). */
  settle(entry: QueueEntry): void {
    assert(!entry.settled, `message ${entry.message.id} settled twice on queue ${this.name}`);
    entry.settled = true;
    this.unsettledCount--;
    if (entry.stored) this.store.settle(this.id, entry.message.id);
  }

  /** Puts delivered messages back in their original position, marked redelivered. */
  requeue(entries: readonly QueueEntry[]): void {
    if (this.deleted) {
      // The queue is gone; its messages went with it.
      for (const entry of entries) this.settle(entry);
      return;
    }
    const sorted = [...entries].sort((a, b) => b.seq - a.seq);
    for (const entry of sorted) {
      assert(!entry.settled, `requeue of settled message ${entry.message.id}`);
      this.unsettledCount--;
      this.insertBySeq(entry);
    }
    this.dispatch();
  }

  /** Drops every ready message; returns how many. Unacked ones stay with their consumers. */
  purge(): number {
    const dropped = this.ready.clear();
    for (const entry of dropped) {
      entry.settled = true;
      if (entry.stored) this.store.settle(this.id, entry.message.id);
    }
    return dropped.length;
  }

  /** Throws 403 (as RabbitMQ) if an exclusive consumer holds the queue or one is asked for on a busy queue. */
  assertCanConsume(exclusive: boolean): void {
    if ((exclusive && this.consumers.length > 0) || this.consumers.some((c) => c.exclusive)) {
      throw accessRefused(`queue '${this.name}' in vhost '${this.vhost}' in exclusive use`);
    }
  }

  addConsumer(consumer: Consumer): void {
    this.assertCanConsume(consumer.exclusive);
    this.consumers.push(consumer);
    this.consumers.sort((a, b) => b.priority - a.priority);
    this.hadConsumer = true;
    this.dispatch();
  }

  removeConsumer(consumer: Consumer): void {
    const index = this.consumers.indexOf(consumer);
    if (index < 0) return;
    this.consumers.splice(index, 1);
    if (this.nextConsumer > index) this.nextConsumer--;
    if (this.consumers.length === 0 && this.autoDelete && this.hadConsumer && !this.deleted) {
      this.onUnused?.(this);
    }
  }

  /** Deletion: consumers are told, ready messages are settled. Returns the ready count. */
  markDeleted(): number {
    this.deleted = true;
    const count = this.purge();
    for (const consumer of this.consumers.splice(0)) consumer.cancelledByServer(this);
    return count;
  }

  /**
   * Hands ready messages to consumers with credit, round-robin within the highest priority that has
   * credit. Re-entrant calls (a consumer acking inside deliver) are folded into the running loop.
   */
  dispatch(): void {
    if (this.dispatching || this.deleted) return;
    this.dispatching = true;
    try {
      while (this.ready.length > 0) {
        const consumer = this.pickConsumer();
        if (!consumer) break;
        const entry = this.ready.shift() as QueueEntry;
        entry.deliveryCount++;
        this.unsettledCount++;
        if (consumer.noAck) this.settle(entry);
        consumer.deliver(this, entry);
      }
    } finally {
      this.dispatching = false;
    }
  }

  private pickConsumer(): Consumer | undefined {
    const count = this.consumers.length;
    if (count === 0) return undefined;
    const topPriority = this.consumers[0]?.priority ?? 0;
    for (let i = 0; i < count; i++) {
      const index = (this.nextConsumer + i) % count;
      const consumer = this.consumers[index] as Consumer;
      if (consumer.priority < topPriority && this.someHigherHasCredit(consumer.priority)) continue;
      if (consumer.hasCredit()) {
        this.nextConsumer = (index + 1) % count;
        return consumer;
      }
    }
    return undefined;
  }

  private someHigherHasCredit(priority: number): boolean {
    for (const consumer of this.consumers) {
      if (consumer.priority <= priority) return false;
      if (consumer.hasCredit()) return true;
    }
    return false;
  }

  private insertBySeq(entry: QueueEntry): void {
    const first = this.ready.peek();
    if (!first || entry.seq < first.seq) {
      this.ready.unshift(entry);
      return;
    }
    let low = 0;
    let high = this.ready.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.ready.at(mid) as QueueEntry).seq < entry.seq) low = mid + 1;
      else high = mid;
    }
    this.ready.insertAt(low, entry);
  }
}
