/**
 * What a queue needs from a consumer. The AMQP adapter implements it on its channels: credit comes from
 * basic.qos prefetch and channel.flow, deliver() sends basic.deliver + header + body frames.
 */
import type { Queue, QueueEntry } from "./queue.js";

export interface Consumer {
  readonly tag: string;
  readonly noAck: boolean;
  readonly exclusive: boolean;
  /** Consumer priority (x-priority); higher is served first. */
  readonly priority: number;
  /** May this consumer take one more message now? */
  hasCredit(): boolean;
  /** Takes a message. With noAck the queue has already settled it; otherwise the consumer must later ack or reject the entry. */
  deliver(queue: Queue, entry: QueueEntry): void;
  /** The queue was deleted under the consumer (consumer_cancel_notify). */
  cancelledByServer(queue: Queue): void;
}
