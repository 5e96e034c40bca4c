/** Small helpers shared by the broker's integration tests (amqplib over TCP against a real broker). */
import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from "amqplib";

export async function connect(url: string): Promise<ChannelModel> {
  const connection = await amqp.connect(url);
  connection.on("error", () => {}); // tests assert on close reasons explicitly
  return connection;
}

/** A channel whose errors are observed (amqplib kills the connection on an unhandled channel error). */
export async function openChannel(connection: ChannelModel): Promise<Channel> {
  const channel = await connection.createChannel();
  channel.on("error", () => {});
  return channel;
}

/** Resolves with the error that closed the channel (amqplib rejects the pending call with it too). */
export function channelClosed(channel: Channel): Promise<Error & { code?: number }> {
  return new Promise((resolve) => channel.once("error", (error: Error & { code?: number }) => resolve(error)));
}

export function connectionClosed(connection: ChannelModel): Promise<Error & { code?: number }> {
  return new Promise((resolve) => connection.once("close", (error?: Error & { code?: number }) => resolve(error as Error & { code?: number })));
}

/** Collects `count` deliveries from a queue. */
export function collect(channel: Channel, queue: string, count: number, options: { noAck?: boolean } = {}): Promise<ConsumeMessage[]> {
  return new Promise((resolve, reject) => {
    const received: ConsumeMessage[] = [];
    channel
      .consume(
        queue,
        (message) => {
          if (!message) return;
          received.push(message);
          if (received.length === count) resolve(received);
        },
        { noAck: options.noAck ?? true },
      )
      .catch(reject);
  });
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
