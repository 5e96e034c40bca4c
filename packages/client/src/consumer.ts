/**
 * A consumer of one queue on its own channel: the handler's outcome settles each message (return ->
 * basic.ack; throw -> basic.reject without requeue, so the queue's dead-letter exchange takes it, or
 * with `retry` the retry queue and finally the dead-letter queue, see retry-policy.ts). At most
 * `concurrency` handlers run at once; `prefetch` bounds what the broker sends ahead.
 *
 * After a reconnect the consumer re-declares what it declared, sets its qos and consumes again.
 * Messages of a dead channel are never settled on the new one (their delivery tags are gone; the
 * broker redelivers them), so a handler that finishes after a connection loss simply lets go.
 * `cancel()` stops deliveries, hands back messages not yet started (requeue) and waits for the
 * running handlers.
 *
 * Buffers: deliveries hold amqplib's content buffers until their handler settles.
 */
import type { Channel, ChannelModel, ConsumeMessage } from "amqplib";
import { type Backoff, backoffDelayMs } from "./backoff.js";
import { type Codec, rawCodec } from "./codec.js";
import type { CodecRegistry } from "./codec-registry.js";
import type { Attachable, ConnectionManager } from "./connection-manager.js";
import { ConsumeFailedError, ConsumerCancelledError, InvalidArgumentError, TopologyError } from "./errors.js";
import { Fifo } from "./fifo.js";
import { type Message, toMessage } from "./message.js";
import type { Publisher } from "./publisher.js";
import { type RetryOptions, type RetryPlan, rejectionCount, retryPlan, retryQueues } from "./retry-policy.js";
import { declareQueue, type QueueDeclaration } from "./topology.js";

export type MessageHandler<T = unknown> = (message: Message<T>) => Promise<void> | void;

export interface ConsumeOptions {
  /** Messages the broker sends ahead of acks (basic.qos for this consumer). Default max(10, 2 x concurrency). */
  prefetch?: number;
  /** Handlers running at once. Default 1 (in order). */
  concurrency?: number;
  /** Retry failed messages after a delay through a retry queue, then park them in a dead-letter queue. */
  retry?: RetryOptions;
  /** Declare the queue with these settings before consuming (and after every reconnect). */
  declare?: Omit<QueueDeclaration, "name">;
  exclusive?: boolean;
  /** Consumer priority (x-priority), where the broker supports it. */
  priority?: number;
  arguments?: Record<string, unknown>;
}

/** What happened to a message whose handler threw (or that could not be decoded). */
export type HandlerErrorAction = "retry" | "dead-letter" | "reject";

export interface HandlerErrorEvent {
  queue: string;
  error: Error;
  /** The decoded message; undefined when decoding itself failed. */
  message: Message<unknown> | undefined;
  action: HandlerErrorAction;
}

/** How a consumer reports what happens in the background (the client turns these into events). */
export interface ConsumerReporter {
  error(error: Error): void;
  handlerError(event: HandlerErrorEvent): void;
}

interface Delivery {
  readonly channel: Channel;
  readonly raw: ConsumeMessage;
}

type ConsumerState = "starting" | "active" | "cancelling" | "cancelled";

export class Consumer<T = unknown> implements Attachable {
  readonly queue: string;
  private readonly prefetch: number;
  private readonly concurrency: number;
  private readonly plan: RetryPlan | undefined;
  private readonly declarations: QueueDeclaration[];
  private state: ConsumerState = "starting";
  private model: ChannelModel | null = null;
  private channel: Channel | null = null;
  private consumerTag: string | null = null;
  private readonly closedChannels = new WeakSet<Channel>();
  private readonly failedChannels = new WeakSet<Channel>();
  private readonly waiting = new Fifo<Delivery>();
  private running = 0;
  private idleWaiters: Array<() => void> = [];
  private resubscribeFailures = 0;
  private resubscribeTimer: NodeJS.Timeout | null = null;
  private readonly readyPromise: Promise<void>;
  private settleReady!: (error: Error | null) => void;

  constructor(
    private readonly manager: ConnectionManager,
    private readonly codecs: CodecRegistry,
    private readonly publisher: Publisher,
    private readonly reporter: ConsumerReporter,
    private readonly backoff: Backoff,
    queue: string,
    private readonly handler: MessageHandler<T>,
    private readonly options: ConsumeOptions = {},
  ) {
    if (typeof handler !== "function") throw new InvalidArgumentError("consume() needs a handler function");
    this.queue = queue;
    this.concurrency = integerAtLeastOne(options.concurrency ?? 1, "concurrency");
    this.prefetch = integerAtLeastOne(options.prefetch ?? Math.max(10, 2 * this.concurrency), "prefetch");
    this.plan = options.retry === undefined ? undefined : retryPlan(queue, options.retry);
    if (this.plan !== undefined) this.declarations = retryQueues(this.plan, options.declare);
    else this.declarations = options.declare === undefined ? [] : [{ ...options.declare, name: queue }];
    this.readyPromise = new Promise<void>((resolve, reject) => {
      this.settleReady = (error) => (error === null ? resolve() : reject(error));
    });
    this.readyPromise.catch(() => undefined);
  }

  /** Resolves once consuming for the first time; rejects if that first subscription fails. */
  get ready(): Promise<void> {
    return this.readyPromise;
  }

  /** Handlers running now. */
  get inFlight(): number {
    return this.running;
  }

  async attach(model: ChannelModel): Promise<void> {
    if (this.state === "cancelling" || this.state === "cancelled") return;
    this.model = model;
    try {
      await this.subscribe(model);
    } catch (error) {
      if (this.model !== model) return;
      if (this.state === "starting") {
        // The first subscription decides consume()'s outcome: a missing queue is the caller's to fix.
        this.state = "cancelled";
        this.manager.unregister(this);
        this.settleReady(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      this.reporter.error(error instanceof Error ? error : new Error(String(error)));
      this.scheduleResubscribe();
      return;
    }
    this.resubscribeFailures = 0;
    if (this.state === "starting") this.state = "active";
    this.settleReady(null);
  }

  detach(): void {
    this.model = null;
    this.channel = null;
    this.consumerTag = null;
    this.clearResubscribe();
  }

  abandon(error: Error): void {
    this.clearResubscribe();
    this.waiting.drain();
    if (this.state === "starting") this.settleReady(error);
    this.state = "cancelled";
  }

  /** Stops deliveries, requeues messages not yet handled, and waits for running handlers. */
  async cancel(): Promise<void> {
    if (this.state === "cancelling" || this.state === "cancelled") return this.whenIdle();
    this.state = "cancelling";
    this.clearResubscribe();
    const channel = this.channel;
    const tag = this.consumerTag;
    if (channel !== null && tag !== null) await channel.cancel(tag).catch(() => undefined);
    for (const delivery of this.waiting.drain()) this.settle(delivery, "requeue");
    await this.whenIdle();
    this.manager.unregister(this);
    this.state = "cancelled";
    this.settleReady(new ConsumerCancelledError(this.queue));
    this.channel = null;
    if (channel !== null) await channel.close().catch(() => undefined);
  }

  private whenIdle(): Promise<void> {
    if (this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async subscribe(model: ChannelModel): Promise<void> {
    const channel = await model.createChannel();
    channel.on("error", () => this.failedChannels.add(channel));
    channel.on("close", () => this.onChannelClosed(channel));
    try {
      for (const declaration of this.declarations) await declareQueue(channel, declaration);
      await channel.prefetch(this.prefetch, false);
      const { consumerTag } = await channel.consume(this.queue, (raw) => this.onDelivery(channel, raw), {
        noAck: false,
        exclusive: this.options.exclusive ?? false,
        priority: this.options.priority,
        arguments: this.options.arguments,
      });
      if (this.model !== model || this.state === "cancelling" || this.state === "cancelled") {
        await channel.close().catch(() => undefined);
        return;
      }
      this.channel = channel;
      this.consumerTag = consumerTag;
    } catch (error) {
      await channel.close().catch(() => undefined);
      throw error instanceof TopologyError ? error : new ConsumeFailedError(this.queue, error);
    }
  }

  private onDelivery(channel: Channel, raw: ConsumeMessage | null): void {
    if (raw === null) {
      // basic.cancel from the broker: the queue was deleted, or it failed over.
      this.reporter.error(new ConsumerCancelledError(this.queue));
      this.failedChannels.add(channel);
      void channel.close().catch(() => undefined);
      return;
    }
    const delivery = { channel, raw };
    if (this.state === "cancelling" || this.state === "cancelled") {
      this.settle(delivery, "requeue");
      return;
    }
    this.waiting.push(delivery);
    this.pump();
  }

  private pump(): void {
    // Once cancelling, nothing new starts: cancel() hands the waiting messages back.
    if (this.state === "cancelling" || this.state === "cancelled") return;
    while (this.running < this.concurrency) {
      const delivery = this.waiting.shift();
      if (delivery === undefined) return;
      // Its channel died: the broker will redeliver it, on our new channel or to another consumer.
      if (this.closedChannels.has(delivery.channel)) continue;
      this.running += 1;
      void this.process(delivery).finally(() => {
        this.running -= 1;
        this.pump();
        if (this.running === 0) for (const wake of this.idleWaiters.splice(0)) wake();
      });
    }
  }

  private async process(delivery: Delivery): Promise<void> {
    const attempt = 1 + rejectionCount(delivery.raw.properties.headers, this.queue);
    let message: Message<T>;
    try {
      message = toMessage<T>(delivery.raw, this.codecs, attempt);
    } catch (error) {
      // Undecodable now means undecodable on every retry: straight to the dead-letter path.
      this.settle(delivery, "reject");
      this.reporter.handlerError({
        queue: this.queue,
        error: asError(error),
        message: undefined,
        action: "reject",
      });
      return;
    }
    try {
      await this.handler(message);
    } catch (error) {
      await this.onHandlerFailed(delivery, message, asError(error));
      return;
    }
    this.settle(delivery, "ack");
  }

  private async onHandlerFailed(delivery: Delivery, message: Message<T>, error: Error): Promise<void> {
    const plan = this.plan;
    if (plan === undefined || message.attempt < plan.maxAttempts) {
      this.settle(delivery, "reject");
      this.reporter.handlerError({
        queue: this.queue,
        error,
        message,
        action: plan === undefined ? "reject" : "retry",
      });
      return;
    }
    try {
      await this.publisher.publish(
        "",
        plan.deadLetterQueue,
        delivery.raw.content,
        deadLetterOptions(delivery.raw, error),
      );
    } catch (publishError) {
      // Not parked: let the retry queue bring it back, and try the dead-letter queue again then.
      this.settle(delivery, "reject");
      this.reporter.error(asError(publishError));
      this.reporter.handlerError({ queue: this.queue, error, message, action: "retry" });
      return;
    }
    this.settle(delivery, "ack");
    this.reporter.handlerError({ queue: this.queue, error, message, action: "dead-letter" });
  }

  private settle(delivery: Delivery, outcome: "ack" | "reject" | "requeue"): void {
    if (this.closedChannels.has(delivery.channel)) return;
    try {
      if (outcome === "ack") delivery.channel.ack(delivery.raw);
      else delivery.channel.reject(delivery.raw, outcome === "requeue");
    } catch {
      // The channel closed between the check and the call: the broker redelivers the message.
    }
  }

  private onChannelClosed(channel: Channel): void {
    this.closedChannels.add(channel);
    if (this.channel !== channel) return;
    this.channel = null;
    this.consumerTag = null;
    // A channel the server closed (or a cancel from the broker) on a live connection: subscribe
    // again after a pause. A lost connection comes back through attach() instead.
    if (this.failedChannels.has(channel) && this.state === "active") this.scheduleResubscribe();
  }

  private scheduleResubscribe(): void {
    if (this.resubscribeTimer !== null || this.state !== "active") return;
    this.resubscribeFailures += 1;
    const delayMs = backoffDelayMs(this.backoff, this.resubscribeFailures);
    this.resubscribeTimer = setTimeout(() => {
      this.resubscribeTimer = null;
      const model = this.model;
      if (model !== null && this.channel === null && this.state === "active") void this.attach(model);
    }, delayMs);
  }

  private clearResubscribe(): void {
    if (this.resubscribeTimer !== null) clearTimeout(this.resubscribeTimer);
    this.resubscribeTimer = null;
  }
}

/** The dead-lettered copy: same bytes and properties, the failure recorded, no TTL (it must stay). */
function deadLetterOptions(raw: ConsumeMessage, error: Error) {
  const p = raw.properties;
  return {
    codec: rawCodec as Codec<unknown>,
    contentType: typeof p.contentType === "string" ? p.contentType : rawCodec.contentType,
    headers: { ...(p.headers ?? {}), "x-last-error": error.message.slice(0, 1024) },
    persistent: p.deliveryMode === undefined ? true : p.deliveryMode === 2,
    messageId: p.messageId,
    correlationId: p.correlationId,
    type: p.type,
    appId: p.appId,
    timestamp: p.timestamp,
    priority: p.priority,
    contentEncoding: p.contentEncoding,
    // A dead-letter queue outlives any deadline the message had.
    timeoutMs: 0,
  };
}

function integerAtLeastOne(value: number, name: string): number {
  if (!(Number.isInteger(value) && value >= 1))
    throw new InvalidArgumentError(`${name} must be an integer >= 1, got ${value}`);
  return value;
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
