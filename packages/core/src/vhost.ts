/**
 * A virtual host: its exchanges, queues and bindings, and the operations AMQP clients perform on them.
 * Every check that RabbitMQ makes (reserved names, equivalence, exclusivity, in-use) happens here and
 * raises a CoreError; the adapter turns it into a reply code.
 *
 * `owner` arguments are the connection (opaque) on whose behalf an operation runs: it decides access to
 * exclusive queues.
 */
import { randomBytes } from "node:crypto";
import { DeadLetterPublisher } from "./dead-letter-publisher.js";
import { assertEquivalent, assertEquivalentArguments } from "./equivalence.js";
import {
  accessRefused,
  assert,
  commandInvalid,
  notFound,
  preconditionFailed,
  resourceLocked,
} from "./errors.js";
import { type Destination, EXCHANGE_TYPES, Exchange, type ExchangeType } from "./exchange.js";
import type { Message, PropertiesCodec } from "./message.js";
import { parseExpiration } from "./message-expiry.js";
import { PropertiesInterner } from "./properties-interner.js";
import { Queue } from "./queue.js";
import { assertQueueArgumentsEquivalent, validateQueueDeclaration } from "./queue-arguments.js";
import { validateHeadersBindingArgs } from "./routing/index.js";
import type { BindingDefinition, MessageStore } from "./store.js";

const NO_QUEUES: readonly Queue[] = [];

function onlyQueues(destinations: Iterable<Destination>): boolean {
  for (const destination of destinations) if (!(destination instanceof Queue)) return false;
  return true;
}

/** The ids of the queues that store persistent messages; one such queue answers with its shared list. */
function idsOfStoringQueues(queues: readonly Queue[]): readonly string[] {
  if (queues.length === 1) {
    const queue = queues[0] as Queue;
    return queue.storesPersistentMessages() ? queue.asIdList : [];
  }
  const ids: string[] = [];
  for (const queue of queues) if (queue.storesPersistentMessages()) ids.push(queue.id);
  return ids;
}

export interface ExchangeDeclaration {
  type: string;
  passive: boolean;
  durable: boolean;
  autoDelete: boolean;
  internal: boolean;
  arguments: Record<string, unknown>;
}

export interface QueueDeclaration {
  passive: boolean;
  durable: boolean;
  exclusive: boolean;
  autoDelete: boolean;
  arguments: Record<string, unknown>;
  /**
   * The name to give a queue declared with the name "" (an "amq.gen-…" name the caller chose first, so
   * that it could check permissions against it, as RabbitMQ does); generated here when absent.
   */
  serverName?: string;
}

export interface QueueDeclareResult {
  queue: Queue;
  messageCount: number;
  consumerCount: number;
}

export interface PublishResult {
  /** Queues the message was enqueued on. */
  queues: number;
  /** Whether the store was asked to keep it (the confirm must wait for a commit). */
  stored: boolean;
  /** A queue refused it (x-overflow reject-publish / reject-publish-dlx): a publisher confirm is a nack. */
  rejected: boolean;
}

export interface VHostOptions {
  /** Rewrites properties when dead-lettering (x-death) and for x-delivery-count; the adapter supplies it. */
  propertiesCodec?: PropertiesCodec;
}

/** Supplies message ids; owned by the broker so ids are unique across vhosts. */
export type MessageIdSource = () => number;

export const DEFAULT_EXCHANGE = "";

export class VHost {
  readonly exchanges = new Map<string, Exchange>();
  readonly queues = new Map<string, Queue>();
  private readonly routed = new Set<Destination>();
  private readonly directMatches = new Set<Destination>();
  private readonly deadLetters: DeadLetterPublisher;
  private readonly propertiesCodec: PropertiesCodec | undefined;
  /** Messages that stay queued share their property bytes (see properties-interner.ts). */
  private readonly interner = new PropertiesInterner();

  constructor(
    readonly name: string,
    private readonly store: MessageStore,
    private readonly nextMessageId: MessageIdSource,
    options: VHostOptions = {},
  ) {
    this.propertiesCodec = options.propertiesCodec;
    // A failed commit reaches the store's fatal listeners; the promise itself has nobody to tell.
    const commitSoon = () => void store.commit().catch(() => {});
    this.deadLetters = new DeadLetterPublisher(this, options.propertiesCodec, nextMessageId, commitSoon);
    this.addExchange({ name: DEFAULT_EXCHANGE, type: "direct", durable: true });
    this.addExchange({ name: "amq.direct", type: "direct", durable: true });
    this.addExchange({ name: "amq.fanout", type: "fanout", durable: true });
    this.addExchange({ name: "amq.topic", type: "topic", durable: true });
    this.addExchange({ name: "amq.headers", type: "headers", durable: true });
    this.addExchange({ name: "amq.match", type: "headers", durable: true });
  }

  // ---- exchanges ----

  declareExchange(name: string, declaration: ExchangeDeclaration): Exchange {
    if (declaration.passive) return this.exchange(name);
    if (!EXCHANGE_TYPES.includes(declaration.type)) {
      throw commandInvalid(`unknown exchange type '${declaration.type}'`);
    }
    if (name === DEFAULT_EXCHANGE) throw accessRefused(this.defaultExchangeRefusal());
    const existing = this.exchanges.get(name);
    if (existing) {
      this.assertExchangeEquivalent(existing, declaration);
      return existing;
    }
    if (name.startsWith("amq.")) {
      throw accessRefused(`exchange name '${name}' contains reserved prefix 'amq.*'`);
    }
    const exchange = this.addExchange({ name, ...declaration, type: declaration.type as ExchangeType });
    if (exchange.durable) this.store.saveExchange(this.exchangeDefinition(exchange));
    return exchange;
  }

  deleteExchange(name: string, ifUnused: boolean): void {
    if (name === DEFAULT_EXCHANGE || name.startsWith("amq.")) {
      throw accessRefused(
        name === DEFAULT_EXCHANGE
          ? this.defaultExchangeRefusal()
          : `deletion of system exchange '${name}' in vhost '${this.name}' not allowed`,
      );
    }
    const exchange = this.exchanges.get(name);
    if (!exchange) return; // idempotent, as in RabbitMQ
    if (ifUnused && exchange.router.size > 0) {
      throw preconditionFailed(`exchange '${name}' in vhost '${this.name}' in use`);
    }
    this.removeExchange(exchange);
  }

  exchange(name: string): Exchange {
    const exchange = this.exchanges.get(name);
    if (!exchange) throw notFound(`no exchange '${name}' in vhost '${this.name}'`);
    return exchange;
  }

  // ---- queues ----

  declareQueue(name: string, declaration: QueueDeclaration, owner: object): QueueDeclareResult {
    const existing = this.queues.get(name);
    if (declaration.passive) {
      if (!existing) throw notFound(`no queue '${name}' in vhost '${this.name}'`);
      this.assertAccessible(existing, owner);
      existing.touch();
      return this.declareResult(existing);
    }
    if (existing) {
      this.assertAccessible(existing, owner, declaration.exclusive);
      this.assertQueueEquivalent(existing, declaration);
      existing.touch();
      return this.declareResult(existing);
    }
    const serverNamed = name === "";
    if (name === "") {
      const chosen = declaration.serverName;
      assert(chosen === undefined || chosen.startsWith("amq.gen-"), "server-chosen queue names start with amq.gen-");
      name = chosen ?? `amq.gen-${randomBytes(16).toString("base64url")}`;
    } else if (name.startsWith("amq.")) {
      throw accessRefused(`queue name '${name}' contains reserved prefix 'amq.*'`);
    }
    validateQueueDeclaration(name, this.name, declaration.arguments, { ...declaration, serverNamed });
    assert(
      declaration.arguments["x-dead-letter-exchange"] === undefined || this.deadLetters.available,
      "dead-lettering needs a PropertiesCodec (Broker.open's propertiesCodec)",
    );
    const queue = this.addQueue({
      id: randomBytes(12).toString("hex"),
      name,
      durable: declaration.durable,
      autoDelete: declaration.autoDelete,
      exclusiveOwner: declaration.exclusive ? owner : undefined,
      arguments: declaration.arguments,
    });
    // Exclusive queues die with their connection, so there is nothing to recover: never store them.
    if (queue.durable && !queue.exclusiveOwner) {
      this.store.saveQueue({
        id: queue.id,
        vhost: this.name,
        name,
        durable: true,
        autoDelete: queue.autoDelete,
        arguments: queue.arguments,
      });
    }
    return this.declareResult(queue);
  }

  /** Looks a queue up for use by `owner` (consume, get, bind, purge…). */
  queue(name: string, owner: object): Queue {
    const queue = this.queues.get(name);
    if (!queue) throw notFound(`no queue '${name}' in vhost '${this.name}'`);
    this.assertAccessible(queue, owner);
    return queue;
  }

  purgeQueue(name: string, owner: object): number {
    return this.queue(name, owner).purge();
  }

  /** Returns the number of messages deleted with the queue (0 when it did not exist). */
  deleteQueue(name: string, ifUnused: boolean, ifEmpty: boolean, owner: object): number {
    const queue = this.queues.get(name);
    if (!queue) return 0; // idempotent, as in RabbitMQ
    this.assertAccessible(queue, owner);
    if (ifUnused && queue.consumerCount > 0) {
      throw preconditionFailed(`queue '${name}' in vhost '${this.name}' in use`);
    }
    if (ifEmpty && queue.messageCount > 0) {
      throw preconditionFailed(`queue '${name}' in vhost '${this.name}' is not empty`);
    }
    return this.removeQueue(queue);
  }

  /** The connection closed: its exclusive queues go with it. */
  releaseOwner(owner: object): void {
    for (const queue of [...this.queues.values()]) {
      if (queue.exclusiveOwner === owner) this.removeQueue(queue);
    }
  }

  // ---- bindings ----

  bindQueue(queueName: string, exchangeName: string, routingKey: string, args: Record<string, unknown>, owner: object): void {
    const { source, destination } = this.bindingEnds(queueName, exchangeName, owner);
    this.bind(source, destination, routingKey, args);
  }

  unbindQueue(queueName: string, exchangeName: string, routingKey: string, args: Record<string, unknown>, owner: object): void {
    const { source, destination } = this.bindingEnds(queueName, exchangeName, owner);
    this.unbind(source, destination, routingKey, args);
  }

  bindExchange(destinationName: string, sourceName: string, routingKey: string, args: Record<string, unknown>): void {
    const source = this.bindableExchange(sourceName);
    const destination = this.bindableExchange(destinationName);
    this.bind(source, destination, routingKey, args);
  }

  unbindExchange(destinationName: string, sourceName: string, routingKey: string, args: Record<string, unknown>): void {
    const source = this.bindableExchange(sourceName);
    const destination = this.bindableExchange(destinationName);
    this.unbind(source, destination, routingKey, args);
  }

  // ---- publishing ----

  /**
   * Routes a message and enqueues it on every matched queue. A persistent message reaching at least one
   * durable queue is appended to the store once (before any queue sees it, so that a settle can never
   * precede its message in the log).
   */
  publish(
    exchangeName: string,
    routingKey: string,
    properties: Message["properties"],
    rawProperties: Buffer,
    body: Buffer,
    /** Sender-selected distribution: CC/BCC routing keys, routed like the message's own key. */
    extraRoutingKeys?: readonly string[],
  ): PublishResult {
    const exchange = this.exchange(exchangeName);
    if (exchange.internal) {
      throw accessRefused(`cannot publish to internal exchange '${exchangeName}' in vhost '${this.name}'`);
    }
    // RabbitMQ refuses a malformed expiration before routing, so even an unroutable publish fails.
    if (properties.expiration !== undefined) parseExpiration(properties.expiration);
    let targets: readonly Queue[] = this.route(exchange, routingKey, properties.headers);
    if (extraRoutingKeys && extraRoutingKeys.length > 0) {
      const all = new Set(targets);
      for (const key of extraRoutingKeys) for (const queue of this.route(exchange, key, properties.headers)) all.add(queue);
      targets = [...all];
    }
    if (targets.length === 0) return { queues: 0, stored: false, rejected: false };
    const raw = this.interner.buffer(rawProperties);
    const message: Message = {
      id: this.nextMessageId(),
      exchange: this.interner.string(exchangeName),
      routingKey: this.interner.string(routingKey),
      properties: this.interner.decoded(raw, properties),
      rawProperties: raw,
      body,
      bodySize: body.length,
      persistent: properties.deliveryMode === 2,
      // Always present (usually undefined), not spread in: one object shape, and no clone per publish.
      extraRoutingKeys: extraRoutingKeys && extraRoutingKeys.length > 0 ? extraRoutingKeys : undefined,
    };
    const { stored, rejected } = this.enqueueRouted(message, targets);
    return { queues: targets.length, stored, rejected };
  }

  /**
   * Enqueues a routed message (a publish, or a dead-lettered message) on its target queues. Queues that
   * are full with x-overflow reject-publish(-dlx) refuse it; a persistent message is appended to the
   * store once for the durable queues that take it, before any of them sees it.
   */
  enqueueRouted(message: Message, targets: readonly Queue[]): { stored: boolean; rejected: boolean } {
    let accepted = targets;
    let refused: Queue[] | undefined;
    for (const queue of targets) {
      if (queue.admits(message)) continue;
      refused ??= [];
      refused.push(queue);
    }
    if (refused) accepted = targets.filter((queue) => !refused.includes(queue));
    let stored = false;
    if (message.persistent) {
      const durableIds = idsOfStoringQueues(accepted);
      if (durableIds.length > 0) {
        // Its body may leave memory only if no holder would need it kept (a transient queue cannot read it back).
        this.store.appendMessage(message, durableIds, durableIds.length === accepted.length);
        stored = true;
      }
    }
    for (const queue of accepted) queue.enqueue(message);
    if (refused) for (const queue of refused) queue.refused(message);
    return { stored, rejected: refused !== undefined };
  }

  /** Broker shutdown: queue timers (TTL, x-expires) stop. */
  close(): void {
    for (const queue of this.queues.values()) queue.close();
  }

  /** The queues a message goes to: exchange bindings, e2e paths (each exchange visited once), alternate exchanges. */
  route(exchange: Exchange, routingKey: string, headers: Record<string, unknown> | undefined): readonly Queue[] {
    if (exchange.name === DEFAULT_EXCHANGE) {
      const queue = this.queues.get(routingKey);
      return queue ? queue.asTargets : NO_QUEUES;
    }
    // The most common case: a direct exchange bound straight to queues answers with a shared array.
    const looked = exchange.router.lookup?.(routingKey);
    if (looked !== undefined && looked.length > 0 && onlyQueues(looked)) return looked as readonly Queue[];
    // Next, any exchange bound straight to queues: one router call, no visiting sets. The Set is left
    // empty after use and cleared only when filled (clear() allocates a new table in V8).
    const direct = this.directMatches;
    exchange.router.route(routingKey, headers, direct);
    if (direct.size > 0) {
      const queues = onlyQueues(direct) ? ([...direct] as Queue[]) : undefined;
      direct.clear();
      if (queues) return queues;
    }
    const found = this.routed;
    found.clear();
    const visited = new Set<Exchange>();
    this.collect(exchange, routingKey, headers, found, visited);
    const queues: Queue[] = [];
    for (const destination of found) if (destination instanceof Queue) queues.push(destination);
    found.clear();
    return queues;
  }

  // ---- internals ----

  private collect(
    exchange: Exchange,
    routingKey: string,
    headers: Record<string, unknown> | undefined,
    found: Set<Destination>,
    visited: Set<Exchange>,
  ): void {
    visited.add(exchange);
    const before = found.size;
    const matched = new Set<Destination>();
    exchange.router.route(routingKey, headers, matched);
    for (const destination of matched) {
      if (destination instanceof Exchange) {
        if (!visited.has(destination)) this.collect(destination, routingKey, headers, found, visited);
      } else {
        found.add(destination);
      }
    }
    if (found.size === before && matched.size === 0) {
      const alternate = exchange.alternateExchange;
      const target = alternate === undefined ? undefined : this.exchanges.get(alternate);
      if (target && !visited.has(target)) this.collect(target, routingKey, headers, found, visited);
    }
  }

  private bind(source: Exchange, destination: Destination, routingKey: string, args: Record<string, unknown>): void {
    if (source.type === "headers") {
      const problem = validateHeadersBindingArgs(args);
      if (problem) throw preconditionFailed(problem);
    }
    if (!source.router.bind(destination, routingKey, args)) return;
    if (source.durable && destination.durable && !(destination instanceof Queue && destination.exclusiveOwner)) {
      this.store.saveBinding(this.bindingDefinition(source, destination, routingKey, args));
    }
  }

  private unbind(source: Exchange, destination: Destination, routingKey: string, args: Record<string, unknown>): void {
    if (!source.router.unbind(destination, routingKey, args)) return; // idempotent, as in RabbitMQ
    if (source.durable && destination.durable && !(destination instanceof Queue && destination.exclusiveOwner)) {
      this.store.deleteBinding(this.bindingDefinition(source, destination, routingKey, args));
    }
    this.maybeAutoDelete(source);
  }

  private bindingEnds(queueName: string, exchangeName: string, owner: object) {
    const destination = this.queue(queueName, owner);
    const source = this.bindableExchange(exchangeName);
    return { source, destination };
  }

  private bindableExchange(name: string): Exchange {
    if (name === DEFAULT_EXCHANGE) throw accessRefused(this.defaultExchangeRefusal());
    return this.exchange(name);
  }

  private maybeAutoDelete(exchange: Exchange): void {
    if (exchange.autoDelete && !exchange.deleted && exchange.router.size === 0) this.removeExchange(exchange);
  }

  private removeExchange(exchange: Exchange): void {
    exchange.deleted = true;
    this.exchanges.delete(exchange.name);
    if (exchange.durable) this.store.deleteExchange(this.name, exchange.name);
    // Bindings where it is the destination go too (RabbitMQ removes both directions).
    for (const other of this.exchanges.values()) {
      if (other.router.unbindAll(exchange) > 0) this.maybeAutoDelete(other);
    }
  }

  private removeQueue(queue: Queue): number {
    assert(this.queues.get(queue.name) === queue, `queue ${queue.name} is not registered`);
    this.queues.delete(queue.name);
    for (const exchange of [...this.exchanges.values()]) {
      if (exchange.router.unbindAll(queue) > 0) this.maybeAutoDelete(exchange);
    }
    const count = queue.markDeleted();
    if (queue.durable && !queue.exclusiveOwner) this.store.deleteQueue(queue.id);
    return count;
  }

  private addExchange(options: Partial<Exchange> & { name: string; type: ExchangeType }): Exchange {
    const exchange = new Exchange({
      name: options.name,
      vhost: this.name,
      type: options.type,
      durable: options.durable ?? false,
      autoDelete: options.autoDelete ?? false,
      internal: options.internal ?? false,
      arguments: options.arguments ?? {},
    });
    this.exchanges.set(exchange.name, exchange);
    return exchange;
  }

  /** Registers a queue (declare, or recovery from the store). */
  addQueue(options: {
    id: string;
    name: string;
    durable: boolean;
    autoDelete: boolean;
    exclusiveOwner: object | undefined;
    arguments: Record<string, unknown>;
  }): Queue {
    const queue = new Queue({ ...options, vhost: this.name }, this.store);
    queue.onUnused = (unused) => {
      if (this.queues.get(unused.name) === unused) this.removeQueue(unused);
    };
    queue.deadLetterSink = (from, message, reason) => this.deadLetters.publish(from, message, reason);
    queue.propertiesCodec = this.propertiesCodec;
    this.queues.set(queue.name, queue);
    return queue;
  }

  /** Recovery: an exchange from the store, without writing it back. */
  restoreExchange(definition: { name: string; type: string; durable: boolean; autoDelete: boolean; internal: boolean; arguments: Record<string, unknown> }): void {
    if (this.exchanges.has(definition.name)) return;
    this.addExchange({ ...definition, type: definition.type as ExchangeType });
  }

  /** Recovery: a binding from the store, without writing it back. Silently skips dangling ends. */
  restoreBinding(definition: BindingDefinition): void {
    const source = this.exchanges.get(definition.source);
    const destination =
      definition.destinationKind === "queue"
        ? this.queues.get(definition.destination)
        : this.exchanges.get(definition.destination);
    if (source && destination) source.router.bind(destination, definition.routingKey, definition.arguments);
  }

  /** RabbitMQ's rule: an exclusive queue is only for its owner; an exclusive declare needs the owner to match exactly. */
  private assertAccessible(queue: Queue, owner: object, strict = false): void {
    const locked = strict ? queue.exclusiveOwner !== owner : queue.exclusiveOwner !== undefined && queue.exclusiveOwner !== owner;
    if (locked) {
      throw resourceLocked(
        `cannot obtain exclusive access to locked queue '${queue.name}' in vhost '${this.name}'. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.`,
      );
    }
  }

  private assertExchangeEquivalent(existing: Exchange, declaration: ExchangeDeclaration): void {
    const check = (property: string, received: unknown, current: unknown) =>
      assertEquivalent("exchange", existing.name, this.name, property, received, current);
    check("type", declaration.type, existing.type);
    check("durable", declaration.durable, existing.durable);
    check("auto_delete", declaration.autoDelete, existing.autoDelete);
    check("internal", declaration.internal, existing.internal);
    assertEquivalentArguments("exchange", existing.name, this.name, declaration.arguments, existing.arguments);
  }

  private assertQueueEquivalent(existing: Queue, declaration: QueueDeclaration): void {
    const check = (property: string, received: unknown, current: unknown) =>
      assertEquivalent("queue", existing.name, this.name, property, received, current);
    check("durable", declaration.durable, existing.durable);
    check("auto_delete", declaration.autoDelete, existing.autoDelete);
    assertQueueArgumentsEquivalent(existing.name, this.name, declaration.arguments, existing.arguments);
  }

  private declareResult(queue: Queue): QueueDeclareResult {
    return { queue, messageCount: queue.messageCount, consumerCount: queue.consumerCount };
  }

  private exchangeDefinition(exchange: Exchange) {
    return {
      vhost: this.name,
      name: exchange.name,
      type: exchange.type,
      durable: exchange.durable,
      autoDelete: exchange.autoDelete,
      internal: exchange.internal,
      arguments: exchange.arguments,
    };
  }

  private bindingDefinition(source: Exchange, destination: Destination, routingKey: string, args: Record<string, unknown>): BindingDefinition {
    return {
      vhost: this.name,
      source: source.name,
      destinationKind: destination instanceof Queue ? "queue" : "exchange",
      destination: destination.name,
      routingKey,
      arguments: args,
    };
  }

  private defaultExchangeRefusal(): string {
    return `operation not permitted on the default exchange`;
  }
}
