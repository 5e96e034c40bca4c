/**
 * The SDK's front door: `connect()` gives a `Client` that owns one resilient connection and
 * everything living on it — the declared topology, a default publisher, consumers, the RPC client —
 * and re-creates all of it after each reconnect. `close()` winds it down in dependency order:
 * consumers first (their handlers may still publish), then publishers (pending confirms), then RPC,
 * then the connection.
 *
 * Does not speak AMQP itself (amqplib does) and holds no message buffers of its own.
 */
import { EventEmitter } from "node:events";
import type { ChannelModel } from "amqplib";
import type { Codec } from "./codec.js";
import { CodecRegistry } from "./codec-registry.js";
import {
  type Attachable,
  type ConnectedEvent,
  ConnectionManager,
  type ConnectionState,
  type ReconnectingEvent,
} from "./connection-manager.js";
import { type ConsumeOptions, Consumer, type HandlerErrorEvent, type MessageHandler } from "./consumer.js";
import { ClientClosedError } from "./errors.js";
import type { Message } from "./message.js";
import {
  type ConnectTarget,
  type NormalizedClientOptions,
  normalizeClientOptions,
  type PublisherOptions,
} from "./options.js";
import { Publisher, type PublishOptions } from "./publisher.js";
import { RpcClient, type RpcOptions } from "./rpc-client.js";
import { declareTopology, type Topology, TopologyRecord } from "./topology.js";

export interface ClientEventMap {
  /** Connected (again): topology re-declared, publishers and consumers re-attached. */
  connected: [event: ConnectedEvent];
  /** The connection was lost; reconnecting follows unless the client is closing. */
  disconnected: [event: { error: Error }];
  /** The next connection attempt is scheduled. */
  reconnecting: [event: ReconnectingEvent];
  /** The broker stopped reading our publishes (memory or disk alarm); they wait in the buffer. */
  blocked: [event: { reason: string }];
  unblocked: [];
  /** A background failure (re-declaring topology, re-subscribing, giving up reconnecting). Never thrown. */
  error: [error: Error];
  /** A handler threw, or a message could not be decoded; `action` says where the message went. */
  "handler-error": [event: HandlerErrorEvent];
  /** close() finished. */
  closed: [];
}

export interface ServeOptions extends ConsumeOptions {
  /** Content type of replies; by default chosen from the reply value like any publish. */
  replyContentType?: string;
}

export type RpcHandler<TRequest, TReply> = (request: Message<TRequest>) => Promise<TReply> | TReply;

/** Declares the recorded topology on a fresh channel of each new connection. */
class TopologyAttachment implements Attachable {
  constructor(readonly record: TopologyRecord) {}

  async attach(model: ChannelModel): Promise<void> {
    if (!this.record.isEmpty) await applyTopology(model, this.record.snapshot());
  }

  detach(): void {}

  abandon(): void {}
}

async function applyTopology(model: ChannelModel, topology: Topology): Promise<void> {
  const channel = await model.createChannel();
  // A refused declaration closes the channel with an 'error' event; the rejection below reports it.
  channel.on("error", () => undefined);
  try {
    await declareTopology(channel, topology);
  } finally {
    await channel.close().catch(() => undefined);
  }
}

export class Client extends EventEmitter<ClientEventMap> {
  /** The publisher behind `client.publish()`. */
  readonly publisher: Publisher;
  private readonly options: NormalizedClientOptions;
  private readonly manager: ConnectionManager;
  private readonly codecs: CodecRegistry;
  private readonly topology: TopologyAttachment;
  private readonly publishers = new Set<Publisher>();
  private readonly consumers = new Set<Consumer<never>>();
  private rpcClient: RpcClient | null = null;
  private closing: Promise<void> | null = null;

  constructor(target: ConnectTarget) {
    super();
    this.options = normalizeClientOptions(target);
    this.codecs = new CodecRegistry(this.options.codecs, this.options.defaultContentType);
    this.manager = new ConnectionManager(this.options);
    for (const event of ["connected", "disconnected", "reconnecting", "blocked", "unblocked"] as const) {
      this.manager.on(event, (payload?: unknown) =>
        (this.emit as (name: string, ...args: unknown[]) => boolean)(event, payload),
      );
    }
    this.manager.on("error", (error: Error) => this.reportError(error));
    this.topology = new TopologyAttachment(new TopologyRecord());
    this.topology.record.add(this.options.topology);
    void this.manager.register(this.topology);
    this.publisher = this.makePublisher(this.options.publisher);
    this.manager.start();
  }

  get state(): ConnectionState {
    return this.manager.state;
  }

  get connected(): boolean {
    return this.manager.connected;
  }

  /** Resolves when connected; rejects with ConnectFailedError or ClientClosedError. */
  waitForConnection(): Promise<void> {
    return this.manager.waitForConnection();
  }

  /** Registers a codec for its content type (and aliases), replacing any earlier one. */
  registerCodec(codec: Codec<unknown>): void {
    this.codecs.register(codec);
  }

  /** Publishes through the default publisher; resolves when the broker confirmed the message. */
  publish<T>(exchange: string, routingKey: string, body: T, options?: PublishOptions): Promise<void> {
    return this.publisher.publish(exchange, routingKey, body, options);
  }

  /** A publisher with its own channel, confirm window and buffer. */
  createPublisher(options: PublisherOptions = {}): Publisher {
    this.assertOpen();
    return this.makePublisher({ ...this.options.publisher, ...options });
  }

  /**
   * Declares exchanges, queues and bindings now (waiting for a connection if there is none) and
   * after every reconnect. Rejects with TopologyError if the broker refuses one.
   */
  async declare(topology: Topology): Promise<void> {
    this.assertOpen();
    this.topology.record.add(topology);
    await this.manager.waitForConnection();
    const model = this.manager.currentModel;
    if (model !== null) await applyTopology(model, topology);
  }

  /**
   * Consumes `queue`: the handler's success acks, a throw rejects (dead-letters, or retries with
   * `retry`). Resolves once consuming; rejects with ConsumeFailedError or TopologyError.
   */
  async consume<T = unknown>(
    queue: string,
    handler: MessageHandler<T>,
    options: ConsumeOptions = {},
  ): Promise<Consumer<T>> {
    this.assertOpen();
    const consumer = new Consumer<T>(
      this.manager,
      this.codecs,
      this.publisher,
      {
        error: (error) => this.reportError(error),
        handlerError: (event) => this.emit("handler-error", event),
      },
      this.options.backoff,
      queue,
      handler,
      options,
    );
    this.consumers.add(consumer as Consumer<never>);
    void consumer.ready.catch(() => this.consumers.delete(consumer as Consumer<never>));
    await this.manager.register(consumer);
    await consumer.ready;
    return consumer;
  }

  /**
   * Serves RPC requests from `queue`: the handler's return value is published to the request's
   * reply-to with its correlation id (confirmed) before the request is acked. A throw sends no
   * reply; the request goes the way of any failed message.
   */
  serve<TRequest = unknown, TReply = unknown>(
    queue: string,
    handler: RpcHandler<TRequest, TReply>,
    options: ServeOptions = {},
  ): Promise<Consumer<TRequest>> {
    const { replyContentType, ...consumeOptions } = options;
    return this.consume<TRequest>(
      queue,
      async (request) => {
        const reply = await handler(request);
        if (request.replyTo === undefined) return;
        await this.publisher.publish("", request.replyTo, reply, {
          correlationId: request.correlationId,
          contentType: replyContentType,
          persistent: false,
        });
      },
      consumeOptions,
    );
  }

  /** Sends a request and resolves with the reply (direct reply-to); rejects with RpcTimeoutError. */
  async rpc<TReply = unknown>(
    exchange: string,
    routingKey: string,
    body: unknown,
    options?: RpcOptions,
  ): Promise<Message<TReply>> {
    this.assertOpen();
    if (this.rpcClient === null) {
      this.rpcClient = new RpcClient(this.codecs);
      await this.manager.register(this.rpcClient);
    }
    return this.rpcClient.call<TReply>(exchange, routingKey, body, options);
  }

  /**
   * Closes gracefully: cancels consumers and waits for their running handlers, waits for every
   * pending publish to be confirmed (through a reconnect if need be), then closes the connection.
   * What is still pending after `closeTimeoutMs` rejects with ClientClosedError.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const deadline = Date.now() + this.options.closeTimeoutMs;
    const remainingMs = () => Math.max(1, deadline - Date.now());
    await raceTimeout(Promise.all([...this.consumers].map((consumer) => consumer.cancel())), remainingMs());
    await Promise.all([...this.publishers].map((publisher) => publisher.close(remainingMs())));
    await this.rpcClient?.close();
    await this.manager.close();
    this.emit("closed");
  }

  private makePublisher(options: PublisherOptions): Publisher {
    const publisher = new Publisher(this.manager, this.codecs, options);
    this.publishers.add(publisher);
    void this.manager.register(publisher).catch((error: unknown) => this.reportError(error as Error));
    return publisher;
  }

  private assertOpen(): void {
    if (this.closing !== null) throw new ClientClosedError();
  }

  private reportError(error: Error): void {
    if (this.listenerCount("error") > 0) this.emit("error", error);
  }
}

/** Creates a client and starts connecting in the background; publishes are buffered meanwhile. */
export function createClient(target: ConnectTarget): Client {
  return new Client(target);
}

/** Creates a client and resolves once it is connected (rejects with ConnectFailedError otherwise). */
export async function connect(target: ConnectTarget): Promise<Client> {
  const client = new Client(target);
  try {
    await client.waitForConnection();
  } catch (error) {
    await client.close().catch(() => undefined);
    throw error;
  }
  return client;
}

async function raceTimeout(work: Promise<unknown>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work,
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    }),
  ]);
  clearTimeout(timer);
}
