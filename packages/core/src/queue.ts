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
 * Messages on disk: a stored message may have no body in memory (the store's body cache dropped it),
 * and a ready entry may not even hold its Message (recovered, or compacted by the ready list once its
 * body left). Dispatch hands out only entries whose body is loaded; it reads the first few ready
 * messages back ahead (READ_AHEAD_ENTRIES), and a read that completes dispatches again, so the order
 * is kept. The first delivery of a stored message is recorded (store.markDelivered), so that after a
 * restart only messages handed out before come back flagged redelivered.
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
import { PriorityReadyList, priorityLevel } from "./priority-ready-list.js";
import { isOverLimit, type QueueSettings, queueSettings } from "./queue-arguments.js";
import { QueueLease } from "./queue-lease.js";
import { FifoReadyList, type ReadyEntry, type ReadyList } from "./ready-list.js";
import type { MessageStore, RecoveredMessage, StoredMessage } from "./store.js";

/** A message handed out (delivered or got): unlike a ready entry, its message is in memory. */
export interface QueueEntry extends ReadyEntry {
  readonly message: Message;
}

/** What a queue needs of a recovered message: where it stands on this queue, not its body. */
export type RecoveredEntry = Pick<RecoveredMessage, "id" | "bodySize" | "expiration" | "priority"> & {
  /** It had been handed out here before the restart (its next delivery is a redelivery). */
  deliveredBefore: boolean;
};

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
  /**
   * This queue alone, as a routing result and as the list of queue ids a stored message names: shared
   * (readonly; not frozen, see Router.lookup), so that the common publish (one target queue) allocates
   * neither array.
   */
  readonly asTargets: readonly Queue[];
  readonly asIdList: readonly string[];
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
    this.asTargets = [this];
    this.asIdList = [this.id];
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
    const { nowMs, expiresAt } = this.expiryOf(message.properties.expiration);
    this.ready.push({
      id: message.id,
      seq: this.nextSeq++,
      deliveryCount,
      stored,
      settled: false,
      expiresAtMs: expiresAt,
      bodySize: message.bodySize,
      priority: priorityLevel(message.properties.priority),
      message,
    });
    this.dispatch();
    this.dropOverLimit();
    // TTL 0: the message could go only to a consumer ready right now; nobody took it, so it expires.
    if (expiresAt !== undefined && expiresAt <= nowMs) this.expireHeads(nowMs + 1);
    this.armExpiry();
  }

  /**
   * A message recovered from the store at startup: only a compact row, its body and properties stay
   * on disk until it is about to be handed out. The TTL clock starts again now (the record keeps no
   * enqueue time). Call afterRecovery() once all are in.
   */
  enqueueRecovered(recovered: RecoveredEntry): void {
    const { expiresAt } = this.expiryOf(recovered.expiration);
    this.ready.push({
      id: recovered.id,
      seq: this.nextSeq++,
      deliveryCount: recovered.deliveredBefore ? 1 : 0,
      stored: true,
      settled: false,
      expiresAtMs: expiresAt,
      bodySize: recovered.bodySize,
      priority: priorityLevel(recovered.priority),
      message: undefined,
    });
  }

  /** When a message entering now expires here (the clock is read only if something can expire). */
  private expiryOf(expiration: string | undefined): { nowMs: number; expiresAt: number | undefined } {
    const { messageTtlMs } = this.settings;
    const nowMs = messageTtlMs === undefined && expiration === undefined ? 0 : Date.now();
    const expiresAt = expiresAtMs(nowMs, messageTtlMs, expiration);
    if (expiresAt !== undefined) this.mayExpire = true;
    return { nowMs, expiresAt };
  }

  /** Recovery is over: length limits and expiry apply to what came back. */
  afterRecovery(): void {
    this.dropOverLimit();
    if (this.mayExpire) this.expireHeads(Date.now());
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
    if (!head || head.message?.body !== undefined) return undefined;
    const read = this.loadBody(head.seq, head.id, head.message);
    this.readAhead();
    return read;
  }

  /** basic.get: the next ready message, counted as delivered. Its body must be in memory (nextBodyLoaded). */
  get(noAck: boolean): QueueEntry | undefined {
    this.touch();
    if (this.mayExpire) this.expireHeads(Date.now());
    assert(this.ready.length === 0 || this.ready.headMessage()?.body !== undefined, "basic.get before the head's body was loaded");
    const entry = this.ready.shift() as QueueEntry | undefined;
    this.armExpiry();
    if (!entry) return undefined;
    this.handOut(entry, noAck);
    return entry;
  }

  /** The consumer or getter is done with it (ack, or reject without requeue). */
  settle(entry: QueueEntry): void {
    this.markSettled(entry);
    if (entry.stored) this.store.settle(this.id, entry.id);
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
    const dropped = this.ready.drain((id, stored) => {
      if (stored) this.store.settle(this.id, id);
    });
    this.armExpiry();
    return dropped;
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
        if (this.ready.headMessage()?.body === undefined) break;
        const consumer = this.pickConsumer();
        if (!consumer) break;
        const entry = this.ready.shift() as QueueEntry;
        this.handOut(entry, consumer.noAck);
        consumer.deliver(this, entry);
      }
    } finally {
      this.dispatching = false;
    }
    if (this.consumers.length > 0) this.readAhead();
    this.armExpiry();
  }

  /** Counts a delivery; the first one of a stored message is recorded (redelivered after a restart). */
  private handOut(entry: QueueEntry, noAck: boolean): void {
    entry.deliveryCount++;
    this.unsettledCount++;
    if (noAck) this.settle(entry);
    else if (entry.deliveryCount === 1 && entry.stored) this.store.markDelivered(this.id, entry.id);
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
  private dropReady(entry: ReadyEntry, reason: DeadLetterReason): void {
    entry.settled = true;
    this.deadLetterThenRelease(entry, reason);
  }

  private markSettled(entry: ReadyEntry): void {
    if (entry.settled) assert(false, `message ${entry.id} settled twice on queue ${this.name}`);
    entry.settled = true;
    this.unsettledCount--;
  }

  /**
   * A settled entry dies: it goes to the dead-letter exchange (if any), then its settle is recorded. A
   * message on disk is read back first, and the settle waits for it; if the read fails (the store has
   * reported that as fatal) the settle is never recorded, so the message is still there after a restart.
   */
  private deadLetterThenRelease(entry: ReadyEntry, reason: DeadLetterReason): void {
    const release = () => {
      if (entry.stored) this.store.settle(this.id, entry.id);
    };
    if (this.settings.deadLetterExchange === undefined) {
      release();
      return;
    }
    const held = entry.message;
    if (held?.body !== undefined && this.deadLetterTail === undefined) {
      this.deadLetter(held, reason);
      release();
      return;
    }
    // Reads run in parallel; dead letters leave in the order the messages died, as RabbitMQ's do.
    const read: Promise<Message> =
      held?.body !== undefined
        ? Promise.resolve(held)
        : this.store.readMessage(entry.id).then((stored) => this.withBody(entry.id, held, stored));
    const tail: Promise<void> = (this.deadLetterTail ?? Promise.resolve())
      .then(() => read)
      .then((message) => {
        this.deadLetter(message, reason);
        release();
      }, noop)
      .finally(() => {
        if (this.deadLetterTail === tail) this.deadLetterTail = undefined;
      });
    this.deadLetterTail = tail;
  }

  /** Starts reading back the first ready messages that are not in memory. */
  private readAhead(): void {
    if (this.loadFailed || this.loading.size >= READ_AHEAD_ENTRIES / 2) return;
    this.ready.visitFirst(READ_AHEAD_ENTRIES, (seq, id, message) => {
      if (message?.body === undefined && !this.loading.has(id) && this.loading.size < READ_AHEAD_ENTRIES) {
        this.loadBody(seq, id, message).catch(noop); // the store has reported the failure
      }
    });
  }

  /**
   * Reads one message back and gives it to its ready entry; then dispatch runs again (the head may be
   * waiting for it). `held` is the entry's message object when it still had one (only its body left).
   */
  private loadBody(seq: number, id: number, held: Message | undefined): Promise<void> {
    const pending = this.loading.get(id);
    if (pending) return pending;
    const read = this.store.readMessage(id).then(
      (stored) => {
        this.loading.delete(id);
        // Attached again even when held: the sweep may have dropped the object while the read ran.
        this.ready.attach(seq, id, this.withBody(id, held, stored));
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

  /** The message with its body read back: the object still held, or a new one made from the record. */
  private withBody(id: number, held: Message | undefined, stored: StoredMessage): Message {
    const { body } = stored;
    if (held !== undefined) {
      assert(body.length === held.bodySize, `message ${id} read back with ${body.length} bytes, not ${held.bodySize}`);
      if (held.body === undefined) held.body = body;
      return held;
    }
    return {
      id,
      exchange: stored.exchange,
      routingKey: stored.routingKey,
      properties: this.propertiesCodec?.decode(stored.rawProperties) ?? {},
      rawProperties: stored.rawProperties,
      body,
      bodySize: body.length,
      persistent: true,
    };
  }

  /** x-overflow=drop-head: the oldest ready messages go while the queue is over a limit. */
  private dropOverLimit(): void {
    if (this.settings.overflow !== "drop-head") return;
    while (isOverLimit(this.settings, this.ready.length, this.ready.bodyBytes)) {
      this.dropReady(this.ready.shift() as ReadyEntry, "maxlen");
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
