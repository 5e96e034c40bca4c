/**
 * @leveret/client: a typed, resilient AMQP 0-9-1 client on amqplib — publisher confirms, reconnect
 * with re-declared topology, codecs by content type, retries through a retry queue, RPC.
 */

export type { Backoff, BackoffOptions } from "./backoff.js";
export { backoffDelayMs, normalizeBackoff } from "./backoff.js";
export type { ClientEventMap, RpcHandler, ServeOptions } from "./client.js";
export { Client, connect, createClient } from "./client.js";
export type { Codec } from "./codec.js";
export { jsonCodec, mediaTypeOf, msgpackCodec, rawCodec, textCodec } from "./codec.js";
export { CodecRegistry } from "./codec-registry.js";
export type { ConnectedEvent, ConnectionState, ReconnectingEvent } from "./connection-manager.js";
export type { ConsumeOptions, HandlerErrorAction, HandlerErrorEvent, MessageHandler } from "./consumer.js";
export { Consumer } from "./consumer.js";
export type { PublishTarget } from "./errors.js";
export {
  BufferFullError,
  ClientClosedError,
  ClientError,
  ClientErrorCode,
  CodecError,
  ConnectFailedError,
  ConnectionLostError,
  ConsumeFailedError,
  ConsumerCancelledError,
  InvalidArgumentError,
  PublishChannelClosedError,
  PublishNackedError,
  PublishReturnedError,
  PublishTimeoutError,
  RpcTimeoutError,
  TopologyError,
} from "./errors.js";
export type { Message } from "./message.js";
export type { ClientOptions, ConnectTarget, PublisherOptions, ReconnectOptions } from "./options.js";
export type { PublisherStats, PublishOptions } from "./publisher.js";
export { Publisher } from "./publisher.js";
export type { RetryOptions } from "./retry-policy.js";
export { rejectionCount } from "./retry-policy.js";
export type { RpcOptions } from "./rpc-client.js";
export { DIRECT_REPLY_TO } from "./rpc-client.js";
export type { BindingDeclaration, ExchangeDeclaration, QueueDeclaration, Topology } from "./topology.js";
