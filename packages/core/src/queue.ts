/**
 * A queue: ready messages in FIFO order, the count of delivered-but-unsettled ones, and its consumers.
 * Dispatch hands ready messages to consumers round-robin, each only while it has credit. Settlement of
 * a persistent message on a durable queue is recorded in the store (no sync needed: a lost settle only
 * means a redelivery, which at-least-once allows).
 *
 * Queue arguments shape it (queue-arguments.ts): a priority ready list (x-max-priority), expiry at
 * the heads with one timer (x-message-ttl, expiration), length limits with drop-head or refused
 * publishes (x-max-length, x-max-length-bytes, x-overflow), a single active consumer, a lease
 * (x-expires) and a delivery limit (quorum). Messages that die (rejected, expired, maxlen,
 * delivery_limit) go to `deadLetterSink` before their settle is recorded.
 *
 * Bodies on disk: a stored message may have no body in memory (the store's body cache dropped it).
 * Dispatch hands out only entries whose body is loaded; it reads the bodies of the first few ready
 * entries ahead (READ_AHEAD_ENTRIES), and a read that completes dispatches again, so the order is kept.
 * A dead message whose body is on disk is read back before it is dead-lettered; its settle is recorded
 * only after that, so the record stays readable meanwhile (a settle recorded late only risks a
 * redelivery after a crash, which at-least-once allows).
 *
 * Not here: routing (exchanges), delivery tags (channels), the wire format, re-publishing dead messages.
 */
import type { Consumer } from "./consumer.js";
import type { DeadLetterReason } from "./dead-letter.js";
import { accessRefused, assert } from "./errors.js";
import type { Message, PropertiesCodec } from "./message.js";
import { ExpiryTimer, expiresAtMs } from "./message-expiry.js";
import { PriorityReadyList } from "./priority-ready-list.js";
import { isOverLimit, type QueueSettings, queueSettings } from "./queue-arguments.js";
import { QueueLease } from "./queue-lease.js";
import { FifoReadyList, type ReadyList } from "./ready-list.js";
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
  /** When it expires on this queue (ms since the epoch), or undefined for never. */
  readonly expiresAtMs: number | undefined;
}

/**
 * Bodies read ahead of dispatch per queue, at most: enough to keep the libuv thread pool busy (reads
 * run four at a time) and consumers fed while a few reads are in flight, small next to any budget.
 */
export const READ_AHEAD_ENTRIES = 64;

/** Receives messages that die in a queue, to re-publish them through its dead-letter exchange. */
export type DeadLetterSink = (queue: Queue, message: Message, reason: DeadLetterReason) => void;

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
  /** Called when an auto-delete queue loses its last consumer, or an x-expires lease runs out. */
  onUnused: ((queue: Queue) => void) | undefined;
  /** What its x- arguments ask for. */
  readonly settings: QueueSettings;
  /** Set by the vhost: where dead messages go (only called when the queue has a dead-letter exchange). */
  deadLetterSink: DeadLetterSink | undefined;
  /** Set by the vhost: rewrites properties for quorum queues' x-delivery-count header. */
  propertiesCodec: PropertiesCodec | undefined;

  private readonly ready: ReadyList;
  private readonly consumers: Consumer[] = [];
  /** Consumers in the order they came: the first is the single active consumer. */
  private readonly arrivals: Consumer[] = [];
  private readonly expiry = new ExpiryTimer(() => this.expireDue());
  private readonly lease: QueueLease | undefined;
  /** Set once a message with an expiry arrives; until then expiry checks cost nothing. */
  private mayExpire = false;
  private nextConsumer = 0;
  private nextSeq = 1;
  private unsettledCount = 0;
  private hadConsumer = false;
  private dispatching = false;
  /** Reads under way for this queue, by message id (one each, however often it is asked for). */
  private readonly loading = new Map<number, Promise<void>>();
  /** The last dead letter waiting for its body to be read back: later ones queue behind it. */
  private deadLetterTail: Promise<void> | undefined;
  /** A body could not be read back: the store reported it as fatal; stop asking. */
  private loadFailed = false;

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
    this.settings = queueSettings(options.arguments);
    const { maxPriority, expiresMs } = this.settings;
    this.ready = maxPriority === undefined ? new FifoReadyList() : new PriorityReadyList(maxPriority);
    this.lease = expiresMs === undefined ? undefined : new QueueLease(expiresMs, () => this.leaseExpired());
    this.lease?.renew(false);
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
    const { messageTtlMs } = this.settings;
    const expiration = message.properties.expiration;
    const nowMs = messageTtlMs === undefined && expiration === undefined ? 0 : Date.now();
    const expiresAt = expiresAtMs(nowMs, messageTtlMs, expiration);
    if (expiresAt !== undefined) this.mayExpire = true;
    this.ready.push({ message, seq: this.nextSeq++, deliveryCount, stored, settled: false, expiresAtMs: expiresAt });
    this.dispatch();
    this.dropOverLimit();
    // TTL 0: the message could go only to a consumer ready right now; nobody took it, so it expires.
    if (expiresAt !== undefined && expiresAt <= nowMs) this.expireHeads(nowMs + 1);
    this.armExpiry();
  }

  /** reject-publish(-dlx): whether one more message fits (RabbitMQ counts ready messages and bytes). */
  admits(message: Message): boolean {
    if (this.settings.overflow === "drop-head") return true;
    return !isOverLimit(this.settings, this.ready.length + 1, this.ready.bodyBytes + message.bodySize);
  }

  /** A publish this queue did not admit: reject-publish-dlx dead-letters it (reason maxlen). */
  refused(message: Message): void {
    if (this.settings.overflow === "reject-publish-dlx") this.deadLetter(message, "maxlen");
  }

  /**
   * basic.get, before get(): undefined when the next message can be handed out now; otherwise a promise
   * that settles once its body has been read back from the store (then ask again: the head may differ).
   */
  nextBodyLoaded(): Promise<void> | undefined {
    if (this.mayExpire) this.expireHeads(Date.now());
    const head = this.ready.peek();
    if (!head || head.message.body !== undefined) return undefined;
    const read = this.loadBody(head.message);
    this.readAhead();
    return read;
  }

  /** basic.get: the next ready message, counted as delivered. Its body must be in memory (nextBodyLoaded). */
  get(noAck: boolean): QueueEntry | undefined {
    this.touch();
    if (this.mayExpire) this.expireHeads(Date.now());
    const head = this.ready.peek();
    assert(!head || head.message.body !== undefined, `basic.get of message ${head?.message.id} before its body was loaded`);
    const entry = this.ready.shift();
    this.armExpiry();
    if (!entry) return undefined;
    entry.deliveryCount++;
    this.unsettledCount++;
    if (noAck) this.settle(entry);
    return entry;
  }

  /** The consumer or getter is done with it (ack, or reject without requeue). */
  settle(entry: QueueEntry): void {
    this.markSettled(entry);
    if (entry.stored) this.store.settle(this.id, entry.message.id);
  }

  /** basic.reject / basic.nack without requeue: dead-lettered (reason rejected), then settled. */
  reject(entry: QueueEntry): void {
    if (this.deleted) {
      this.settle(entry);
      return;
    }
    this.markSettled(entry);
    this.deadLetterThenRelease(entry, "rejected");
  }

  /**
   * The properties a delivery carries: quorum queues add x-delivery-count (how often the message came
   * back) to redeliveries, and to every basic.get-ok, as RabbitMQ 3.10 does.
   */
  deliveryProperties(entry: QueueEntry, forGet = false): Buffer {
    const returns = entry.deliveryCount - 1;
    const wanted = forGet ? returns >= 0 : returns > 0;
    if (this.settings.type !== "quorum" || !wanted || !this.propertiesCodec) return entry.message.rawProperties;
    return this.propertiesCodec.rewrite(entry.message.rawProperties, { headers: { "x-delivery-count": BigInt(returns) } });
  }

  /** A use that renews an x-expires lease (declare, get, consumers coming and going). */
  touch(): void {
    this.lease?.renew(this.consumers.length > 0);
  }

  /** Broker shutdown: timers stop; nothing is settled. */
  close(): void {
    this.expiry.stop();
    this.lease?.stop();
  }

  /** Puts delivered messages back in their original position, marked redelivered. */
  requeue(entries: readonly QueueEntry[]): void {
    if (this.deleted) {
      // The queue is gone; its messages went with it.
      for (const entry of entries) this.settle(entry);
      return;
    }
    const sorted = [...entries].sort((a, b) => b.seq - a.seq);
    const limit = this.settings.deliveryLimit;
    for (const entry of sorted) {
      assert(!entry.settled, `requeue of settled message ${entry.message.id}`);
      if (limit !== undefined && entry.deliveryCount > limit) {
        // Returned more often than x-delivery-limit allows: it leaves the queue (quorum queues' rule).
        this.markSettled(entry);
        this.deadLetterThenRelease(entry, "delivery_limit");
        continue;
      }
      this.unsettledCount--;
      this.ready.restore(entry);
    }
    this.dispatch();
    this.dropOverLimit();
    this.armExpiry();
  }

  /** Drops every ready message; returns how many. Unacked ones stay with their consumers. */
  purge(): number {
    const dropped = this.ready.clear();
    for (const entry of dropped) {
      entry.settled = true;
      if (entry.stored) this.store.settle(this.id, entry.message.id);
    }
    this.armExpiry();
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
    this.arrivals.push(consumer);
    this.hadConsumer = true;
    this.touch();
    this.dispatch();
  }

  removeConsumer(consumer: Consumer): void {
    const index = this.consumers.indexOf(consumer);
    if (index < 0) return;
    this.consumers.splice(index, 1);
    const wasActive = this.arrivals[0] === consumer;
    this.arrivals.splice(this.arrivals.indexOf(consumer), 1);
    if (this.nextConsumer > index) this.nextConsumer--;
    if (this.consumers.length === 0 && this.autoDelete && this.hadConsumer && !this.deleted) {
      this.onUnused?.(this);
      return;
    }
    this.touch();
    // With a single active consumer, the next in line takes over.
    if (this.settings.singleActiveConsumer && wasActive) this.dispatch();
  }

  /** Deletion: consumers are told, ready messages are settled. Returns the ready count. */
  markDeleted(): number {
    this.deleted = true;
    this.close();
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
      if (this.mayExpire) this.expireHeads(Date.now());
      while (this.ready.length > 0) {
        // A head whose body is on disk waits for it: handing out a later one would break the order.
        if ((this.ready.peek() as QueueEntry).message.body === undefined) break;
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
    if (this.consumers.length > 0) this.readAhead();
    this.armExpiry();
  }

  private pickConsumer(): Consumer | undefined {
    if (this.settings.singleActiveConsumer) {
      const active = this.arrivals[0];
      return active?.hasCredit() ? active : undefined;
    }
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

  /** Sends a dead message to the dead-letter exchange, when the queue has one. */
  private deadLetter(message: Message, reason: DeadLetterReason): void {
    if (this.settings.deadLetterExchange !== undefined) this.deadLetterSink?.(this, message, reason);
  }

  /** A ready message leaves without being delivered (expired, or dropped from the head by x-max-length). */
  private dropReady(entry: QueueEntry, reason: DeadLetterReason): void {
    entry.settled = true;
    this.deadLetterThenRelease(entry, reason);
  }

  private markSettled(entry: QueueEntry): void {
    assert(!entry.settled, `message ${entry.message.id} settled twice on queue ${this.name}`);
    entry.settled = true;
    this.unsettledCount--;
  }

  /**
   * A settled entry dies: it goes to the dead-letter exchange (if any), then its settle is recorded. A
   * body on disk is read back first, and the settle waits for it; if the read fails (the store has
   * reported that as fatal) the settle is never recorded, so the message is still there after a restart.
   */
  private deadLetterThenRelease(entry: QueueEntry, reason: DeadLetterReason): void {
    const message = entry.message;
    const release = () => {
      if (entry.stored) this.store.settle(this.id, message.id);
    };
    if (this.settings.deadLetterExchange === undefined) {
      release();
      return;
    }
    if (message.body !== undefined && this.deadLetterTail === undefined) {
      this.deadLetter(message, reason);
      release();
      return;
    }
    // Reads run in parallel; dead letters leave in the order the messages died, as RabbitMQ's do.
    const read = message.body !== undefined ? Promise.resolve(message.body) : this.store.readBody(message.id);
    const tail: Promise<void> = (this.deadLetterTail ?? Promise.resolve())
      .then(() => read)
      .then((body) => {
        if (message.body === undefined) message.body = body;
        this.deadLetter(message, reason);
        release();
      }, noop)
      .finally(() => {
        if (this.deadLetterTail === tail) this.deadLetterTail = undefined;
      });
    this.deadLetterTail = tail;
  }

  /** Starts reading back the bodies of the first ready entries that have none in memory. */
  private readAhead(): void {
    if (this.loadFailed || this.loading.size >= READ_AHEAD_ENTRIES / 2) return;
    this.ready.visitFirst(READ_AHEAD_ENTRIES, (entry) => {
      const message = entry.message;
      if (message.body === undefined && !this.loading.has(message.id) && this.loading.size < READ_AHEAD_ENTRIES) {
        this.loadBody(message).catch(noop); // the store has reported the failure
      }
    });
  }

  /** Reads one body back; when it arrives, dispatch runs again (the head may be waiting for it). */
  private loadBody(message: Message): Promise<void> {
    const id = message.id;
    const pending = this.loading.get(id);
    if (pending) return pending;
    const read = this.store.readBody(id).then(
      (body) => {
        this.loading.delete(id);
        assert(body.length === message.bodySize, `message ${id} read back with ${body.length} bytes, not ${message.bodySize}`);
        if (message.body === undefined) message.body = body;
        this.dispatch();
      },
      (error: unknown) => {
        this.loading.delete(id);
        this.loadFailed = true;
        throw error;
      },
    );
    this.loading.set(id, read);
    return read;
  }

  /** x-overflow=drop-head: the oldest ready messages go while the queue is over a limit. */
  private dropOverLimit(): void {
    if (this.settings.overflow !== "drop-head") return;
    while (isOverLimit(this.settings, this.ready.length, this.ready.bodyBytes)) {
      this.dropReady(this.ready.shift() as QueueEntry, "maxlen");
    }
  }

  private expireHeads(nowMs: number): void {
    for (let entry = this.ready.shiftExpired(nowMs); entry; entry = this.ready.shiftExpired(nowMs)) {
      this.dropReady(entry, "expired");
    }
  }

  private expireDue(): void {
    if (this.deleted) return;
    this.expireHeads(Date.now());
    this.armExpiry();
  }

  private armExpiry(): void {
    if (!this.mayExpire) return;
    if (this.deleted) this.expiry.stop();
    else this.expiry.arm(this.ready.nextExpiryMs(), Date.now());
  }

  private leaseExpired(): void {
    if (!this.deleted && this.consumers.length === 0) this.onUnused?.(this);
  }
}

function noop(): void {}
