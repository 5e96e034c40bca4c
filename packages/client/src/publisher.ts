/**
 * Publishes with publisher confirms: `publish()` resolves only once the broker has confirmed the
 * message (basic.ack), and rejects with a typed error on basic.nack, on basic.return of a mandatory
 * message, on timeout, or when the server closes the channel first.
 *
 *   publish() -> buffer (bounded) -> window of maxInFlight unconfirmed -> ack / nack / return
 *                  ^                               |
 *                  +---- connection lost: every unconfirmed message goes back, in order ----+
 *
 * While disconnected (or while the broker has blocked the connection, or the window is full)
 * messages wait in the buffer; a connection loss puts unconfirmed ones back at its front, and they
 * are sent again on the next connection. Delivery is therefore at-least-once: a message whose ack
 * was lost with the connection is published twice. A full buffer refuses new publishes with
 * BufferFullError; nothing is ever dropped without its promise rejecting.
 *
 * Returns are matched to publishes by exchange, routing key and content (AMQP has no id for this;
 * the broker sends basic.return before the basic.ack of the same message, so the match is made
 * before the ack settles it). Among identical in-flight messages the earliest is taken.
 *
 * Buffers: the encoded content is owned by the pending publish until it settles; callers must not
 * mutate a Buffer body after handing it to publish().
 */
import type { Message as AmqpMessage, ChannelModel, ConfirmChannel, Options } from "amqplib";
import type { Codec } from "./codec.js";
import type { CodecRegistry } from "./codec-registry.js";
import type { Attachable, ConnectionManager } from "./connection-manager.js";
import {
  BufferFullError,
  ClientClosedError,
  InvalidArgumentError,
  PublishChannelClosedError,
  PublishNackedError,
  PublishReturnedError,
  PublishTimeoutError,
  replyCodeOf,
} from "./errors.js";
import { Fifo } from "./fifo.js";
import type { PublisherOptions } from "./options.js";

export interface PublishOptions {
  /** Picks the codec; by default Buffer -> application/octet-stream, string -> text/plain, else JSON. */
  contentType?: string;
  /** A codec for this one message, instead of looking one up by content type. */
  codec?: Codec<unknown>;
  /** Overrides the publisher's timeoutMs; 0 waits forever. */
  timeoutMs?: number;
  /** Reject with PublishReturnedError when no queue takes the message. */
  mandatory?: boolean;
  /** Delivery mode 2 (written to disk by durable queues). Default: the publisher's (true). */
  persistent?: boolean;
  headers?: Record<string, unknown>;
  messageId?: string;
  correlationId?: string;
  replyTo?: string;
  /** Per-message TTL in milliseconds. */
  expiration?: string | number;
  priority?: number;
  /** Seconds since the epoch. */
  timestamp?: number;
  type?: string;
  appId?: string;
  userId?: string;
  contentEncoding?: string;
  CC?: string | string[];
  BCC?: string | string[];
}

export interface PublisherStats {
  /** Messages waiting to be sent. */
  readonly buffered: number;
  /** Messages sent and awaiting their confirm. */
  readonly inFlight: number;
}

interface PendingPublish {
  readonly exchange: string;
  readonly routingKey: string;
  readonly content: Buffer;
  readonly amqpOptions: Options.Publish;
  readonly mandatory: boolean;
  readonly timeoutMs: number;
  state: "buffered" | "inflight" | "settled";
  returned: { replyCode: number; replyText: string } | null;
  timer: NodeJS.Timeout | null;
  resolve(): void;
  reject(error: Error): void;
}

export class Publisher implements Attachable {
  private readonly maxInFlight: number;
  private readonly maxBufferedMessages: number;
  private readonly maxBufferedBytes: number;
  private readonly timeoutMs: number;
  private readonly mandatoryDefault: boolean;
  private readonly persistentDefault: boolean;

  private readonly buffer = new Fifo<PendingPublish>();
  private bufferedBytes = 0;
  /** Sent, not yet confirmed, in send order (Set iteration order is insertion order). */
  private readonly inFlight = new Set<PendingPublish>();
  /** Unconfirmed messages of a channel lost with its connection, collected while amqplib fails them. */
  private requeue: PendingPublish[] = [];
  private unsettled = 0;
  private model: ChannelModel | null = null;
  private channel: ConfirmChannel | null = null;
  private readonly closedChannels = new WeakSet<ConfirmChannel>();
  private readonly channelErrors = new WeakMap<ConfirmChannel, Error>();
  private waitingForDrain = false;
  private closing = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly manager: ConnectionManager,
    private readonly codecs: CodecRegistry,
    options: PublisherOptions = {},
  ) {
    this.maxInFlight = atLeastOne(options.maxInFlight ?? 256, "publisher.maxInFlight");
    this.maxBufferedMessages = atLeastOne(
      options.maxBufferedMessages ?? 10_000,
      "publisher.maxBufferedMessages",
    );
    this.maxBufferedBytes = atLeastOne(
      options.maxBufferedBytes ?? 64 * 1024 * 1024,
      "publisher.maxBufferedBytes",
    );
    this.timeoutMs = nonNegative(options.timeoutMs ?? 60_000, "publisher.timeoutMs");
    this.mandatoryDefault = options.mandatory ?? false;
    this.persistentDefault = options.persistent ?? true;
    manager.on("unblocked", () => this.pump());
  }

  get stats(): PublisherStats {
    return { buffered: this.buffer.length + this.requeue.length, inFlight: this.inFlight.size };
  }

  /**
   * Encodes `body` by content type and publishes it; resolves when the broker confirmed it.
   * Rejects with PublishNackedError, PublishReturnedError (mandatory), PublishTimeoutError,
   * PublishChannelClosedError, BufferFullError, CodecError or ClientClosedError.
   */
  publish<T>(exchange: string, routingKey: string, body: T, options: PublishOptions = {}): Promise<void> {
    if (this.closing) return Promise.reject(new ClientClosedError("the publisher is closed"));
    let encoded: { content: Buffer; contentType: string };
    try {
      encoded = this.codecs.encode(body, options.contentType, options.codec);
    } catch (error) {
      return Promise.reject(error);
    }
    if (
      this.buffer.length >= this.maxBufferedMessages ||
      this.bufferedBytes + encoded.content.length > this.maxBufferedBytes
    ) {
      return Promise.reject(new BufferFullError(this.maxBufferedMessages));
    }
    return new Promise<void>((resolve, reject) => {
      this.enqueue(
        this.makePending(
          exchange,
          routingKey,
          encoded.content,
          encoded.contentType,
          options,
          resolve,
          reject,
        ),
      );
    });
  }

  private makePending(
    exchange: string,
    routingKey: string,
    content: Buffer,
    contentType: string,
    options: PublishOptions,
    resolve: () => void,
    reject: (error: Error) => void,
  ): PendingPublish {
    const { codec: _codec, timeoutMs, mandatory, persistent, ...properties } = options;
    const effectiveMandatory = mandatory ?? this.mandatoryDefault;
    return {
      exchange,
      routingKey,
      content,
      amqpOptions: {
        ...properties,
        contentType,
        mandatory: effectiveMandatory,
        persistent: persistent ?? this.persistentDefault,
      },
      mandatory: effectiveMandatory,
      timeoutMs: nonNegative(timeoutMs ?? this.timeoutMs, "timeoutMs"),
      state: "buffered",
      returned: null,
      timer: null,
      resolve,
      reject,
    };
  }

  private enqueue(pending: PendingPublish): void {
    this.unsettled += 1;
    this.buffer.push(pending);
    this.bufferedBytes += pending.content.length;
    if (pending.timeoutMs > 0) pending.timer = setTimeout(() => this.onTimeout(pending), pending.timeoutMs);
    this.pump();
  }

  async attach(model: ChannelModel): Promise<void> {
    this.model = model;
    if (this.closing && this.unsettled === 0) return;
    const channel = await model.createConfirmChannel();
    if (this.model !== model) return;
    this.wire(channel);
    this.channel = channel;
    this.pump();
  }

  detach(): void {
    this.model = null;
    this.channel = null;
    this.waitingForDrain = false;
  }

  abandon(error: Error): void {
    this.closing = true;
    this.failAll(error);
  }

  /** Resolves once every publish made so far has settled (confirmed or rejected). */
  whenIdle(): Promise<void> {
    if (this.unsettled === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Refuses new publishes, waits up to `timeoutMs` for pending ones to settle (waiting through a
   * reconnect if need be), then rejects whatever is left with ClientClosedError and closes the channel.
   */
  async close(timeoutMs = 30_000): Promise<void> {
    this.closing = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.whenIdle(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    this.failAll(new ClientClosedError("the publisher closed before this message was confirmed"));
    this.manager.unregister(this);
    const channel = this.channel;
    this.channel = null;
    if (channel !== null) await channel.close().catch(() => undefined);
  }

  private wire(channel: ConfirmChannel): void {
    // Runs before amqplib's own 'close' listener, which fails the unconfirmed publishes: by then
    // onConfirm must know the failure means "channel gone", not "nacked".
    channel.prependListener("close", () => this.closedChannels.add(channel));
    channel.on("close", () => this.onChannelClosed(channel));
    channel.on("error", (error: Error) => this.channelErrors.set(channel, error));
    channel.on("return", (message: AmqpMessage) => this.onReturn(message));
  }

  private pump(): void {
    const channel = this.channel;
    if (channel === null || this.waitingForDrain || this.manager.blocked) return;
    while (this.inFlight.size < this.maxInFlight) {
      const pending = this.buffer.shift();
      if (pending === undefined) return;
      this.bufferedBytes -= pending.content.length;
      if (!this.send(channel, pending)) return;
    }
  }

  /** Sends one message; false when the pump must stop (socket buffer full, or channel closing). */
  private send(channel: ConfirmChannel, pending: PendingPublish): boolean {
    pending.state = "inflight";
    this.inFlight.add(pending);
    let writable: boolean;
    try {
      writable = channel.publish(
        pending.exchange,
        pending.routingKey,
        pending.content,
        pending.amqpOptions,
        (error) => this.onConfirm(channel, pending, error),
      );
    } catch (error) {
      this.inFlight.delete(pending);
      if (error instanceof Error && error.name === "IllegalOperationError") {
        // The channel is closing under us: keep the message for the next one.
        pending.state = "buffered";
        this.buffer.unshiftAll([pending]);
        this.bufferedBytes += pending.content.length;
        return false;
      }
      // amqplib refuses e.g. a headers table over 64 KiB; nothing was sent.
      this.finish(pending, new InvalidArgumentError(`the message cannot be published: ${messageOf(error)}`));
      return true;
    }
    if (!writable) {
      this.waitingForDrain = true;
      channel.once("drain", () => {
        if (this.channel !== channel) return;
        this.waitingForDrain = false;
        this.pump();
      });
      return false;
    }
    return true;
  }

  private onConfirm(channel: ConfirmChannel, pending: PendingPublish, error: unknown): void {
    this.inFlight.delete(pending);
    if (error === null || error === undefined) {
      const returned = pending.returned;
      this.finish(
        pending,
        returned === null ? null : new PublishReturnedError(pending, returned.replyCode, returned.replyText),
      );
    } else if (this.closedChannels.has(channel)) {
      const serverError = this.channelErrors.get(channel);
      if (serverError !== undefined) {
        this.finish(
          pending,
          new PublishChannelClosedError(pending, replyCodeOf(serverError), serverError.message, serverError),
        );
      } else if (pending.state !== "settled") {
        pending.state = "buffered";
        pending.returned = null;
        this.requeue.push(pending);
      }
    } else {
      this.finish(pending, new PublishNackedError(pending));
    }
    this.pump();
  }

  private onChannelClosed(channel: ConfirmChannel): void {
    // amqplib failed the unconfirmed publishes in send order just before this; resend them first.
    const requeued = this.requeue;
    this.requeue = [];
    this.buffer.unshiftAll(requeued);
    for (const pending of requeued) this.bufferedBytes += pending.content.length;
    if (this.channel !== channel) return;
    this.channel = null;
    this.waitingForDrain = false;
    const model = this.model;
    // The server closed only this channel (a 404 exchange, say): the connection lives, so carry on
    // with a new channel. A lost connection is handled by detach/attach instead.
    if (this.channelErrors.has(channel) && model !== null) {
      model.createConfirmChannel().then(
        (next) => {
          if (this.model !== model || this.channel !== null) return void next.close().catch(() => undefined);
          this.wire(next);
          this.channel = next;
          this.pump();
        },
        (error: unknown) => this.manager.emitError(error instanceof Error ? error : new Error(String(error))),
      );
    }
  }

  private onReturn(message: AmqpMessage): void {
    for (const pending of this.inFlight) {
      if (
        pending.mandatory &&
        pending.returned === null &&
        pending.exchange === message.fields.exchange &&
        pending.routingKey === message.fields.routingKey &&
        pending.content.equals(message.content)
      ) {
        const fields = message.fields as unknown as { replyCode?: number; replyText?: string };
        pending.returned = { replyCode: fields.replyCode ?? 312, replyText: fields.replyText ?? "NO_ROUTE" };
        return;
      }
    }
  }

  private onTimeout(pending: PendingPublish): void {
    pending.timer = null;
    if (pending.state === "buffered") {
      const index = this.requeue.indexOf(pending);
      if (index !== -1) this.requeue.splice(index, 1);
      else if (this.buffer.remove(pending)) this.bufferedBytes -= pending.content.length;
      this.finish(pending, new PublishTimeoutError(pending, pending.timeoutMs, false));
    } else if (pending.state === "inflight") {
      // It stays in the window until its confirm (or the channel's end) arrives.
      this.finish(pending, new PublishTimeoutError(pending, pending.timeoutMs, true));
    }
  }

  private finish(pending: PendingPublish, error: Error | null): void {
    if (pending.state === "settled") return;
    pending.state = "settled";
    if (pending.timer !== null) clearTimeout(pending.timer);
    pending.timer = null;
    this.unsettled -= 1;
    if (error === null) pending.resolve();
    else pending.reject(error);
    if (this.unsettled === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private failAll(error: Error): void {
    const everything = [...this.requeue, ...this.buffer.drain(), ...this.inFlight];
    this.requeue = [];
    this.bufferedBytes = 0;
    for (const pending of everything) this.finish(pending, error);
  }
}

function atLeastOne(value: number, name: string): number {
  if (!(Number.isFinite(value) && value >= 1))
    throw new InvalidArgumentError(`${name} must be >= 1, got ${value}`);
  return value;
}

function nonNegative(value: number, name: string): number {
  if (!(Number.isFinite(value) && value >= 0))
    throw new InvalidArgumentError(`${name} must be >= 0, got ${value}`);
  return value;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
