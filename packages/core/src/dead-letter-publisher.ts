/**
 * Re-publishes a dead message through its queue's dead-letter exchange (x-dead-letter-exchange): the
 * properties are rewritten (x-death and friends added, `expiration` removed) through the adapter's
 * PropertiesCodec, the message is routed with its dead-letter routing keys, automatic cycles are cut
 * (dead-letter.ts), and what is left is delivered as a new message: a new id, and for a persistent
 * message reaching a durable queue a new append to the store. The caller settles the old copy after
 * this returns, so the log holds the new message before the settle of the old one (a crash between
 * the two can only duplicate, never lose).
 *
 * Like RabbitMQ's at-most-once dead-lettering, nothing is retried: a missing dead-letter exchange or no
 * matching binding drops the message.
 *
 * Not here: deciding that a message dies (queues do), the rules for headers (dead-letter.ts).
 * Buffers: the body is shared with the dead message (bodies are immutable); properties are new bytes.
 */
import {
  carbonCopyKeys,
  deadLetterRoutingKeys,
  type DeadLetterReason,
  deathHeaderChanges,
  isDeathCycle,
} from "./dead-letter.js";
import { assert } from "./errors.js";
import type { Exchange } from "./exchange.js";
import { loadedBody, type Message, type PropertiesCodec } from "./message.js";
import type { Queue } from "./queue.js";

/** What the publisher needs from its vhost. */
export interface DeadLetterHost {
  readonly exchanges: ReadonlyMap<string, Exchange>;
  route(exchange: Exchange, routingKey: string, headers: Record<string, unknown> | undefined): readonly Queue[];
  /** Stores (when persistent and durable) and enqueues a routed message. */
  enqueueRouted(message: Message, targets: readonly Queue[]): { stored: boolean };
}

export class DeadLetterPublisher {
  constructor(
    private readonly host: DeadLetterHost,
    private readonly codec: PropertiesCodec | undefined,
    private readonly nextMessageId: () => number,
    /** Makes stored appends durable; nobody waits for it (no publisher confirm covers a dead letter). */
    private readonly commitSoon: () => void,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** Whether dead-lettering can rewrite properties (the broker was given a PropertiesCodec). */
  get available(): boolean {
    return this.codec !== undefined;
  }

  /** Dead-letters `message` out of `queue`. Returns the number of queues it reached. */
  publish(queue: Queue, message: Message, reason: DeadLetterReason): number {
    const dlxName = queue.settings.deadLetterExchange;
    if (dlxName === undefined) return 0;
    const codec = this.codec;
    assert(codec, `queue ${queue.name} dead-letters but the broker has no PropertiesCodec`);
    const exchange = this.host.exchanges.get(dlxName);
    if (!exchange) return 0; // RabbitMQ drops it too: the dead-letter exchange is not checked at declare time
    const headers = message.properties.headers;
    const dlrk = queue.settings.deadLetterRoutingKey;
    const changes = deathHeaderChanges(
      headers,
      {
        reason,
        queue: queue.name,
        exchange: message.exchange,
        routingKeys: [message.routingKey, ...carbonCopyKeys(headers, "CC")],
        timeMs: this.nowMs(),
        originalExpiration: message.properties.expiration,
      },
      dlrk !== undefined,
    );
    // BCC keys route the first publish only; RabbitMQ strips the header before any queue sees it.
    if (headers?.BCC !== undefined) changes.BCC = undefined;
    const rawProperties = codec.rewrite(message.rawProperties, {
      headers: changes,
      clear: ["expiration"],
      sortHeaders: true,
    });
    const properties = codec.decode(rawProperties);
    const routingKeys = deadLetterRoutingKeys(message.routingKey, headers, dlrk, message.extraRoutingKeys);
    const targets = this.targets(exchange, routingKeys, properties.headers, reason);
    if (targets.length === 0) return 0;
    const deadLettered: Message = {
      id: this.nextMessageId(),
      exchange: dlxName,
      routingKey: routingKeys[0] as string,
      properties,
      rawProperties,
      body: loadedBody(message),
      bodySize: message.bodySize,
      persistent: message.persistent,
      // A later death without a dead-letter routing key routes by these keys again, as in RabbitMQ.
      ...(routingKeys.length > 1 ? { extraRoutingKeys: routingKeys.slice(1) } : {}),
    };
    if (this.host.enqueueRouted(deadLettered, targets).stored) this.commitSoon();
    return targets.length;
  }

  private targets(
    exchange: Exchange,
    routingKeys: readonly string[],
    headers: Record<string, unknown> | undefined,
    reason: DeadLetterReason,
  ): Queue[] {
    const found = new Set<Queue>();
    for (const key of routingKeys)
      for (const target of this.host.route(exchange, key, headers)) found.add(target);
    const targets: Queue[] = [];
    for (const target of found) {
      if (reason !== "rejected" && isDeathCycle(target.name, headers?.["x-death"])) continue;
      targets.push(target);
    }
    return targets;
  }
}
