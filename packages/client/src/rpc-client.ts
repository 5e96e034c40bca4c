/**
 * Request/reply over RabbitMQ's direct reply-to: requests carry `reply-to: amq.rabbitmq.reply-to`
 * and a fresh correlation id; the broker routes the replies straight back to this channel's
 * pseudo-queue consumer, so no reply queue is declared, and a reply is matched to its call by id.
 *
 * A call that was sent on a connection that then died rejects with ConnectionLostError rather than
 * being sent again: an RPC request need not be idempotent, so repeating it is the caller's choice.
 * A call made while disconnected waits for the next connection (its timeout keeps running).
 * Requests are mandatory: one no queue takes rejects at once with PublishReturnedError.
 *
 * Buffers: request content is owned by the call until sent; replies keep amqplib's buffers.
 */
import { randomUUID } from "node:crypto";
import type { Message as AmqpMessage, Channel, ChannelModel, ConsumeMessage } from "amqplib";
import type { CodecRegistry } from "./codec-registry.js";
import type { Attachable } from "./connection-manager.js";
import {
  ClientClosedError,
  ConnectionLostError,
  ConsumeFailedError,
  InvalidArgumentError,
  PublishReturnedError,
  RpcTimeoutError,
} from "./errors.js";
import { type Message, toMessage } from "./message.js";
import type { PublishOptions } from "./publisher.js";

/** The pseudo-queue of direct reply-to (a RabbitMQ extension that Leveret implements too). */
export const DIRECT_REPLY_TO = "amq.rabbitmq.reply-to";

export interface RpcOptions
  extends Omit<PublishOptions, "replyTo" | "correlationId" | "mandatory" | "timeoutMs" | "persistent"> {
  /** Time allowed for the reply, waiting for a connection included. Default 30 000 ms. */
  timeoutMs?: number;
}

interface PendingCall {
  readonly exchange: string;
  readonly routingKey: string;
  readonly content: Buffer;
  readonly publishOptions: Record<string, unknown>;
  readonly timer: NodeJS.Timeout;
  sentOn: Channel | null;
  resolve(message: Message<unknown>): void;
  reject(error: Error): void;
}

export class RpcClient implements Attachable {
  private model: ChannelModel | null = null;
  private channel: Channel | null = null;
  private readonly calls = new Map<string, PendingCall>();
  private readonly failedChannels = new WeakSet<Channel>();
  private closed = false;
  /** Why this connection cannot carry RPC (no direct reply-to), until the next connection. */
  private unavailable: Error | null = null;

  constructor(private readonly codecs: CodecRegistry) {}

  call<T>(
    exchange: string,
    routingKey: string,
    body: unknown,
    options: RpcOptions = {},
  ): Promise<Message<T>> {
    if (this.closed) return Promise.reject(new ClientClosedError("the RPC client is closed"));
    if (this.unavailable !== null) return Promise.reject(this.unavailable);
    const { codec, contentType, timeoutMs = 30_000, ...properties } = options;
    if (!(timeoutMs > 0)) return Promise.reject(new InvalidArgumentError("rpc timeoutMs must be > 0"));
    let encoded: { content: Buffer; contentType: string };
    try {
      encoded = this.codecs.encode(body, contentType, codec);
    } catch (error) {
      return Promise.reject(error);
    }
    const correlationId = randomUUID();
    return new Promise<Message<T>>((resolve, reject) => {
      const call: PendingCall = {
        exchange,
        routingKey,
        content: encoded.content,
        publishOptions: { ...properties, contentType: encoded.contentType },
        timer: setTimeout(
          () => this.fail(correlationId, new RpcTimeoutError({ exchange, routingKey }, timeoutMs)),
          timeoutMs,
        ),
        sentOn: null,
        resolve: resolve as (message: Message<unknown>) => void,
        reject,
      };
      this.calls.set(correlationId, call);
      if (this.channel !== null) this.send(this.channel, correlationId, call);
    });
  }

  async attach(model: ChannelModel): Promise<void> {
    if (this.closed) return;
    this.model = model;
    const channel = await model.createChannel();
    channel.on("error", () => this.failedChannels.add(channel));
    channel.on("close", () => this.onChannelClosed(channel));
    channel.on("return", (message: AmqpMessage) => this.onReturn(message));
    try {
      await channel.consume(DIRECT_REPLY_TO, (message) => this.onReply(message), { noAck: true });
    } catch (error) {
      // A broker without direct reply-to: fail the calls now instead of letting each time out.
      if (this.model !== model) return;
      this.unavailable = new ConsumeFailedError(DIRECT_REPLY_TO, error);
      for (const [id, call] of this.calls) if (call.sentOn === null) this.fail(id, this.unavailable);
      throw this.unavailable;
    }
    this.unavailable = null;
    if (this.model !== model || this.closed) {
      await channel.close().catch(() => undefined);
      return;
    }
    this.channel = channel;
    for (const [id, call] of this.calls) if (call.sentOn === null) this.send(channel, id, call);
  }

  detach(): void {
    this.model = null;
    this.channel = null;
    // The next connection may reach a broker (or a fail-over URL) that has direct reply-to.
    this.unavailable = null;
  }

  abandon(error: Error): void {
    this.closed = true;
    for (const id of [...this.calls.keys()]) this.fail(id, error);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const id of [...this.calls.keys()])
      this.fail(id, new ClientClosedError("the client closed before the RPC reply arrived"));
    const channel = this.channel;
    this.channel = null;
    if (channel !== null) await channel.close().catch(() => undefined);
  }

  private send(channel: Channel, correlationId: string, call: PendingCall): void {
    try {
      channel.publish(call.exchange, call.routingKey, call.content, {
        ...call.publishOptions,
        replyTo: DIRECT_REPLY_TO,
        correlationId,
        mandatory: true,
        persistent: false,
      });
      call.sentOn = channel;
    } catch (error) {
      this.fail(correlationId, error instanceof Error ? error : new Error(String(error)));
    }
  }

  private onReply(raw: ConsumeMessage | null): void {
    if (raw === null) return;
    const id = raw.properties.correlationId;
    const call = typeof id === "string" ? this.calls.get(id) : undefined;
    // A reply after its call timed out has nobody waiting for it.
    if (call === undefined || typeof id !== "string") return;
    this.calls.delete(id);
    clearTimeout(call.timer);
    try {
      call.resolve(toMessage(raw, this.codecs, 1));
    } catch (error) {
      call.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private onReturn(raw: AmqpMessage): void {
    const id = raw.properties.correlationId;
    if (typeof id !== "string") return;
    const call = this.calls.get(id);
    if (call === undefined) return;
    const fields = raw.fields as unknown as { replyCode?: number; replyText?: string };
    this.fail(id, new PublishReturnedError(call, fields.replyCode ?? 312, fields.replyText ?? "NO_ROUTE"));
  }

  private onChannelClosed(channel: Channel): void {
    for (const [id, call] of this.calls) {
      if (call.sentOn === channel)
        this.fail(id, new ConnectionLostError(`the RPC call to '${call.routingKey}'`));
    }
    if (this.channel !== channel) return;
    this.channel = null;
    // Closed by the server on a live connection: open a new reply channel for later calls.
    const model = this.model;
    if (this.failedChannels.has(channel) && model !== null && !this.closed) {
      this.attach(model).catch(() => undefined);
    }
  }

  private fail(correlationId: string, error: Error): void {
    const call = this.calls.get(correlationId);
    if (call === undefined) return;
    this.calls.delete(correlationId);
    clearTimeout(call.timer);
    call.reject(error);
  }
}
