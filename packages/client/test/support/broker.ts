/**
 * The broker the integration tests talk to: a real Leveret broker started on an ephemeral port
 * (packages/testkit), or, when LEVERET_CLIENT_TEST_URL is set, that URL (any AMQP 0-9-1 broker, e.g.
 * a RabbitMQ). Tests that kill and restart the broker do not use this helper: they always start
 * their own Leveret.
 *
 * Also: unique names, so runs against a shared broker never collide, and a cleanup list of queues
 * and exchanges to delete afterwards (a shared broker keeps what tests leave behind).
 */
import { randomBytes } from "node:crypto";
import { startBroker } from "@leveret/testkit";
import amqplib from "amqplib";

export interface TestBroker {
  readonly url: string;
  /** True when LEVERET_CLIENT_TEST_URL points the tests at a broker they did not start. */
  readonly external: boolean;
  stop(): Promise<void>;
}

export async function useBroker(): Promise<TestBroker> {
  const external = process.env.LEVERET_CLIENT_TEST_URL;
  if (external !== undefined && external !== "") {
    return { url: external, external: true, stop: async () => undefined };
  }
  const broker = await startBroker();
  return {
    url: broker.url,
    external: false,
    stop: async () => {
      await broker.stop();
    },
  };
}

let counter = 0;

/** A name no other test, worker or run uses. */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}-${randomBytes(3).toString("hex")}`;
}

/** Deletes queues and exchanges the tests declared, with plain amqplib. */
export class BrokerCleanup {
  private readonly queues = new Set<string>();
  private readonly exchanges = new Set<string>();

  queue(name: string): string {
    this.queues.add(name);
    return name;
  }

  exchange(name: string): string {
    this.exchanges.add(name);
    return name;
  }

  async run(url: string): Promise<void> {
    const connection = await amqplib.connect(url);
    try {
      for (const name of this.queues) await withChannel(connection, (channel) => channel.deleteQueue(name));
      for (const name of this.exchanges)
        await withChannel(connection, (channel) => channel.deleteExchange(name));
    } finally {
      await connection.close();
    }
    this.queues.clear();
    this.exchanges.clear();
  }
}

async function withChannel(
  connection: amqplib.ChannelModel,
  work: (channel: amqplib.Channel) => Promise<unknown>,
) {
  const channel = await connection.createChannel();
  channel.on("error", () => undefined);
  try {
    await work(channel);
    await channel.close();
  } catch {
    // Already gone (auto-deleted, or never declared because the test failed early).
  }
}

/** Resolves when `predicate` holds, checking after every event-loop turn; gives up after `limit` checks. */
export async function until(predicate: () => boolean, what: string, limit = 4000): Promise<void> {
  for (let i = 0; i < limit; i++) {
    if (predicate()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`gave up waiting for ${what}`);
}
