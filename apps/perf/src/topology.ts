/**
 * Where messages go: the queue names, the exchange, each queue's binding, and for each producer the
 * routing key it publishes with and the queues its messages land in (which the loss check needs).
 * Also declares that topology before a run and deletes it after.
 *
 *   direct  producer i -> key "<queue>"             -> queue (i mod Q)        one copy
 *   topic   producer i -> key "perf.<queue>.msg"    -> queue (i mod Q)        one copy, via "perf.<queue>.*"
 *   fanout  producer i -> key ""                    -> every queue            Q copies
 *
 * Consumer j reads queue (j mod Q). Does not publish or consume.
 */
import type { Channel } from "amqplib";
import { type PerfOptions, queuesAreDurable } from "./options.js";

export interface ProducerRoute {
  exchange: string;
  routingKey: string;
  /** Indices (0-based) of the queues a message of this producer is routed to. */
  queueIndices: number[];
}

export function queueNames(o: PerfOptions): string[] {
  return Array.from({ length: o.queues }, (_, i) => `${o.queuePrefix}${i + 1}`);
}

export function routeForProducer(o: PerfOptions, producerIndex: number): ProducerRoute {
  const names = queueNames(o);
  if (o.exchangeType === "fanout") {
    return { exchange: o.exchange, routingKey: "", queueIndices: names.map((_, i) => i) };
  }
  const queueIndex = producerIndex % o.queues;
  const name = names[queueIndex]!;
  const routingKey = o.exchangeType === "topic" ? `perf.${name}.msg` : name;
  return { exchange: o.exchange, routingKey, queueIndices: [queueIndex] };
}

export function bindingKeyFor(o: PerfOptions, queueName: string): string {
  switch (o.exchangeType) {
    case "fanout":
      return "";
    case "topic":
      return `perf.${queueName}.*`;
    case "direct":
      return queueName;
  }
}

export function queueIndexForConsumer(o: PerfOptions, consumerIndex: number): number {
  return consumerIndex % o.queues;
}

/** Whether queue `queueIndex` has at least one consumer (only those queues take part in the loss check). */
export function queueIsConsumed(o: PerfOptions, queueIndex: number): boolean {
  return queueIndex < o.consumers;
}

/**
 * Declares the exchange and queues and binds them. Unless `keep`, each is deleted first, so that
 * leftovers of an earlier run (messages, or other x-arguments, which would fail the declare with 406)
 * cannot disturb this one.
 */
export async function declareTopology(channel: Channel, o: PerfOptions): Promise<void> {
  const durable = queuesAreDurable(o);
  if (!o.keep) await channel.deleteExchange(o.exchange);
  await channel.assertExchange(o.exchange, o.exchangeType, { durable, autoDelete: false });
  for (const name of queueNames(o)) {
    if (!o.keep) await channel.deleteQueue(name);
    await channel.assertQueue(name, { durable, autoDelete: false, exclusive: false, arguments: o.queueArgs });
    await channel.bindQueue(name, o.exchange, bindingKeyFor(o, name));
  }
}

/** Deletes the queues (with any messages left in them) and the exchange, unless `keep`. */
export async function deleteTopology(channel: Channel, o: PerfOptions): Promise<void> {
  if (o.keep) return;
  for (const name of queueNames(o)) await channel.deleteQueue(name);
  await channel.deleteExchange(o.exchange);
}
