import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SequenceTracker } from "../src/sequence-tracker.js";

describe("SequenceTracker", () => {
  it("advances its watermark over in-order sequences and keeps nothing aside", () => {
    const t = new SequenceTracker();
    for (let seq = 0; seq < 1000; seq++) expect(t.record(seq)).toBe("new");
    expect(t.distinctCount).toBe(1000);
    expect(t.lowestUnseen).toBe(1000);
    expect(t.outOfOrderCount).toBe(0);
  });

  it("reports duplicates below and above the watermark", () => {
    const t = new SequenceTracker();
    t.record(0);
    t.record(1);
    t.record(5);
    expect(t.record(1)).toBe("duplicate");
    expect(t.record(5)).toBe("duplicate");
    expect(t.distinctCount).toBe(3);
  });

  it("closes a gap when the late sequence arrives", () => {
    const t = new SequenceTracker();
    for (const seq of [0, 2, 3, 4]) t.record(seq);
    expect(t.lowestUnseen).toBe(1);
    expect(t.outOfOrderCount).toBe(3);
    t.record(1);
    expect(t.lowestUnseen).toBe(5);
    expect(t.outOfOrderCount).toBe(0);
  });

  it("counts and lists what another tracker saw and it did not", () => {
    const confirmed = new SequenceTracker();
    const received = new SequenceTracker();
    for (let seq = 0; seq < 10; seq++) confirmed.record(seq);
    confirmed.record(15);
    for (const seq of [0, 1, 2, 4, 6, 7, 8, 9, 12]) received.record(seq);
    expect(received.countMissing(confirmed)).toBe(3);
    expect(received.listMissing(confirmed, 10)).toEqual([3, 5, 15]);
    expect(received.listMissing(confirmed, 2)).toEqual([3, 5]);
    expect(confirmed.countMissing(received)).toBe(1); // 12 arrived without a confirm
  });

  it("rejects sequences that are not natural numbers", () => {
    const t = new SequenceTracker();
    expect(() => t.record(-1)).toThrow(RangeError);
    expect(() => t.record(1.5)).toThrow(RangeError);
  });

  it("agrees with a plain set on every question (model test)", () => {
    const seqs = fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 400 });
    fc.assert(
      fc.property(seqs, seqs, (expectedSeqs, seenSeqs) => {
        const expected = new SequenceTracker();
        const seen = new SequenceTracker();
        const expectedModel = new Set<number>();
        const seenModel = new Set<number>();
        for (const seq of expectedSeqs) {
          expect(expected.record(seq)).toBe(expectedModel.has(seq) ? "duplicate" : "new");
          expectedModel.add(seq);
        }
        for (const seq of seenSeqs) {
          expect(seen.record(seq)).toBe(seenModel.has(seq) ? "duplicate" : "new");
          seenModel.add(seq);
        }
        const missing = [...expectedModel].filter((seq) => !seenModel.has(seq)).sort((a, b) => a - b);
        expect(seen.distinctCount).toBe(seenModel.size);
        expect(seen.countMissing(expected)).toBe(missing.length);
        expect(seen.listMissing(expected, 5)).toEqual(missing.slice(0, 5));
        for (let seq = 0; seq <= 300; seq += 7) expect(seen.has(seq)).toBe(seenModel.has(seq));
      }),
    );
  });
});
