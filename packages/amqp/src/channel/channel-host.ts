/**
 * What a channel needs from its connection: the vhost it works in, the connection as the owner of
 * exclusive queues, and a way to send frames. Kept as an interface so channels never reach into the
 * socket handling.
 */
import type { Broker, MessageProperties, ResourceAccess, VHost } from "@leveret/core";
import type { MethodArgs, MethodName } from "../codec/index.js";
import type { AmqpError } from "../amqp-error.js";
import type { ReplyToRegistry } from "./reply-to-registry.js";

export interface ChannelHost {
  readonly broker: Broker;
  readonly vhost: VHost;
  /** The user's permissions in that vhost (checked before each operation on an exchange or queue). */
  readonly access: ResourceAccess;
  /** The connection, as the owner of exclusive queues. */
  readonly owner: object;
  readonly frameMaxBytes: number;
  readonly maxMessageSizeBytes: number;
  /** True while the socket's write buffer is over its high-water mark: deliveries pause. */
  readonly writeBlocked: boolean;
  /** User name the connection authenticated as (for the user-id property check). */
  readonly userName: string;
  sendMethod<K extends MethodName>(channel: number, name: K, args: MethodArgs[K]): void;
  /** basic.deliver / get-ok / return: method, content header from raw properties, body frames. */
  sendContent<K extends MethodName>(channel: number, name: K, args: MethodArgs[K], rawProperties: Buffer, body: Buffer): void;
  decodeProperties(raw: Buffer): MessageProperties;
  /** Direct reply-to addresses, shared by every connection of the server. */
  readonly replyTo: ReplyToRegistry;
  closeConnection(error: AmqpError): void;
  channelClosed(channel: number): void;
}
