/**
 * One AMQP channel: its state machine (open -> closing -> closed), the methods a client sends on it,
 * content assembly for basic.publish, delivery tags, prefetch windows and publisher confirms.
 *
 * Errors thrown while handling a method are turned into channel.close or connection.close in exactly
 * one place, handleMethod's catch. After the server sends channel.close, every frame but
 * channel.close/close-ok is ignored until the client's close-ok arrives (as the spec requires).
 *
 * Not here: the socket and frame parsing (ServerConnection), routing and queues (@leveret/core).
 */
import { randomBytes } from "node:crypto";
import { loadedBody, type Queue, type QueueEntry } from "@leveret/core";
import { type AmqpError, protocolError } from "../amqp-error.js";
import {
  type AmqpMethod,
  decodeBasicProperties,
  encodeBasicProperties,
  type MethodArgs,
  replyText,
} from "../codec/index.js";
import { toAmqpError } from "../error-map.js";
import { toPlainTable } from "../plain-table.js";
import { basicPropertiesCodec } from "../properties-codec.js";
import { ChannelConsumer, type ConsumerChannel } from "./channel-consumer.js";
import { checkMethodAccess, checkQueueDeclare, serverNamedQueue } from "./access-check.js";
import type { ChannelHost } from "./channel-host.js";
import { ConfirmTracker } from "./confirm-tracker.js";
import { type AssembledContent, ContentAssembler } from "./content-assembler.js";
import { REPLY_TO_PREFIX, REPLY_TO_QUEUE } from "./reply-to-registry.js";
import { senderSelectedKeys } from "./sender-selected.js";
import { type SettleOutcome, Transaction } from "./transaction.js";

interface Unacked {
  queue: Queue;
  entry: QueueEntry;
  consumer: ChannelConsumer | undefined;
}

type ChannelState = "open" | "closing" | "closed";

export class Channel implements ConsumerChannel {
  private state: ChannelState = "open";
  private readonly content = new ContentAssembler();
  private readonly consumers = new Map<string, ChannelConsumer>();
  private readonly unacked = new Map<number, Unacked>();
  private nextDeliveryTag = 1;
  /**
   * basic.gets waiting while the next message's body is read back from disk; a get that comes in
   * meanwhile waits behind them, so that answers keep their order.
   */
  private getsWaiting: MethodArgs["basic.get"][] | undefined;
  private prefetchPerConsumer = 0;
  private prefetchPerChannel = 0;
  private flowActive = true;
  private confirms: ConfirmTracker | undefined;
  private lastCommit: Promise<void> | undefined;
  private lastCommitSeqs: number[] = [];
  /** RabbitMQ lets "" mean the queue most recently declared on this channel. */
  private lastQueueName = "";
  private tx: Transaction | undefined;
  /** Direct reply-to: this channel's token and consumer tag while it consumes amq.rabbitmq.reply-to. */
  private reply: { token: string; consumerTag: string } | undefined;

  constructor(
    readonly id: number,
    private readonly host: ChannelHost,
  ) {}

  get isClosing(): boolean {
    return this.state !== "open";
  }

  // ---- inbound frames ----

  handleMethod(method: AmqpMethod): void {
    if (this.state === "closing") {
      if (method.name === "channel.close-ok") this.finishClose();
      else if (method.name === "channel.close") this.host.sendMethod(this.id, "channel.close-ok", {});
      return;
    }
    try {
      if (this.content.expectingContent) {
        throw protocolError(505, `expected content header for basic.publish, got ${method.name}`);
      }
      this.dispatch(method);
    } catch (error) {
      this.fail(toAmqpError(error, method.classId, method.methodId));
    }
  }

  handleHeader(bodySize: number, rawProperties: Buffer): void {
    if (this.state === "closing") return;
    try {
      if (this.content.expectingContent && bodySize > this.host.maxMessageSizeBytes) {
        this.content.reset();
        throw protocolError(
          406,
          `message size ${bodySize} is larger than configured max size ${this.host.maxMessageSizeBytes}`,
          60,
          40,
        );
      }
      const done = this.content.header(bodySize, rawProperties);
      if (done) this.publish(done);
    } catch (error) {
      this.fail(toAmqpError(error, 60, 40));
    }
  }

  handleBody(payload: Buffer): void {
    if (this.state === "closing") return;
    try {
      const done = this.content.bodyFrame(payload);
      if (done) this.publish(done);
    } catch (error) {
      this.fail(toAmqpError(error, 60, 40));
    }
  }

  /** The connection is going away: give back what the client held, without sending anything. */
  teardown(): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.release();
  }

  // ---- ConsumerChannel ----

  canDeliver(_consumer: ChannelConsumer): boolean {
    if (this.state !== "open" || !this.flowActive || this.host.writeBlocked) return false;
    return this.prefetchPerChannel === 0 || this.unacked.size < this.prefetchPerChannel;
  }

  deliver(consumer: ChannelConsumer, queue: Queue, entry: QueueEntry): void {
    const deliveryTag = this.nextDeliveryTag++;
    if (!consumer.noAck) {
      this.unacked.set(deliveryTag, { queue, entry, consumer });
      consumer.unacked++;
    }
    const message = entry.message;
    this.host.sendContent(
      this.id,
      "basic.deliver",
      {
        consumerTag: consumer.tag,
        deliveryTag,
        redelivered: entry.deliveryCount > 1,
        exchange: message.exchange,
        routingKey: message.routingKey,
      },
      queue.deliveryProperties(entry),
      loadedBody(message), // the queue hands out only entries whose body is in memory
    );
  }

  consumerCancelledByServer(consumer: ChannelConsumer): void {
    if (this.consumers.get(consumer.tag) !== consumer) return;
    this.consumers.delete(consumer.tag);
    if (this.state === "open") this.host.sendMethod(this.id, "basic.cancel", { consumerTag: consumer.tag, nowait: true });
  }

  /** Socket drained or window opened: let every queue we consume from push again. */
  resumeDeliveries(): void {
    for (const consumer of this.consumers.values()) consumer.queue.dispatch();
  }

  // ---- method dispatch ----

  private dispatch(method: AmqpMethod): void {
    checkMethodAccess(this.host.access, this.host.vhost, method, (name) => this.queueName(name));
    switch (method.name) {
      case "channel.close":
        this.host.sendMethod(this.id, "channel.close-ok", {});
        this.state = "closed";
        this.release();
        this.host.channelClosed(this.id);
        return;
      case "channel.close-ok":
        return; // a late answer to nothing we asked: harmless
      case "channel.flow":
        this.flowActive = method.args.active;
        this.host.sendMethod(this.id, "channel.flow-ok", { active: method.args.active });
        if (this.flowActive) this.resumeDeliveries();
        return;
      case "channel.open":
        throw protocolError(504, `second 'channel.open' seen on channel ${this.id}`, 20, 10);
      case "exchange.declare":
        return this.exchangeDeclare(method.args);
      case "exchange.delete":
        this.host.vhost.deleteExchange(method.args.exchange, method.args.ifUnused);
        if (!method.args.nowait) this.host.sendMethod(this.id, "exchange.delete-ok", {});
        return;
      case "exchange.bind":
      case "exchange.unbind":
        return this.exchangeBind(method.name, method.args);
      case "queue.declare":
        return this.queueDeclare(method.args);
      case "queue.bind":
        this.host.vhost.bindQueue(this.queueName(method.args.queue), method.args.exchange, method.args.routingKey, toPlainTable(method.args.arguments), this.host.owner);
        if (!method.args.nowait) this.host.sendMethod(this.id, "queue.bind-ok", {});
        return;
      case "queue.unbind":
        this.host.vhost.unbindQueue(this.queueName(method.args.queue), method.args.exchange, method.args.routingKey, toPlainTable(method.args.arguments), this.host.owner);
        this.host.sendMethod(this.id, "queue.unbind-ok", {});
        return;
      case "queue.purge": {
        const messageCount = this.host.vhost.purgeQueue(this.queueName(method.args.queue), this.host.owner);
        if (!method.args.nowait) this.host.sendMethod(this.id, "queue.purge-ok", { messageCount });
        return;
      }
      case "queue.delete": {
        const { ifUnused, ifEmpty, nowait } = method.args;
        const messageCount = this.host.vhost.deleteQueue(this.queueName(method.args.queue), ifUnused, ifEmpty, this.host.owner);
        if (!nowait) this.host.sendMethod(this.id, "queue.delete-ok", { messageCount });
        return;
      }
      case "basic.qos":
        return this.qos(method.args);
      case "basic.consume":
        return this.consume(method.args);
      case "basic.cancel":
        return this.cancel(method.args.consumerTag, method.args.nowait);
      case "basic.publish":
        return this.startPublish(method.args);
      case "basic.get":
        return this.get(method.args);
      case "basic.ack":
        return this.settle(method.args.deliveryTag, method.args.multiple, "ack");
      case "basic.nack":
        return this.settle(method.args.deliveryTag, method.args.multiple, method.args.requeue ? "requeue" : "drop");
      case "basic.reject":
        return this.settle(method.args.deliveryTag, false, method.args.requeue ? "requeue" : "drop");
      case "basic.recover-async":
      case "basic.recover":
        return this.recover(method.name, method.args.requeue);
      case "tx.select":
        if (this.confirms) throw protocolError(406, "cannot switch from confirm to tx mode", 90, 10);
        this.tx ??= new Transaction();
        this.host.sendMethod(this.id, "tx.select-ok", {});
        return;
      case "tx.commit":
        return this.commitTransaction();
      case "tx.rollback":
        if (!this.tx) throw protocolError(406, "channel is not transactional", 90, 30);
        this.tx.take();
        this.host.sendMethod(this.id, "tx.rollback-ok", {});
        return;
      case "confirm.select":
        if (this.tx) throw protocolError(406, "cannot switch from tx to confirm mode", 85, 10);
        this.confirms ??= new ConfirmTracker((kind, deliveryTag, multiple) =>
          this.host.sendMethod(this.id, kind === "ack" ? "basic.ack" : "basic.nack", { deliveryTag, multiple, requeue: false }),
        );
        if (!method.args.nowait) this.host.sendMethod(this.id, "confirm.select-ok", {});
        return;
      default:
        throw protocolError(540, `method ${method.name} is not implemented`, method.classId, method.methodId);
    }
  }

  private exchangeDeclare(args: MethodArgs["exchange.declare"]): void {
    this.host.vhost.declareExchange(args.exchange, {
      type: args.type,
      passive: args.passive,
      durable: args.durable,
      autoDelete: args.autoDelete,
      internal: args.internal,
      arguments: toPlainTable(args.arguments),
    });
    if (!args.nowait) this.host.sendMethod(this.id, "exchange.declare-ok", {});
  }

  private exchangeBind(name: "exchange.bind" | "exchange.unbind", args: MethodArgs["exchange.bind"]): void {
    const vhost = this.host.vhost;
    const table = toPlainTable(args.arguments);
    if (name === "exchange.bind") vhost.bindExchange(args.destination, args.source, args.routingKey, table);
    else vhost.unbindExchange(args.destination, args.source, args.routingKey, table);
    if (!args.nowait) this.host.sendMethod(this.id, name === "exchange.bind" ? "exchange.bind-ok" : "exchange.unbind-ok", {});
  }

  private queueDeclare(args: MethodArgs["queue.declare"]): void {
    if (args.queue === REPLY_TO_QUEUE || args.queue.startsWith(REPLY_TO_PREFIX)) {
      // The pseudo-queue always "exists" for clients that check it (as in RabbitMQ).
      if (!args.nowait) this.host.sendMethod(this.id, "queue.declare-ok", { queue: args.queue, messageCount: 0, consumerCount: 0 });
      return;
    }
    const name = args.passive ? this.queueName(args.queue) : args.queue;
    const serverName = !args.passive && name === "" ? serverNamedQueue() : undefined;
    checkQueueDeclare(this.host.access, this.host.vhost, name, serverName, args);
    const result = this.host.vhost.declareQueue(
      name,
      {
        passive: args.passive,
        durable: args.durable,
        exclusive: args.exclusive,
        autoDelete: args.autoDelete,
        arguments: toPlainTable(args.arguments),
        serverName,
      },
      this.host.owner,
    );
    this.lastQueueName = result.queue.name;
    if (!args.nowait) {
      this.host.sendMethod(this.id, "queue.declare-ok", {
        queue: result.queue.name,
        messageCount: result.messageCount,
        consumerCount: result.consumerCount,
      });
    }
  }

  private qos(args: MethodArgs["basic.qos"]): void {
    if (args.prefetchSize !== 0) {
      throw protocolError(540, `prefetch_size!=0 (${args.prefetchSize})`, 60, 10);
    }
    if (args.global) this.prefetchPerChannel = args.prefetchCount;
    else this.prefetchPerConsumer = args.prefetchCount;
    this.host.sendMethod(this.id, "basic.qos-ok", {});
    this.resumeDeliveries();
  }

  private consume(args: MethodArgs["basic.consume"]): void {
    if (args.queue === REPLY_TO_QUEUE) return this.consumeReplies(args);
    const queue = this.host.vhost.queue(this.queueName(args.queue), this.host.owner);
    const tag = args.consumerTag === "" ? `amq.ctag-${randomBytes(16).toString("base64url")}` : args.consumerTag;
    if (this.consumers.has(tag)) throw protocolError(530, `attempt to reuse consumer tag '${tag}'`, 60, 20);
    const table = toPlainTable(args.arguments);
    const priority = typeof table["x-priority"] === "number" ? (table["x-priority"] as number) : 0;
    const consumer = new ChannelConsumer(tag, queue, args.noAck, args.exclusive, priority, this.prefetchPerConsumer, this);
    // consume-ok must reach the client before the first delivery, so it is sent before the queue
    // may dispatch; if the queue refuses the consumer, the channel error follows the consume-ok,
    // which clients handle (RabbitMQ checks first; the outcome for the client is the same close).
    queue.assertCanConsume(consumer.exclusive);
    if (!args.nowait) this.host.sendMethod(this.id, "basic.consume-ok", { consumerTag: tag });
    this.consumers.set(tag, consumer);
    queue.addConsumer(consumer);
  }

  private consumeReplies(args: MethodArgs["basic.consume"]): void {
    if (!args.noAck) throw protocolError(406, "reply consumer cannot acknowledge", 60, 20);
    if (this.reply) throw protocolError(406, "reply consumer already set", 60, 20);
    const tag = args.consumerTag === "" ? `amq.ctag-${randomBytes(16).toString("base64url")}` : args.consumerTag;
    this.reply = { token: this.host.replyTo.register(this), consumerTag: tag };
    if (!args.nowait) this.host.sendMethod(this.id, "basic.consume-ok", { consumerTag: tag });
  }

  private cancel(tag: string, nowait: boolean): void {
    if (this.reply?.consumerTag === tag) {
      this.host.replyTo.unregister(this.reply.token);
      this.reply = undefined;
    }
    const consumer = this.consumers.get(tag);
    if (consumer) {
      this.consumers.delete(tag);
      consumer.queue.removeConsumer(consumer);
    }
    if (!nowait) this.host.sendMethod(this.id, "basic.cancel-ok", { consumerTag: tag });
  }

  private startPublish(args: MethodArgs["basic.publish"]): void {
    if (args.immediate) throw protocolError(540, "immediate=true", 60, 40);
    // Fail fast on a missing exchange (RabbitMQ answers 404 before reading the content).
    this.host.vhost.exchange(args.exchange);
    this.content.start({ exchange: args.exchange, routingKey: args.routingKey, mandatory: args.mandatory });
  }

  private publish(content: AssembledContent): void {
    if (this.tx) {
      this.tx.publishes.push(content);
      return;
    }
    this.route(content, this.confirms?.issue());
  }

  /** Routes one assembled publish; returns whether the store must commit before it counts as done. */
  private route(content: AssembledContent, seq: number | undefined): boolean {
    const { publish, body } = content;
    let rawProperties = content.rawProperties;
    let properties = this.host.decodeProperties(rawProperties);
    if (properties.userId !== undefined && properties.userId !== this.host.userName && !this.host.access.impersonator) {
      throw protocolError(406, `user_id property set to '${properties.userId}' but authenticated user was '${this.host.userName}'`, 60, 40);
    }
    if (properties.replyTo === REPLY_TO_QUEUE) {
      if (!this.reply) throw protocolError(406, "fast reply consumer does not exist", 60, 40);
      properties = { ...properties, replyTo: `${REPLY_TO_PREFIX}${this.reply.token}` };
      rawProperties = withReplyTo(rawProperties, properties.replyTo as string);
    }
    if (publish.exchange === "" && publish.routingKey.startsWith(REPLY_TO_PREFIX)) {
      this.host.replyTo.route(publish.routingKey, publish.exchange, rawProperties, body);
      if (seq !== undefined) this.confirms?.ack(seq);
      return false;
    }
    const selected = senderSelectedKeys(properties.headers);
    if (selected?.hasBcc) {
      const { BCC: _bcc, ...headers } = properties.headers as Record<string, unknown>;
      properties = { ...properties, headers };
      // rewrite keeps the other headers' wire types
      rawProperties = basicPropertiesCodec.rewrite(rawProperties, { headers: { BCC: undefined } });
    }
    const result = this.host.vhost.publish(
      publish.exchange,
      publish.routingKey,
      properties,
      rawProperties,
      body,
      selected?.extraRoutingKeys,
    );
    if (result.queues === 0 && publish.mandatory) {
      this.host.sendContent(
        this.id,
        "basic.return",
        { replyCode: 312, replyText: "NO_ROUTE", exchange: publish.exchange, routingKey: publish.routingKey },
        rawProperties,
        body,
      );
    }
    // A queue refused it (x-overflow reject-publish): the publisher learns through a nack.
    if (result.rejected) {
      if (seq !== undefined) this.confirms?.nack(seq);
      if (result.stored) this.awaitDurable(undefined); // other queues took it: still make it durable
    } else if (result.stored) this.awaitDurable(seq);
    else if (seq !== undefined) this.confirms?.ack(seq);
    return result.stored;
  }

  /** Applies the held publishes and acks; commit-ok only once what they stored is durable. */
  private commitTransaction(): void {
    if (!this.tx) throw protocolError(406, "channel is not transactional", 90, 20);
    const { publishes, settles } = this.tx.take();
    let stored = false;
    for (const content of publishes) stored = this.route(content, undefined) || stored;
    for (const { deliveryTag, multiple, outcome } of settles) this.applySettle(deliveryTag, multiple, outcome);
    if (!stored) {
      this.host.sendMethod(this.id, "tx.commit-ok", {});
      return;
    }
    this.host.broker.store.commit().then(
      () => {
        if (this.state === "open") this.host.sendMethod(this.id, "tx.commit-ok", {});
      },
      (error: Error) => {
        if (this.state === "open") this.fail(protocolError(541, `commit failed: ${error.message}`, 90, 20));
      },
    );
  }

  /** A reply for this channel's direct reply-to consumer (no queue, no ack). */
  deliverReply(exchange: string, routingKey: string, rawProperties: Buffer, body: Buffer): void {
    if (this.state !== "open" || !this.reply) return;
    const deliveryTag = this.nextDeliveryTag++;
    this.host.sendContent(
      this.id,
      "basic.deliver",
      { consumerTag: this.reply.consumerTag, deliveryTag, redelivered: false, exchange, routingKey },
      rawProperties,
      body,
    );
  }

  /**
   * Confirms wait for the store's commit. Every publish of one group commit shares the store's promise,
   * so one continuation is attached per batch, not per message.
   */
  private awaitDurable(seq: number | undefined): void {
    const commit = this.host.broker.store.commit();
    if (commit === this.lastCommit) {
      if (seq !== undefined) this.lastCommitSeqs.push(seq);
      return;
    }
    const seqs: number[] = seq === undefined ? [] : [seq];
    this.lastCommit = commit;
    this.lastCommitSeqs = seqs;
    commit.then(
      () => this.confirms?.ackAll(seqs),
      () => this.confirms?.nackAll(seqs),
    );
  }

  private get(args: MethodArgs["basic.get"]): void {
    if (this.getsWaiting) {
      this.getsWaiting.push(args);
      return;
    }
    const queue = this.host.vhost.queue(this.queueName(args.queue), this.host.owner);
    const loading = queue.nextBodyLoaded();
    if (loading) {
      // Nothing was taken from the queue yet: the get runs again, in full, once the body is in memory.
      this.getsWaiting = [args];
      loading.then(
        () => this.resumeGets(),
        () => {
          this.getsWaiting = undefined;
          if (this.state === "open") this.fail(protocolError(541, "a message body could not be read back from disk", 60, 70));
        },
      );
      return;
    }
    const entry = queue.get(args.noAck);
    if (!entry) {
      this.host.sendMethod(this.id, "basic.get-empty", {});
      return;
    }
    const deliveryTag = this.nextDeliveryTag++;
    if (!args.noAck) this.unacked.set(deliveryTag, { queue, entry, consumer: undefined });
    const message = entry.message;
    this.host.sendContent(
      this.id,
      "basic.get-ok",
      {
        deliveryTag,
        redelivered: entry.deliveryCount > 1,
        exchange: message.exchange,
        routingKey: message.routingKey,
        messageCount: queue.messageCount,
      },
      queue.deliveryProperties(entry, true),
      loadedBody(message),
    );
  }

  private resumeGets(): void {
    const waiting = this.getsWaiting ?? [];
    this.getsWaiting = undefined;
    for (let i = 0; i < waiting.length && this.state === "open"; i++) {
      try {
        this.get(waiting[i] as MethodArgs["basic.get"]);
      } catch (error) {
        this.fail(toAmqpError(error, 60, 70));
        return;
      }
      if (this.getsWaiting) {
        // That one waits for a body again: the rest stay behind it.
        (this.getsWaiting as MethodArgs["basic.get"][]).push(...waiting.slice(i + 1));
        return;
      }
    }
  }

  private settle(deliveryTag: number, multiple: boolean, outcome: SettleOutcome): void {
    if (this.tx) {
      // Checked now (an unknown tag is an error at once, as in RabbitMQ), applied at commit.
      if (!multiple && !this.unacked.has(deliveryTag)) throw protocolError(406, `unknown delivery tag ${deliveryTag}`, 60, 80);
      this.tx.settles.push({ deliveryTag, multiple, outcome });
      return;
    }
    this.applySettle(deliveryTag, multiple, outcome);
  }

  private applySettle(deliveryTag: number, multiple: boolean, outcome: SettleOutcome): void {
    const settled: Unacked[] = [];
    if (multiple) {
      for (const [tag, unacked] of this.unacked) {
        if (deliveryTag !== 0 && tag > deliveryTag) break;
        settled.push(unacked);
        this.unacked.delete(tag);
      }
    } else {
      const unacked = this.unacked.get(deliveryTag);
      if (!unacked) throw protocolError(406, `unknown delivery tag ${deliveryTag}`, 60, 80);
      settled.push(unacked);
      this.unacked.delete(deliveryTag);
    }
    if (multiple && settled.length === 0 && deliveryTag !== 0) {
      throw protocolError(406, `unknown delivery tag ${deliveryTag}`, 60, 80);
    }
    this.finishSettle(settled, outcome);
  }

  private finishSettle(settled: readonly Unacked[], outcome: "ack" | "requeue" | "drop"): void {
    // Only a requeue needs the per-queue grouping; acks (nearly every settle) allocate no Map.
    const requeues = outcome === "requeue" ? new Map<Queue, QueueEntry[]>() : undefined;
    for (const { queue, entry, consumer } of settled) {
      if (consumer) consumer.unacked--;
      if (requeues !== undefined) {
        const list = requeues.get(queue);
        if (list) list.push(entry);
        else requeues.set(queue, [entry]);
      } else if (outcome === "drop") {
        queue.reject(entry); // dead-lettered when the queue has a dead-letter exchange
      } else {
        queue.settle(entry);
      }
    }
    if (requeues !== undefined) for (const [queue, entries] of requeues) queue.requeue(entries);
    this.resumeDeliveries();
  }

  private recover(name: "basic.recover" | "basic.recover-async", requeue: boolean): void {
    if (!requeue) throw protocolError(540, "requeue=false", 60, name === "basic.recover" ? 110 : 100);
    const all = [...this.unacked.values()];
    this.unacked.clear();
    this.finishSettle(all, "requeue");
    if (name === "basic.recover") this.host.sendMethod(this.id, "basic.recover-ok", {});
  }

  private queueName(name: string): string {
    if (name !== "") return name;
    if (this.lastQueueName === "") throw protocolError(404, "no previously declared queue", 50, 0);
    return this.lastQueueName;
  }

  // ---- closing ----

  /** A channel error: tell the client, drop what it held, wait for close-ok. Connection errors escalate. */
  private fail(error: AmqpError): void {
    if (error.scope === "connection") {
      this.host.closeConnection(error);
      return;
    }
    this.host.sendMethod(this.id, "channel.close", {
      replyCode: error.replyCode,
      replyText: `${replyText(error.replyCode)} - ${error.message}`,
      classId: error.classId,
      methodId: error.methodId,
    });
    this.state = "closing";
    this.content.reset();
    this.release();
  }

  private finishClose(): void {
    this.state = "closed";
    this.host.channelClosed(this.id);
  }

  /** Unacked messages go back to their queues (redelivered), consumers are removed. */
  private release(): void {
    this.confirms?.abandon();
    if (this.reply) this.host.replyTo.unregister(this.reply.token);
    this.reply = undefined;
    for (const consumer of this.consumers.values()) consumer.queue.removeConsumer(consumer);
    this.consumers.clear();
    const byQueue = new Map<Queue, QueueEntry[]>();
    for (const { queue, entry } of this.unacked.values()) {
      const list = byQueue.get(queue);
      if (list) list.push(entry);
      else byQueue.set(queue, [entry]);
    }
    this.unacked.clear();
    for (const [queue, entries] of byQueue) queue.requeue(entries);
  }
}

/** The requester's properties with reply_to pointed at its direct reply-to address, wire types kept. */
function withReplyTo(raw: Buffer, replyTo: string): Buffer {
  return encodeBasicProperties({ ...decodeBasicProperties(raw), replyTo });
}
