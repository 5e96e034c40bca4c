/** A Consumer that keeps what it is handed, within an adjustable credit, and notes a server cancel. */
import type { Consumer } from "../../src/consumer.js";
import type { Queue, QueueEntry } from "../../src/queue.js";

export class RecordingConsumer implements Consumer {
  readonly received: QueueEntry[] = [];
  credit = Number.POSITIVE_INFINITY;
  cancelled = false;
  constructor(
    readonly tag: string,
    readonly noAck = false,
    readonly priority = 0,
    readonly exclusive = false,
  ) {}
  hasCredit() {
    return this.received.length < this.credit;
  }
  deliver(_queue: Queue, entry: QueueEntry) {
    this.received.push(entry);
  }
  cancelledByServer() {
    this.cancelled = true;
  }
}
