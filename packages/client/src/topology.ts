/**
 * The declared topology: exchanges, queues and bindings an application needs, recorded so they can
 * be declared again on every new connection (a restarted broker may have lost non-durable ones,
 * another broker in the URL list may never have had them).
 *
 * Does not delete anything and does not diff against the broker: a declaration that disagrees with
 * what exists fails with the broker's 406, reported as TopologyError. Queue names must be given;
 * server-named queues would get a new name on every reconnect and break the bindings that use them.
 */
import type { Channel } from "amqplib";
import { InvalidArgumentError, TopologyError } from "./errors.js";

export interface ExchangeDeclaration {
  name: string;
  /** direct, topic, fanout, headers, or a plugin type. */
  type: string;
  /** Default true. */
  durable?: boolean;
  autoDelete?: boolean;
  internal?: boolean;
  /** x-arguments, e.g. { "alternate-exchange": "unrouted" }. */
  arguments?: Record<string, unknown>;
}

export interface QueueDeclaration {
  name: string;
  /** Default true. */
  durable?: boolean;
  exclusive?: boolean;
  autoDelete?: boolean;
  /** x-arguments, e.g. { "x-max-length": 1000, "x-dead-letter-exchange": "dlx" }. */
  arguments?: Record<string, unknown>;
}

export interface BindingDeclaration {
  /** The exchange messages come from. */
  source: string;
  /** The queue (or exchange) they go to. */
  destination: string;
  /** Default "queue". */
  destinationType?: "queue" | "exchange";
  /** Default "". */
  routingKey?: string;
  arguments?: Record<string, unknown>;
}

export interface Topology {
  exchanges?: readonly ExchangeDeclaration[];
  queues?: readonly QueueDeclaration[];
  bindings?: readonly BindingDeclaration[];
}

/** Topology declarations accumulated over the client's life, replayed in order on every connection. */
export class TopologyRecord {
  private readonly exchanges = new Map<string, ExchangeDeclaration>();
  private readonly queues = new Map<string, QueueDeclaration>();
  private readonly bindings = new Map<string, BindingDeclaration>();

  add(topology: Topology): void {
    for (const exchange of topology.exchanges ?? []) {
      if (exchange.name === "") throw new InvalidArgumentError("the default exchange cannot be declared");
      this.exchanges.set(exchange.name, exchange);
    }
    for (const queue of topology.queues ?? []) {
      if (queue.name === "")
        throw new InvalidArgumentError(
          "declared queues need a name (server-named queues cannot be re-declared)",
        );
      this.queues.set(queue.name, queue);
    }
    for (const binding of topology.bindings ?? []) this.bindings.set(bindingKey(binding), binding);
  }

  snapshot(): Topology {
    return {
      exchanges: [...this.exchanges.values()],
      queues: [...this.queues.values()],
      bindings: [...this.bindings.values()],
    };
  }

  get isEmpty(): boolean {
    return this.exchanges.size === 0 && this.queues.size === 0 && this.bindings.size === 0;
  }
}

function bindingKey(binding: BindingDeclaration): string {
  return JSON.stringify([
    binding.source,
    binding.destination,
    binding.destinationType ?? "queue",
    binding.routingKey ?? "",
    binding.arguments ?? {},
  ]);
}

/**
 * Declares everything on `channel`, exchanges first, then queues, then bindings (a binding needs
 * both ends). The first refusal closes the channel (AMQP semantics) and rejects with TopologyError.
 */
export async function declareTopology(channel: Channel, topology: Topology): Promise<void> {
  for (const exchange of topology.exchanges ?? []) {
    await describe(`exchange '${exchange.name}'`, () =>
      channel.assertExchange(exchange.name, exchange.type, {
        durable: exchange.durable ?? true,
        autoDelete: exchange.autoDelete ?? false,
        internal: exchange.internal ?? false,
        arguments: exchange.arguments,
      }));
  }
  for (const queue of topology.queues ?? []) await declareQueue(channel, queue);
  for (const binding of topology.bindings ?? []) {
    const routingKey = binding.routingKey ?? "";
    const what = `binding '${binding.source}' -> '${binding.destination}' ('${routingKey}')`;
    if ((binding.destinationType ?? "queue") === "queue") {
      await describe(what, () =>
        channel.bindQueue(binding.destination, binding.source, routingKey, binding.arguments),
      );
    } else {
      await describe(what, () =>
        channel.bindExchange(binding.destination, binding.source, routingKey, binding.arguments),
      );
    }
  }
}

export async function declareQueue(channel: Channel, queue: QueueDeclaration): Promise<void> {
  await describe(`queue '${queue.name}'`, () =>
    channel.assertQueue(queue.name, {
      durable: queue.durable ?? true,
      exclusive: queue.exclusive ?? false,
      autoDelete: queue.autoDelete ?? false,
      arguments: queue.arguments,
    }));
}

async function describe(what: string, declare: () => Promise<unknown>): Promise<void> {
  try {
    await declare();
  } catch (error) {
    throw new TopologyError(what, error);
  }
}
