/**
 * A published message as the core sees it. The core reads only the few properties that drive routing
 * and queue behaviour (delivery mode, priority, expiration, headers); the wire encoding of all
 * properties travels with the message as an opaque buffer (`rawProperties`) so that a delivery can
 * reuse it byte for byte. The core never owns the wire format: when it must change properties (dead
 * lettering) it asks the PropertiesCodec the adapter supplied.
 *
 * Buffers: `body` and `rawProperties` are owned by the message once published; nobody mutates them.
 * A stored message's body may be dropped from memory once its record is durable (BodyCache) and read
 * back from the store before delivery (`body` is then undefined; `bodySize` stays known).
 */
export interface MessageProperties {
  contentType?: string;
  contentEncoding?: string;
  headers?: Record<string, unknown>;
  deliveryMode?: number;
  priority?: number;
  correlationId?: string;
  replyTo?: string;
  expiration?: string;
  messageId?: string;
  timestamp?: number;
  type?: string;
  userId?: string;
  appId?: string;
  clusterId?: string;
}

/** Encodes/decodes the property list (flags + values) of a content header; supplied by the adapter. */
export interface PropertiesCodec {
  encode(properties: MessageProperties): Buffer;
  /** Header values come back as plain JS values (numbers, strings, booleans, Buffers, arrays, objects). */
  decode(raw: Buffer): MessageProperties;
  /**
   * The same property list with some headers set (undefined removes one) and some properties cleared;
   * every other header keeps its wire type byte for byte. New values are encoded by the adapter's
   * rules for plain values (a bigint as a long, a Date as a timestamp).
   */
  rewrite(raw: Buffer, change: PropertiesRewrite): Buffer;
}

export interface PropertiesRewrite {
  headers?: Record<string, unknown>;
  clear?: readonly (keyof MessageProperties)[];
  /** Write the header table with its keys in sorted order (RabbitMQ re-sorts it when it dead-letters). */
  sortHeaders?: boolean;
}

export interface Message {
  /** Unique, increasing id within one store (survives restarts for persistent messages). */
  readonly id: number;
  readonly exchange: string;
  readonly routingKey: string;
  /** Shared between messages with the same property bytes: never mutate it (replace it whole). */
  properties: MessageProperties;
  readonly rawProperties: Buffer;
  /** The body; undefined while it lives only on disk (evicted by the BodyCache, or not yet read back). */
  body: Buffer | undefined;
  /** Length of the body in bytes, known whether or not the body is in memory. */
  readonly bodySize: number;
  /**
   * Set by the store while the body may still leave memory (its record is not yet durable, so the body
   * cache has not decided). Queues keep a ready message as an object until that is settled; once its
   * body is gone they keep only a compact on-disk reference (ready-list.ts).
   */
  evictionPending?: boolean;
  /** delivery_mode = 2 */
  readonly persistent: boolean;
  /**
   * The CC and BCC keys it was routed with besides `routingKey` (sender-selected distribution), which
   * dead-lettering routes by again. Not stored: after a restart the CC header stands in (BCC is gone).
   */
  readonly extraRoutingKeys?: readonly string[];
}

export const PERSISTENT_DELIVERY_MODE = 2;

/** The body of a message that must be in memory here (delivery, dead-lettering): a missing one is a bug. */
export function loadedBody(message: Message): Buffer {
  const body = message.body;
  if (body === undefined) throw new Error(`message ${message.id} has no body in memory (it must be loaded first)`);
  return body;
}
