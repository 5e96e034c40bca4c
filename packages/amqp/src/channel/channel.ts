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
import type { Queue, QueueEntry } from "@leveret/core";
import { type AmqpError, protocolError } from "../amqp-error.js";
import type { AmqpMethod, MethodArgs } from "../codec/index.js";
import { toAmqpError } from "../error-map.js";
import { toPlainTable } from "../plain-table.js";
import { ChannelConsumer, type ConsumerChannel } from "./channel-consumer.js";
import type { ChannelHost } from "./channel-host.js";
import { ConfirmTracker } from "./confirm-tracker.js";
import { type AssembledContent, ContentAssembler } from "./content-assembler.js";

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
  private prefetchPerConsumer = 0;
  private prefetchPerChannel = 0;
  private flowActive = true;
  private confirms: ConfirmTracker | undefined;
  private lastCommit: Promise<void> | undefined;
  private lastCommitSeqs: number[] = [];
  /** RabbitMQ lets "" mean the queue most recently declared on this channel. */
  private lastQueueName = "";

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
      message.rawProperties,
      message.body,
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
      case "confirm.select":
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
    const name = args.passive ? this.queueName(args.queue) : args.queue;
    const result = this.host.vhost.declareQueue(
      name,
      {
        passive: args.passive,
        durable: args.durable,
        exclusive: args.exclusive,
        autoDelete: args.autoDelete,
        arguments: toPlainTable(args.arguments),
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

  private cancel(tag: string, nowait: boolean): void {
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
    const { publish, rawProperties, body } = content;
    const properties = this.host.decodeProperties(rawProperties);
    if (properties.userId !== undefined && properties.userId !== this.host.userName) {
      throw protocolError(406, `user_id property set to '${properties.userId}' but authenticated user was '${this.host.userName}'`, 60, 40);
    }
    const seq = this.confirms?.issue();
    const result = this.host.vhost.publish(publish.exchange, publish.routingKey, properties, rawProperties, body);
    if (result.queues === 0 && publish.mandatory) {
      this.host.sendContent(
        this.id,
        "basic.return",
        { replyCode: 312, replyText: "NO_ROUTE", exchange: publish.exchange, routingKey: publish.routingKey },
        rawProperties,
        body,
      );
    }
    if (result.stored) this.awaitDurable(seq);
    else if (seq !== undefined) this.confirms?.ack(seq);
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
    const queue = this.host.vhost.queue(this.queueName(args.queue), this.host.owner);
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
      message.rawProperties,
      message.body,
    );
  }

  private settle(deliveryTag: number, multiple: boolean, outcome: "ack" | "requeue" | "drop"): void {
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
    const requeues = new Map<Queue, QueueEntry[]>();
    for (const { queue, entry, consumer } of settled) {
      if (consumer) consumer.unacked--;
      if (outcome === "requeue") {
        const list = requeues.get(queue);
        if (list) list.push(entry);
        else requeues.set(queue, [entry]);
      } else {
        queue.settle(entry);
      }
    }
    for (const [queue, entries] of requeues) queue.requeue(entries);
    this.resumeDeliveries();
  }

  private recover(name: "basic.recover" | "basic.recover-async", requeue: boolean): void {
    if (!requeue) throw protocolError(540, `${name} with requeue=false is not implemented`, 60, name === "basic.recover" ? 110 : 100);
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
      replyText: `${replyName(error.replyCode)} - ${error.message}`,
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

const REPLY_NAMES: Record<number, string> = {
  311: "CONTENT_TOO_LARGE",
  312: "NO_ROUTE",
  313: "NO_CONSUMERS",
  403: "ACCESS_REFUSED",
  404: "NOT_FOUND",
  405: "RESOURCE_LOCKED",
  406: "PRECONDITION_FAILED",
};

function replyName(code: number): string {
  return REPLY_NAMES[code] ?? String(code);
}
