/**
 * Helpers for the queue-argument and dead-letter integration tests: polling for an outcome that a
 * broker timer produces (TTL, x-expires) without ever asserting on how long it took, draining a
 * queue, and capturing the error a declaration fails with.
 */
import type { Channel, ChannelModel, GetMessage, Options } from "amqplib";
import { openChannel } from "./amqp.js";

/**
 * Polls `probe` until it returns something other than undefined/false. The limit only bounds a broken
 * run; a passing run never depends on it.
 */
export async function eventually<T>(
  probe: () => Promise<T | undefined | false>,
  what: string,
  limitMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Every ready message of a queue, taken with no-ack basic.get. */
export async function drain(channel: Channel, queue: string): Promise<GetMessage[]> {
  const out: GetMessage[] = [];
  for (;;) {
    const message = await channel.get(queue, { noAck: true });
    if (!message) return out;
    out.push(message);
  }
}

/** Declares on a fresh channel; resolves with the channel error (code, message) or undefined on success. */
export async function declareProblem(
  connection: ChannelModel,
  queue: string,
  options: Options.AssertQueue,
): Promise<{ code: number | undefined; message: string } | undefined> {
  const channel = await openChannel(connection);
  try {
    await channel.assertQueue(queue, options);
    await channel.close();
    return undefined;
  } catch (error) {
    const { code, message } = error as Error & { code?: number };
    // amqplib wraps the reply text: ... with message "PRECONDITION_FAILED - <text>"
    const text = /with message "[A-Z_]+ - (.*)"$/s.exec(message)?.[1] ?? message;
    return { code, message: text };
  }
}

/** The x-death header of a message as amqplib decodes it. */
export function xDeath(message: GetMessage | undefined): Array<Record<string, unknown>> {
  return (message?.properties.headers?.["x-death"] as Array<Record<string, unknown>> | undefined) ?? [];
}
