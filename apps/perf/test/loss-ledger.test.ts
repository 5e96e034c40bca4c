import { describe, expect, it } from "vitest";
import { LossLedger } from "../src/loss-ledger.js";

/** Producer p sends and the broker confirms sequences 0..count-1. */
function sendAndConfirm(ledger: LossLedger, producer: number, count: number): void {
  for (let seq = 0; seq < count; seq++) {
    ledger.onSent(producer, seq);
    ledger.onConfirmed(producer, seq);
  }
}

describe("LossLedger", () => {
  it("finds nothing lost when every confirmed message arrives", () => {
    const ledger = new LossLedger([[0]], new Set([0]));
    sendAndConfirm(ledger, 0, 100);
    for (let seq = 99; seq >= 0; seq--) expect(ledger.onReceived(0, 0, seq)).toBe("new");
    expect(ledger.countLost()).toBe(0);
    expect(ledger.countOutstanding()).toBe(0);
  });

  it("names confirmed messages that never arrived", () => {
    const ledger = new LossLedger([[0], [1]], new Set([0, 1]));
    sendAndConfirm(ledger, 0, 10);
    sendAndConfirm(ledger, 1, 10);
    for (let seq = 0; seq < 10; seq++) if (seq !== 4) ledger.onReceived(0, 0, seq);
    for (let seq = 0; seq < 8; seq++) ledger.onReceived(1, 1, seq);
    expect(ledger.countLost()).toBe(3);
    expect(ledger.listLost(10)).toEqual([
      { producer: 0, queue: 0, sequence: 4 },
      { producer: 1, queue: 1, sequence: 8 },
      { producer: 1, queue: 1, sequence: 9 },
    ]);
    expect(ledger.listLost(1)).toHaveLength(1);
  });

  it("does not count unconfirmed, nacked or returned messages as lost", () => {
    const ledger = new LossLedger([[0]], new Set([0]));
    for (let seq = 0; seq < 4; seq++) ledger.onSent(0, seq);
    ledger.onConfirmed(0, 0);
    ledger.onNacked(0); // seq 1
    ledger.onReturned(0, 2);
    ledger.onConfirmed(0, 2); // the broker acks a returned message after returning it
    // seq 3 never confirmed
    expect(ledger.countLost()).toBe(1); // only seq 0
    ledger.onReceived(0, 0, 0);
    expect(ledger.countLost()).toBe(0);
    // sent 4, nacked 1, returned 1: one more (seq 3) could still arrive
    expect(ledger.countOutstanding()).toBe(1);
  });

  it("expects a fanout message on every consumed queue, and ignores queues without a consumer", () => {
    const ledger = new LossLedger([[0, 1, 2]], new Set([0, 1]));
    sendAndConfirm(ledger, 0, 5);
    for (let seq = 0; seq < 5; seq++) ledger.onReceived(0, 0, seq);
    expect(ledger.countLost()).toBe(5); // queue 1 has none yet; queue 2 has no consumer
    for (let seq = 0; seq < 5; seq++) ledger.onReceived(1, 0, seq);
    expect(ledger.countLost()).toBe(0);
    expect(ledger.checksAnything).toBe(true);
  });

  it("tells duplicates and foreign deliveries apart", () => {
    const ledger = new LossLedger([[0], [1]], new Set([0, 1]));
    sendAndConfirm(ledger, 0, 3);
    expect(ledger.onReceived(0, 0, 1)).toBe("new");
    expect(ledger.onReceived(0, 0, 1)).toBe("duplicate");
    expect(ledger.onReceived(0, 7, 1)).toBe("foreign"); // no producer 7
    expect(ledger.onReceived(1, 0, 1)).toBe("foreign"); // producer 0 does not route to queue 1
  });

  it("checks nothing when no routed queue has a consumer", () => {
    const ledger = new LossLedger([[1]], new Set([0]));
    sendAndConfirm(ledger, 0, 3);
    expect(ledger.checksAnything).toBe(false);
    expect(ledger.countLost()).toBe(0);
  });

  it("rejects a producer that skips a sequence", () => {
    const ledger = new LossLedger([[0]], new Set([0]));
    ledger.onSent(0, 0);
    expect(() => ledger.onSent(0, 2)).toThrow(/out of order/);
    expect(() => ledger.onSent(3, 0)).toThrow(RangeError);
  });
});
