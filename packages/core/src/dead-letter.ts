/**
 * Dead-lettering rules, as RabbitMQ 3.10 applies them (pure functions over plain header values):
 *
 * - the `x-death` header: an array of tables, most recent death first, one per (queue, reason). Each
 *   holds count, reason (rejected | expired | maxlen | delivery_limit), queue, time, exchange,
 *   routing-keys and, when the message had one, original-expiration. A second death in the same queue
 *   for the same reason increments that entry's count and moves it to the front (its other fields stay
 *   those of the first such death, and its keys come out sorted, as RabbitMQ re-sorts an updated table).
 * - `x-first-death-reason`, `-queue`, `-exchange` are set on the first death only. (RabbitMQ 3.10 does not
 *   write the x-last-death-* headers that 3.13 added.)
 * - the routing keys: x-dead-letter-routing-key when the queue has one (and then the CC header goes),
 *   otherwise the message's own routing key plus its CC and BCC keys.
 * - cycles: a message about to reach a queue it already died in is dropped for that queue, unless one of
 *   the deaths since then was a rejection (a client decided; it is not an automatic loop).
 *
 * Values are written in forms the AMQP adapter encodes with RabbitMQ's wire types: counts as bigint
 * (long), times as Date (timestamp, whole seconds), strings and arrays of strings.
 *
 * Not here: routing the message or storing it (DeadLetterPublisher), rewriting the wire bytes (the
 * adapter's PropertiesCodec).
 */
import { Buffer } from "node:buffer";

export type DeadLetterReason = "rejected" | "expired" | "maxlen" | "delivery_limit";

export interface DeathEvent {
  readonly reason: DeadLetterReason;
  /** The queue the message died in. */
  readonly queue: string;
  /** The exchange the message had been published to (the previous DLX for a message that died before). */
  readonly exchange: string;
  /** The message's routing key and its CC keys (BCC keys are never shown). */
  readonly routingKeys: readonly string[];
  readonly timeMs: number;
  /** The message's expiration property, which dead-lettering removes. */
  readonly originalExpiration: string | undefined;
}

type Table = Record<string, unknown>;

/**
 * The header changes for a message dying now: the new `x-death`, the `x-first-death-*` headers on a
 * first death, and the CC header removed (undefined) when a dead-letter routing key replaces the keys.
 */
export function deathHeaderChanges(
  headers: Readonly<Table> | undefined,
  event: DeathEvent,
  replacesRoutingKeys: boolean,
): Table {
  const changes: Table = {};
  const deaths = Array.isArray(headers?.["x-death"]) ? (headers?.["x-death"] as unknown[]) : undefined;
  const info: Table = {
    reason: event.reason,
    queue: event.queue,
    time: new Date(Math.floor(event.timeMs / 1000) * 1000),
    exchange: event.exchange,
    "routing-keys": [...event.routingKeys],
  };
  if (event.originalExpiration !== undefined) info["original-expiration"] = event.originalExpiration;
  if (deaths === undefined) {
    changes["x-first-death-reason"] = event.reason;
    changes["x-first-death-queue"] = event.queue;
    changes["x-first-death-exchange"] = event.exchange;
    changes["x-death"] = [{ count: 1n, ...info }];
  } else {
    const tables = deaths.filter(isTable).map(normaliseDeath);
    const index = tables.findIndex((d) => d.queue === event.queue && d.reason === event.reason);
    let updated: Table;
    if (index < 0) updated = { count: 1n, ...info };
    else {
      const previous = tables.splice(index, 1)[0] as Table;
      updated = { ...previous, count: (typeof previous.count === "bigint" ? previous.count : 0n) + 1n };
    }
    changes["x-death"] = [sortKeys(updated), ...tables];
  }
  if (replacesRoutingKeys && headers?.CC !== undefined) changes.CC = undefined;
  return changes;
}

/**
 * Whether dead-lettering a message (whose x-death already records this death, newest first) to
 * `queue` closes an automatic loop: the queue appears in x-death and no death up to and including that
 * appearance was a rejection.
 */
export function isDeathCycle(queue: string, xDeath: unknown): boolean {
  if (!Array.isArray(xDeath)) return false;
  for (const death of xDeath) {
    if (!isTable(death)) return false;
    if (death.reason === "rejected") return false;
    if (death.queue === queue) return true;
  }
  return false;
}

/** The message's routing key plus its CC (and, for routing only, BCC) header keys. */
export function carbonCopyKeys(headers: Readonly<Table> | undefined, name: "CC" | "BCC"): string[] {
  const value = headers?.[name];
  if (!Array.isArray(value)) return [];
  return value.filter((key): key is string => typeof key === "string");
}

/**
 * The routing keys a dead-lettered message is published with: the dead-letter routing key alone, or
 * every key the message was first routed with (its own, CC and BCC; `extraRoutingKeys` when known,
 * else what the CC and BCC headers still say).
 */
export function deadLetterRoutingKeys(
  routingKey: string,
  headers: Readonly<Table> | undefined,
  deadLetterRoutingKey: string | undefined,
  extraRoutingKeys?: readonly string[],
): string[] {
  if (deadLetterRoutingKey !== undefined) return [deadLetterRoutingKey];
  if (extraRoutingKeys !== undefined) return [routingKey, ...extraRoutingKeys];
  return [routingKey, ...carbonCopyKeys(headers, "CC"), ...carbonCopyKeys(headers, "BCC")];
}

function isTable(value: unknown): value is Table {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

/**
 * An x-death entry read back from plain header values, with the wire types restored: the count as a
 * long, the time as a timestamp (plain tables carry a timestamp as seconds since the epoch).
 */
function normaliseDeath(death: Table): Table {
  const out: Table = { ...death };
  if (typeof death.count === "number" && Number.isInteger(death.count)) out.count = BigInt(death.count);
  if (typeof death.time === "number") out.time = new Date(death.time * 1000);
  return out;
}

function sortKeys(table: Table): Table {
  const sorted: Table = {};
  for (const key of Object.keys(table).sort()) sorted[key] = table[key];
  return sorted;
}
