/**
 * The core's Consumer, implemented for one basic.consume on a channel: it has credit while the
 * consumer's and the channel's prefetch windows have room, the channel is not flow-stopped and the
 * socket is not backed up; deliver() hands the message to the channel, which assigns a delivery tag.
 */
import type { Consumer, Queue, QueueEntry } from "@leveret/core";

export interface ConsumerChannel {
  canDeliver(consumer: ChannelConsumer): boolean;
  deliver(consumer: ChannelConsumer, queue: Queue, entry: QueueEntry): void;
  consumerCancelledByServer(consumer: ChannelConsumer): void;
}

export class ChannelConsumer implements Consumer {
  /** Deliveries not yet acked by the client. */
  unacked = 0;

  constructor(
    readonly tag: string,
    readonly queue: Queue,
    readonly noAck: boolean,
    readonly exclusive: boolean,
    readonly priority: number,
    /** basic.qos prefetch-count (global=false) in force when the consumer started; 0 = unlimited. */
    readonly prefetchCount: number,
    private readonly channel: ConsumerChannel,
  ) {}

  hasCredit(): boolean {
    if (!this.noAck && this.prefetchCount > 0 && this.unacked >= this.prefetchCount) return false;
    return this.channel.canDeliver(this);
  }

  deliver(queue: Queue, entry: QueueEntry): void {
    this.channel.deliver(this, queue, entry);
  }

  cancelledByServer(_queue: Queue): void {
    this.channel.consumerCancelledByServer(this);
  }
}
