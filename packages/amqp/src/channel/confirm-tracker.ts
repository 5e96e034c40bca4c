/**
 * Publisher confirms for one channel. Sequence numbers are issued in publish order; confirmations may
 * complete out of order (a transient message is confirmed at once, a persistent one after the store's
 * commit). Acks completed in the same turn are coalesced: everything below the oldest outstanding
 * sequence number goes out as one `multiple` ack, the rest one by one. Nacks are never coalesced.
 */
import { OutstandingSeqs } from "./outstanding-seqs.js";

export type SendConfirm = (kind: "ack" | "nack", deliveryTag: number, multiple: boolean) => void;

export class ConfirmTracker {
  private readonly outstanding = new OutstandingSeqs();
  private readyAcks: number[] = [];
  private flushScheduled = false;

  constructor(private readonly send: SendConfirm) {}

  issue(): number {
    return this.outstanding.issue();
  }

  ack(seq: number): void {
    if (!this.outstanding.settle(seq)) return;
    this.readyAcks.push(seq);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  ackAll(seqs: readonly number[]): void {
    for (const seq of seqs) this.ack(seq);
  }

  nack(seq: number): void {
    if (!this.outstanding.settle(seq)) return;
    this.flush();
    this.send("nack", seq, false);
  }

  nackAll(seqs: readonly number[]): void {
    for (const seq of seqs) this.nack(seq);
  }

  /** The channel is closing: nothing more will be sent. */
  abandon(): void {
    this.outstanding.clear();
    this.readyAcks = [];
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.readyAcks.length === 0) return;
    const acks = this.readyAcks.sort((a, b) => a - b);
    this.readyAcks = [];
    const oldestOutstanding = this.outstanding.oldestOutstanding();
    let i = 0;
    while (i < acks.length && (acks[i] as number) < oldestOutstanding) i++;
    // acks[0..i) are all below every outstanding seq: one multiple ack covers them (seqs below them
    // were confirmed before, so covering them again is harmless per the confirms extension).
    if (i > 1) this.send("ack", acks[i - 1] as number, true);
    else if (i === 1) this.send("ack", acks[0] as number, false);
    for (let j = i; j < acks.length; j++) this.send("ack", acks[j] as number, false);
  }
}
