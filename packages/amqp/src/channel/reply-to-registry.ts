/**
 * Direct reply-to (RabbitMQ's `amq.rabbitmq.reply-to`): RPC replies that skip queues entirely. A
 * channel consuming from the pseudo-queue gets a token; a request it publishes with
 * reply_to = "amq.rabbitmq.reply-to" has the property rewritten to "amq.rabbitmq.reply-to.TOKEN";
 * a reply published to the default exchange with that routing key is delivered straight to the
 * requesting channel's consumer. Replies to a token whose channel is gone are dropped, as in RabbitMQ.
 *
 * One registry per server, shared by all connections (a reply may come from any connection).
 */
import { randomBytes } from "node:crypto";

export const REPLY_TO_QUEUE = "amq.rabbitmq.reply-to";
export const REPLY_TO_PREFIX = `${REPLY_TO_QUEUE}.`;

export interface ReplyReceiver {
  deliverReply(exchange: string, routingKey: string, rawProperties: Buffer, body: Buffer): void;
}

export class ReplyToRegistry {
  private readonly receivers = new Map<string, ReplyReceiver>();

  register(receiver: ReplyReceiver): string {
    const token = randomBytes(18).toString("base64url");
    this.receivers.set(token, receiver);
    return token;
  }

  unregister(token: string): void {
    this.receivers.delete(token);
  }

  /** Returns false when nobody waits for that reply address (the reply is dropped). */
  route(routingKey: string, exchange: string, rawProperties: Buffer, body: Buffer): boolean {
    const receiver = this.receivers.get(routingKey.slice(REPLY_TO_PREFIX.length));
    if (!receiver) return false;
    receiver.deliverReply(exchange, routingKey, rawProperties, body);
    return true;
  }
}
