import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { OutstandingSeqs } from "../../src/channel/outstanding-seqs.js";

/** One step of a channel's life: publish, settle some number (issued, settled, or never issued), close. */
type Step = { kind: "issue" } | { kind: "settle"; pick: number } | { kind: "clear" };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.constant({ kind: "issue" as const }) },
  { weight: 4, arbitrary: fc.nat(2000).map((pick) => ({ kind: "settle" as const, pick })) },
  { weight: 1, arbitrary: fc.constant({ kind: "clear" as const }) },
);

describe("OutstandingSeqs", () => {
  it("answers like a Set of the issued, unsettled numbers, through growth and out-of-order settles", () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 3000 }), (steps) => {
        const seqs = new OutstandingSeqs();
        const model = new Set<number>();
        let issued = 0;
        for (const s of steps) {
          if (s.kind === "issue") {
            const seq = seqs.issue();
            expect(seq).toBe(++issued);
            model.add(seq);
          } else if (s.kind === "settle") {
            // Mostly recent numbers (some outstanding, some settled), sometimes one not issued yet.
            const seq = issued + 5 - (s.pick % (issued + 10));
            expect(seqs.settle(seq)).toBe(model.delete(seq));
          } else {
            seqs.clear();
            model.clear();
          }
          const oldest = model.size === 0 ? Number.POSITIVE_INFINITY : Math.min(...model);
          expect(seqs.oldestOutstanding()).toBe(oldest);
        }
      }),
      { numRuns: 200 },
    );
  });

  it("holds far more outstanding numbers than its first ring, in order", () => {
    const seqs = new OutstandingSeqs();
    for (let i = 1; i <= 10_000; i++) expect(seqs.issue()).toBe(i);
    for (let i = 10_000; i >= 2; i--) expect(seqs.settle(i)).toBe(true);
    expect(seqs.oldestOutstanding()).toBe(1);
    expect(seqs.settle(1)).toBe(true);
    expect(seqs.oldestOutstanding()).toBe(Number.POSITIVE_INFINITY);
    expect(seqs.settle(1)).toBe(false);
    expect(seqs.issue()).toBe(10_001);
  });
});
