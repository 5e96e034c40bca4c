/**
 * One consumer: its own connection and channel, consuming one queue with manual acks (one basic.ack
 * per message) or autoack, under a prefetch limit. For each delivery it reads the leveret-perf header,
 * records end-to-end latency and tells the LossLedger which (queue, producer, sequence) arrived.
 *
 * Does not declare queues and does not decide when the run ends. Message bodies belong to amqplib;
 * only the 16-byte header is read, nothing is kept.
 */
import { type Channel, type ChannelModel, type ConsumeMessage, connect } from "amqplib";
import { PerfError, PerfErrorCode } from "./errors.js";
import type { LossLedger } from "./loss-ledger.js";
import { nowUs, readHeader } from "./message-body.js";
import type { PerfOptions } from "./options.js";
import type { PerfStats } from "./stats.js";

export interface ConsumerContext {
  index: number;
  queueIndex: number;
  queueName: string;
  options: PerfOptions;
  stats: PerfStats;
  ledger: LossLedger;
  /** Messages stamped before this (epoch µs) are left over from an earlier run and ignored. */
  runStartedAtUs: number;
  /** Called for an error that ends the run (connection or channel closed, consumer cancelled). */
  onFatal(error: PerfError): void;
}

export class Consumer {
  private consumerTag: string | undefined;
  private closing = false;

  private constructor(
    private readonly context: ConsumerContext,
    private readonly connection: ChannelModel,
    private readonly channel: Channel,
  ) {
    const fatal = (code: PerfErrorCode, what: string) => (error?: Error) => {
      if (this.closing) return;
      const message = `consumer ${context.index}: ${what}${error === undefined ? "" : `: ${error.message}`}`;
      context.onFatal(new PerfError(code, message, { cause: error }));
    };
    channel.on("error", fatal(PerfErrorCode.channel, "channel error"));
    channel.on("close", fatal(PerfErrorCode.channel, "channel closed"));
    connection.on("error", fatal(PerfErrorCode.connection, "connection error"));
    connection.on("close", fatal(PerfErrorCode.connection, "connection closed"));
  }

  static async open(context: ConsumerContext): Promise<Consumer> {
    const connection = await connect(context.options.url);
    try {
      const channel = await connection.createChannel();
      return new Consumer(context, connection, channel);
    } catch (error) {
      await connection.close().catch(() => undefined);
      throw error;
    }
  }

  async start(): Promise<void> {
    const { options, queueName } = this.context;
    if (!options.autoAck && options.prefetch > 0) await this.channel.prefetch(options.prefetch);
    const reply = await this.channel.consume(queueName, (message) => this.onDelivery(message), {
      noAck: options.autoAck,
    });
    this.consumerTag = reply.consumerTag;
  }

  private onDelivery(message: ConsumeMessage | null): void {
    const { stats, ledger, queueIndex } = this.context;
    if (message === null) {
      // basic.cancel from the broker: the queue was deleted or failed over under us.
      if (!this.closing) {
        const why = `consumer ${this.context.index}: cancelled by the broker`;
        this.context.onFatal(new PerfError(PerfErrorCode.channel, why));
      }
      return;
    }
    if (message.fields.redelivered) stats.onRedelivered();
    const header = readHeader(message.content);
    if (header === undefined) {
      stats.onIgnored();
    } else if (this.context.options.producers === 0) {
      // Consume-only run (the producers are elsewhere): nothing to check against, latency still counts.
      stats.onReceived(nowUs() - header.sentAtUs);
    } else if (header.sentAtUs < this.context.runStartedAtUs) {
      stats.onIgnored(); // left over from an earlier run kept with --keep
    } else {
      const outcome = ledger.onReceived(queueIndex, header.producer, header.sequence);
      if (outcome === "new") stats.onReceived(nowUs() - header.sentAtUs);
      else if (outcome === "duplicate") stats.onDuplicate();
      else stats.onIgnored();
    }
    if (!this.context.options.autoAck) this.channel.ack(message);
  }

  /** Cancels the subscription (unacked messages return to the queue) and closes the connection. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.consumerTag !== undefined) await this.channel.cancel(this.consumerTag);
    await this.connection.close();
  }

  /** Closes without waiting for the broker; for cleanup after a failure. */
  async abandon(): Promise<void> {
    this.closing = true;
    await this.connection.close().catch(() => undefined);
  }
}
