/**
 * The message an application receives (consumer handlers, RPC replies): the decoded, typed `body`
 * beside the raw `content`, the AMQP properties and delivery fields, and the attempt number.
 *
 * Does not ack or nack: consumers settle messages from the handler's outcome, so a message has no
 * settle methods to misuse. Buffers: `content` is amqplib's buffer for this delivery; `body` may be
 * a view of it (raw codec), so neither should be mutated by handlers.
 */
import type { Message as AmqpMessage, ConsumeMessage, MessageProperties } from "amqplib";
import type { CodecRegistry } from "./codec-registry.js";

export interface Message<T = unknown> {
  /** The payload, decoded by the codec of its content-type (no content-type: the raw Buffer). */
  readonly body: T;
  /** The raw message bytes. */
  readonly content: Buffer;
  readonly contentType: string | undefined;
  readonly exchange: string;
  readonly routingKey: string;
  /** True when the broker delivered this message before (a consumer died or requeued it). */
  readonly redelivered: boolean;
  /** 1 on the first delivery; with retries configured, 1 + the times this queue rejected it (x-death). */
  readonly attempt: number;
  readonly headers: Readonly<Record<string, unknown>>;
  readonly correlationId: string | undefined;
  readonly replyTo: string | undefined;
  readonly messageId: string | undefined;
  /** Every AMQP basic property as amqplib parsed it. */
  readonly properties: MessageProperties;
}

export function toMessage<T>(
  raw: AmqpMessage | ConsumeMessage,
  codecs: CodecRegistry,
  attempt: number,
): Message<T> {
  const contentType = optionalString(raw.properties.contentType);
  return {
    body: codecs.decode(raw.content, contentType) as T,
    content: raw.content,
    contentType,
    exchange: raw.fields.exchange,
    routingKey: raw.fields.routingKey,
    redelivered: raw.fields.redelivered,
    attempt,
    headers: raw.properties.headers ?? {},
    correlationId: optionalString(raw.properties.correlationId),
    replyTo: optionalString(raw.properties.replyTo),
    messageId: optionalString(raw.properties.messageId),
    properties: raw.properties,
  };
}

function optionalString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}
