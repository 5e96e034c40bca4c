/**
 * One producer: its own connection and channel, publishing numbered messages to its route until its
 * count is reached or the run says stop. With a confirm window it uses a confirm channel and never has
 * more than `confirmWindow` publishes unconfirmed; it honours channel back-pressure ('drain') and an
 * optional rate limit. Every publish is mandatory, so an unroutable message comes back as a return
 * instead of vanishing unseen.
 *
 * Does not declare anything and does not decide what is lost; it reports sends, confirms, nacks and
 * returns to PerfStats and the LossLedger. Bodies are made per message and handed to amqplib for good.
 */
import { type Channel, type ChannelModel, type ConfirmChannel, connect, type Message } from "amqplib";
import { PerfError, PerfErrorCode } from "./errors.js";
import type { LossLedger } from "./loss-ledger.js";
import { BodyFactory, MAX_SEQUENCE, nowUs, readHeader } from "./message-body.js";
import type { PerfOptions } from "./options.js";
import type { PerfStats } from "./stats.js";
import type { ProducerRoute } from "./topology.js";
import { sleep, waitOrAbort, yieldToEventLoop } from "./wait.js";

/**
 * Without confirms nothing else makes a producer wait until the socket buffer fills, which would starve
 * the consumers and the per-second ticker sharing this event loop; yield after this many publishes.
 */
const PUBLISHES_PER_YIELD = 200;
/** amqplib's error text for a confirm that came back as basic.nack (any other error is a closed channel). */
const NACK_MESSAGE = "message nacked";

export interface ProducerContext {
  index: number;
  options: PerfOptions;
  route: ProducerRoute;
  stats: PerfStats;
  ledger: LossLedger;
  /** Called for an error that ends the run (connection or channel closed by the broker). */
  onFatal(error: PerfError): void;
}

export class Producer {
  private outstanding = 0;
  private wakeOnConfirm: (() => void) | undefined;
  private readonly bodies: BodyFactory;
  private closing = false;

  private constructor(
    private readonly context: ProducerContext,
    private readonly connection: ChannelModel,
    private readonly channel: Channel | ConfirmChannel,
  ) {
    this.bodies = new BodyFactory(context.options.sizeBytes);
    channel.on("return", (message: Message) => this.onReturn(message));
    const fatal = (code: PerfErrorCode, what: string) => (error?: Error) => {
      if (this.closing) return;
      const message = `producer ${context.index}: ${what}${error === undefined ? "" : `: ${error.message}`}`;
      context.onFatal(new PerfError(code, message, { cause: error }));
    };
    channel.on("error", fatal(PerfErrorCode.channel, "channel error"));
    channel.on("close", fatal(PerfErrorCode.channel, "channel closed"));
    connection.on("error", fatal(PerfErrorCode.connection, "connection error"));
    connection.on("close", fatal(PerfErrorCode.connection, "connection closed"));
  }

  static async open(context: ProducerContext): Promise<Producer> {
    const connection = await connect(context.options.url);
    try {
      const channel =
        context.options.confirmWindow > 0
          ? await connection.createConfirmChannel()
          : await connection.createChannel();
      return new Producer(context, connection, channel);
    } catch (error) {
      await connection.close().catch(() => undefined);
      throw error;
    }
  }

  /** Publishes until the count is reached or `stop` fires (the duration ran out, or the run failed). */
  async publishAll(stop: AbortSignal): Promise<void> {
    const { options, index } = this.context;
    // The header carries a u32 sequence, so even an endless run stops there (12 hours at 100k msg/s).
    const count = options.countPerProducer ?? MAX_SEQUENCE + 1;
    const startedAtMs = performance.now();
    let sinceYield = 0;
    for (let sequence = 0; sequence < count && !stop.aborted; sequence++) {
      if (options.ratePerS > 0) {
        const dueAtMs = startedAtMs + (sequence * 1000) / options.ratePerS;
        const aheadMs = dueAtMs - performance.now();
        if (aheadMs > 0) {
          await sleep(aheadMs, stop);
          sinceYield = 0;
          if (stop.aborted) break;
        }
      }
      while (options.confirmWindow > 0 && this.outstanding >= options.confirmWindow && !stop.aborted) {
        await waitOrAbort(stop, (wake) => {
          this.wakeOnConfirm = wake;
        });
        sinceYield = 0;
      }
      if (stop.aborted) break;
      const flushed = this.publish(sequence);
      this.context.ledger.onSent(index, sequence);
      this.context.stats.onSent();
      if (!flushed) {
        await waitOrAbort(stop, (wake) => this.channel.once("drain", wake));
        sinceYield = 0;
      } else if (++sinceYield >= PUBLISHES_PER_YIELD) {
        await yieldToEventLoop();
        sinceYield = 0;
      }
    }
  }

  /** Waits until every publish is confirmed or nacked, or `giveUp` fires (grace period over, or failure). */
  async settle(giveUp: AbortSignal): Promise<void> {
    while (this.outstanding > 0 && !giveUp.aborted) {
      await waitOrAbort(giveUp, (wake) => {
        this.wakeOnConfirm = wake;
      });
    }
  }

  /** Publishes still waiting for a confirm. */
  get unconfirmed(): number {
    return this.outstanding;
  }

  /** Publishes message `sequence`; false when amqplib asks us to wait for 'drain'. */
  private publish(sequence: number): boolean {
    const { options, route, index } = this.context;
    const sentAtUs = nowUs();
    const body = this.bodies.makeBody({ producer: index, sequence, sentAtUs });
    const properties = {
      persistent: options.persistent,
      mandatory: true,
      contentType: "application/octet-stream",
    };
    if (options.confirmWindow === 0)
      return this.channel.publish(route.exchange, route.routingKey, body, properties);
    this.outstanding++;
    const channel = this.channel as ConfirmChannel;
    return channel.publish(route.exchange, route.routingKey, body, properties, (error: unknown) =>
      this.onConfirm(sequence, sentAtUs, error),
    );
  }

  private onConfirm(sequence: number, sentAtUs: number, error: unknown): void {
    this.outstanding--;
    if (error === null || error === undefined) {
      this.context.stats.onConfirmed(nowUs() - sentAtUs);
      this.context.ledger.onConfirmed(this.context.index, sequence);
    } else if (error instanceof Error && error.message === NACK_MESSAGE) {
      this.context.stats.onNacked();
      this.context.ledger.onNacked(this.context.index);
    }
    // Any other error means the channel closed with this message unconfirmed; the close handler has
    // already reported that, and the message simply stays unconfirmed.
    const wake = this.wakeOnConfirm;
    this.wakeOnConfirm = undefined;
    wake?.();
  }

  private onReturn(message: Message): void {
    const header = readHeader(message.content);
    if (header === undefined || header.producer !== this.context.index) return;
    this.context.stats.onReturned();
    this.context.ledger.onReturned(this.context.index, header.sequence);
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.connection.close();
  }

  /** Closes without waiting for the broker; for cleanup after a failure. */
  async abandon(): Promise<void> {
    this.closing = true;
    await this.connection.close().catch(() => undefined);
  }
}
