/**
 * The loss and duplicate check. For each producer it keeps which sequences were sent, confirmed,
 * nacked or returned; for each (queue, producer) which sequences arrived. A message is lost when the
 * broker confirmed it, did not return it as unroutable, and it never arrived on a queue it was routed
 * to that has a consumer.
 *
 * Does not talk to the broker and does not measure time: producers and consumers report into it, the
 * run asks it whether everything arrived.
 */
import { SequenceTracker } from "./sequence-tracker.js";

export interface LostMessage {
  producer: number;
  queue: number;
  sequence: number;
}

interface ProducerRecord {
  sent: number;
  confirmed: SequenceTracker;
  /** Sequences returned unroutable (rare; a set is enough). */
  returned: Set<number>;
  nacked: number;
  /** Queue indices this producer's messages are routed to and consumed from. */
  checkedQueues: number[];
}

export class LossLedger {
  private readonly producers: ProducerRecord[];
  /** What arrived, keyed by streamKey(queue, producer); only for queues the producer routes to. */
  private readonly received = new Map<number, SequenceTracker>();

  /**
   * @param routes for each producer, the indices of the queues its messages are routed to.
   * @param consumedQueues which queue indices have at least one consumer.
   */
  constructor(routes: readonly (readonly number[])[], consumedQueues: ReadonlySet<number>) {
    this.producers = routes.map((queues) => ({
      sent: 0,
      confirmed: new SequenceTracker(),
      returned: new Set(),
      nacked: 0,
      checkedQueues: queues.filter((q) => consumedQueues.has(q)),
    }));
    routes.forEach((queues, producer) => {
      for (const queue of queues) this.received.set(this.streamKey(queue, producer), new SequenceTracker());
    });
  }

  get producerCount(): number {
    return this.producers.length;
  }

  onSent(producer: number, sequence: number): void {
    const record = this.producerRecord(producer);
    if (sequence !== record.sent) {
      throw new Error(
        `producer ${producer} sent sequence ${sequence} out of order (expected ${record.sent})`,
      );
    }
    record.sent++;
  }

  /** A basic.return for a message of ours; the broker still confirms it afterwards. */
  onReturned(producer: number, sequence: number): void {
    this.producerRecord(producer).returned.add(sequence);
  }

  /** Records a broker ack; a returned message is not expected anywhere, so it is not recorded. */
  onConfirmed(producer: number, sequence: number): void {
    const record = this.producerRecord(producer);
    if (record.returned.has(sequence)) return;
    record.confirmed.record(sequence);
  }

  onNacked(producer: number): void {
    this.producerRecord(producer).nacked++;
  }

  /**
   * Records a delivery; "duplicate" when this (queue, producer, sequence) arrived before; "foreign"
   * when this run has no such producer or that producer does not route to this queue.
   */
  onReceived(queue: number, producer: number, sequence: number): "new" | "duplicate" | "foreign" {
    if (producer >= this.producers.length) return "foreign";
    const tracker = this.received.get(this.streamKey(queue, producer));
    if (tracker === undefined) return "foreign";
    return tracker.record(sequence);
  }

  /** Confirmed (and not returned) messages that have not arrived on every consumed queue they were routed to. */
  countLost(): number {
    let lost = 0;
    this.forEachCheckedStream((producer, queue, record) => {
      lost += this.receivedTracker(queue, producer).countMissing(record.confirmed);
    });
    return lost;
  }

  /** Up to `limit` lost messages, for a report a person can chase down. */
  listLost(limit: number): LostMessage[] {
    const found: LostMessage[] = [];
    this.forEachCheckedStream((producer, queue, record) => {
      if (found.length >= limit) return;
      const missing = this.receivedTracker(queue, producer).listMissing(
        record.confirmed,
        limit - found.length,
      );
      for (const sequence of missing) found.push({ producer, queue, sequence });
    });
    return found;
  }

  /**
   * Copies sent (and not returned) that have not arrived on a consumed queue, confirmed or not: what
   * the run waits for before it stops consumers.
   */
  countOutstanding(): number {
    let outstanding = 0;
    this.forEachCheckedStream((producer, queue, record) => {
      const expected = record.sent - record.returned.size - record.nacked;
      outstanding += Math.max(0, expected - this.receivedTracker(queue, producer).distinctCount);
    });
    return outstanding;
  }

  /** Whether any message is routed to a queue that has a consumer, i.e. whether the check means anything. */
  get checksAnything(): boolean {
    return this.producers.some((p) => p.checkedQueues.length > 0);
  }

  private forEachCheckedStream(
    visit: (producer: number, queue: number, record: ProducerRecord) => void,
  ): void {
    this.producers.forEach((record, producer) => {
      for (const queue of record.checkedQueues) visit(producer, queue, record);
    });
  }

  private producerRecord(producer: number): ProducerRecord {
    const record = this.producers[producer];
    if (record === undefined) throw new RangeError(`no producer ${producer} in this run`);
    return record;
  }

  private streamKey(queue: number, producer: number): number {
    return queue * this.producers.length + producer;
  }

  private receivedTracker(queue: number, producer: number): SequenceTracker {
    const tracker = this.received.get(this.streamKey(queue, producer));
    if (tracker === undefined) throw new RangeError(`no stream for queue ${queue}, producer ${producer}`);
    return tracker;
  }
}
