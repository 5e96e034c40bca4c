/**
 * RabbitMQ's table of which permission each AMQP method needs on which resource, applied before the
 * method runs (https://www.rabbitmq.com/access-control.html, and the order of rabbit_channel's checks):
 *
 *   method                       configure        write                 read
 *   exchange.declare             exchange         AE (new, with AE)     exchange (new, with AE)
 *   exchange.declare passive     -                -                     -
 *   exchange.delete              exchange         -                     -
 *   queue.declare                queue            DLX (new, with DLX)   queue (new, with DLX)
 *   queue.declare passive        -                -                     -
 *   queue.delete                 queue            -                     -
 *   queue.bind / unbind          -                queue                 exchange
 *   exchange.bind / unbind       -                destination           source
 *   queue.purge                  -                -                     queue
 *   basic.get / basic.consume    -                -                     queue
 *   basic.publish                -                exchange              -
 *
 * The default exchange "" is checked as "amq.default". A server-named queue is checked under the
 * amq.gen-… name chosen for it (serverNamedQueue). Checks RabbitMQ makes before the permission check
 * (reserved "amq." queue names, the default exchange in bindings) are made here in the same order, so
 * that a user sees the same error RabbitMQ would show; checks it makes after are left to the core.
 *
 * Not here: the permissions themselves (ResourceAccess, from the core) and the close that reports a
 * refusal (Channel.fail turns the CORE_ACCESS_REFUSED into channel.close 403).
 */
import { randomBytes } from "node:crypto";
import { accessRefused, EXCHANGE_TYPES, type ResourceAccess, type VHost } from "@leveret/core";
import type { AmqpMethod, MethodArgs } from "../codec/index.js";

/** RabbitMQ's direct reply-to pseudo-queue: consuming from it needs no read permission. */
const DIRECT_REPLY_TO = "amq.rabbitmq.reply-to";
const DEFAULT_EXCHANGE_REFUSAL = "operation not permitted on the default exchange";

/** A name for a queue declared with the name "", as RabbitMQ makes them. */
export function serverNamedQueue(): string {
  return `amq.gen-${randomBytes(16).toString("base64url")}`;
}

/**
 * Checks every method in the table but queue.declare (see checkQueueDeclare). `queueName` expands ""
 * to the channel's last declared queue, as the method itself will.
 */
export function checkMethodAccess(
  access: ResourceAccess,
  vhost: VHost,
  method: AmqpMethod,
  queueName: (name: string) => string,
): void {
  switch (method.name) {
    case "basic.publish":
      access.check("write", "exchange", method.args.exchange);
      return;
    case "basic.get":
    case "queue.purge":
      access.check("read", "queue", queueName(method.args.queue));
      return;
    case "basic.consume": {
      const name = queueName(method.args.queue);
      if (name !== DIRECT_REPLY_TO) access.check("read", "queue", name);
      return;
    }
    case "queue.delete":
      access.check("configure", "queue", queueName(method.args.queue));
      return;
    case "queue.bind":
    case "queue.unbind":
      access.check("write", "queue", queueName(method.args.queue));
      if (method.args.exchange === "") throw accessRefused(DEFAULT_EXCHANGE_REFUSAL);
      access.check("read", "exchange", method.args.exchange);
      return;
    case "exchange.bind":
    case "exchange.unbind":
      access.check("write", "exchange", method.args.destination);
      if (method.args.destination === "" || method.args.source === "")
        throw accessRefused(DEFAULT_EXCHANGE_REFUSAL);
      access.check("read", "exchange", method.args.source);
      return;
    case "exchange.declare":
      checkExchangeDeclare(access, vhost, method.args);
      return;
    case "exchange.delete": {
      const name = method.args.exchange;
      // RabbitMQ refuses to delete "" and amq.* before it looks at permissions; the core says so.
      if (name !== "" && !name.startsWith("amq.")) access.check("configure", "exchange", name);
      return;
    }
    default:
      return;
  }
}

function checkExchangeDeclare(
  access: ResourceAccess,
  vhost: VHost,
  args: MethodArgs["exchange.declare"],
): void {
  // Passive declares need no permission; an unknown type (503) and the default exchange (403) are
  // refused before the permission check, by the core.
  if (args.passive || args.exchange === "" || !EXCHANGE_TYPES.includes(args.type)) return;
  access.check("configure", "exchange", args.exchange);
  const alternate = args.arguments?.["alternate-exchange"];
  if (
    typeof alternate === "string" &&
    !vhost.exchanges.has(args.exchange) &&
    !args.exchange.startsWith("amq.")
  ) {
    access.check("read", "exchange", args.exchange);
    access.check("write", "exchange", alternate);
  }
}

/**
 * queue.declare under its final name: the client's, the last declared queue's (passive ""), or the
 * server-chosen `serverName` for a non-passive "".
 */
export function checkQueueDeclare(
  access: ResourceAccess,
  vhost: VHost,
  name: string,
  serverName: string | undefined,
  args: MethodArgs["queue.declare"],
): void {
  if (args.passive) return;
  if (serverName === undefined && name.startsWith("amq.")) {
    throw accessRefused(`queue name '${name}' contains reserved prefix 'amq.*'`);
  }
  const queue = serverName ?? name;
  access.check("configure", "queue", queue);
  const deadLetterExchange = args.arguments?.["x-dead-letter-exchange"];
  if (typeof deadLetterExchange === "string" && !vhost.queues.has(queue)) {
    access.check("read", "queue", queue);
    access.check("write", "exchange", deadLetterExchange);
  }
}
