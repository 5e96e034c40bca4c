/**
 * Every error this package throws or rejects with: one base class, `ClientError`, with a stable
 * string `code` that callers can switch on (messages may change between versions, codes do not).
 *
 * Does not wrap amqplib's own errors for operations we do not own; those travel as `cause`.
 * Owns no buffers: a `PublishReturnedError` keeps a reference to the returned message's content.
 */

export const ClientErrorCode = {
  /** The broker answered a publish with basic.nack (e.g. a full queue with x-overflow=reject-publish). */
  PublishNacked: "CLIENT_PUBLISH_NACKED",
  /** A mandatory publish could not be routed and came back as basic.return. */
  PublishReturned: "CLIENT_PUBLISH_RETURNED",
  /** No confirm arrived within the publish timeout (the message may or may not have been taken). */
  PublishTimeout: "CLIENT_PUBLISH_TIMEOUT",
  /** The server closed the publishing channel while the publish awaited its confirm (e.g. 404 exchange). */
  PublishChannelClosed: "CLIENT_PUBLISH_CHANNEL_CLOSED",
  /** The disconnected-publish buffer is full; the publish was refused, not dropped silently. */
  BufferFull: "CLIENT_BUFFER_FULL",
  /** The client is closing or closed. */
  Closed: "CLIENT_CLOSED",
  /** Connecting failed and the configured attempts are exhausted (or the broker refused the login). */
  ConnectFailed: "CLIENT_CONNECT_FAILED",
  /** The connection dropped while an operation that cannot be replayed (an RPC call) was waiting. */
  ConnectionLost: "CLIENT_CONNECTION_LOST",
  /** No content-type codec fits, or a codec failed to encode or decode. */
  Codec: "CLIENT_CODEC",
  /** Declaring an exchange, queue or binding failed (e.g. 406 PRECONDITION_FAILED). */
  Topology: "CLIENT_TOPOLOGY",
  /** basic.consume failed (no such queue, exclusive use by another connection, access refused). */
  ConsumeFailed: "CLIENT_CONSUME_FAILED",
  /** An RPC call got no reply within its timeout. */
  RpcTimeout: "CLIENT_RPC_TIMEOUT",
  /** The broker cancelled a consumer (its queue was deleted, for instance). */
  ConsumerCancelled: "CLIENT_CONSUMER_CANCELLED",
  /** An option or argument is invalid. */
  InvalidArgument: "CLIENT_INVALID_ARGUMENT",
} as const;

export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

export class ClientError extends Error {
  readonly code: ClientErrorCode;

  constructor(code: ClientErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Where a publish was headed, for error messages and for the caller's own bookkeeping. */
export interface PublishTarget {
  readonly exchange: string;
  readonly routingKey: string;
}

function describeTarget(target: PublishTarget): string {
  const exchange = target.exchange === "" ? "(default exchange)" : `exchange '${target.exchange}'`;
  return `${exchange} with routing key '${target.routingKey}'`;
}

export class PublishNackedError extends ClientError {
  readonly exchange: string;
  readonly routingKey: string;
  constructor(target: PublishTarget) {
    super(
      ClientErrorCode.PublishNacked,
      `the broker refused (basic.nack) the message published to ${describeTarget(target)}`,
    );
    this.exchange = target.exchange;
    this.routingKey = target.routingKey;
  }
}

export class PublishReturnedError extends ClientError {
  readonly exchange: string;
  readonly routingKey: string;
  /** AMQP reply code of the basic.return, usually 312 NO_ROUTE. */
  readonly replyCode: number;
  readonly replyText: string;
  constructor(target: PublishTarget, replyCode: number, replyText: string) {
    super(
      ClientErrorCode.PublishReturned,
      `the mandatory message published to ${describeTarget(target)} was returned: ${replyCode} ${replyText}`,
    );
    this.exchange = target.exchange;
    this.routingKey = target.routingKey;
    this.replyCode = replyCode;
    this.replyText = replyText;
  }
}

export class PublishTimeoutError extends ClientError {
  readonly exchange: string;
  readonly routingKey: string;
  readonly timeoutMs: number;
  /** True when the message had been sent and only the confirm was missing; false if it never left the buffer. */
  readonly sent: boolean;
  constructor(target: PublishTarget, timeoutMs: number, sent: boolean) {
    super(
      ClientErrorCode.PublishTimeout,
      `no confirm within ${timeoutMs} ms for the message published to ${describeTarget(target)}` +
        (sent ? " (it was sent; the broker may still have it)" : " (it was never sent)"),
    );
    this.exchange = target.exchange;
    this.routingKey = target.routingKey;
    this.timeoutMs = timeoutMs;
    this.sent = sent;
  }
}

export class PublishChannelClosedError extends ClientError {
  readonly exchange: string;
  readonly routingKey: string;
  /** The AMQP reply code the server closed the channel with (404, 403, 406...), when known. */
  readonly replyCode: number | undefined;
  constructor(target: PublishTarget, replyCode: number | undefined, reason: string, cause?: unknown) {
    super(
      ClientErrorCode.PublishChannelClosed,
      `the server closed the channel before confirming the message published to ${describeTarget(target)}: ${reason}`,
      { cause },
    );
    this.exchange = target.exchange;
    this.routingKey = target.routingKey;
    this.replyCode = replyCode;
  }
}

export class BufferFullError extends ClientError {
  readonly limit: number;
  constructor(limit: number) {
    super(
      ClientErrorCode.BufferFull,
      `the publish buffer holds its limit of ${limit} messages; raise publisher.maxBufferedMessages or slow down`,
    );
    this.limit = limit;
  }
}

export class ClientClosedError extends ClientError {
  constructor(what = "the client is closed") {
    super(ClientErrorCode.Closed, what);
  }
}

export class ConnectFailedError extends ClientError {
  readonly attempts: number;
  constructor(attempts: number, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(ClientErrorCode.ConnectFailed, `could not connect after ${attempts} attempt(s): ${reason}`, {
      cause,
    });
    this.attempts = attempts;
  }
}

export class ConnectionLostError extends ClientError {
  constructor(what: string, cause?: unknown) {
    super(ClientErrorCode.ConnectionLost, `${what}: the connection was lost`, { cause });
  }
}

export class CodecError extends ClientError {
  readonly contentType: string | undefined;
  constructor(contentType: string | undefined, message: string, cause?: unknown) {
    super(ClientErrorCode.Codec, message, { cause });
    this.contentType = contentType;
  }
}

export class TopologyError extends ClientError {
  /** The AMQP reply code the server answered with, when the server refused the declaration. */
  readonly replyCode: number | undefined;
  constructor(what: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(ClientErrorCode.Topology, `declaring ${what} failed: ${reason}`, { cause });
    this.replyCode = replyCodeOf(cause);
  }
}

export class ConsumeFailedError extends ClientError {
  readonly queue: string;
  /** The AMQP reply code the server answered with (404, 403, 405...), when it refused. */
  readonly replyCode: number | undefined;
  constructor(queue: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(ClientErrorCode.ConsumeFailed, `consuming from queue '${queue}' failed: ${reason}`, { cause });
    this.queue = queue;
    this.replyCode = cause instanceof TopologyError ? cause.replyCode : replyCodeOf(cause);
  }
}

export class RpcTimeoutError extends ClientError {
  readonly timeoutMs: number;
  constructor(target: PublishTarget, timeoutMs: number) {
    super(ClientErrorCode.RpcTimeout, `no RPC reply within ${timeoutMs} ms from ${describeTarget(target)}`);
    this.timeoutMs = timeoutMs;
  }
}

export class ConsumerCancelledError extends ClientError {
  readonly queue: string;
  constructor(queue: string) {
    super(ClientErrorCode.ConsumerCancelled, `the broker cancelled the consumer of queue '${queue}'`);
    this.queue = queue;
  }
}

export class InvalidArgumentError extends ClientError {
  constructor(message: string) {
    super(ClientErrorCode.InvalidArgument, message);
  }
}

/** The AMQP reply code amqplib attaches to server-side close errors (`err.code`), if it is one. */
export function replyCodeOf(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === "number" ? code : undefined;
}
