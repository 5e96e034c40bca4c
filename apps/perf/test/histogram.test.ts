import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HISTOGRAM_MAX_VALUE, Histogram } from "../src/histogram.js";

/** The exact value at percentile p of `values`, by the same rank rule the histogram uses. */
function exactPercentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

describe("Histogram", () => {
  it("reports zeros when empty", () => {
    const h = new Histogram();
    expect(h.count).toBe(0);
    expect(h.percentile(50)).toBe(0);
    expect(h.percentile(100)).toBe(0);
    expect(h.min).toBe(0);
    expect(h.max).toBe(0);
    expect(h.mean).toBe(0);
  });

  it("is exact below 256", () => {
    const h = new Histogram();
    for (let v = 1; v <= 100; v++) h.record(v);
    expect(h.percentile(50)).toBe(50);
    expect(h.percentile(95)).toBe(95);
    expect(h.percentile(99)).toBe(99);
    expect(h.percentile(100)).toBe(100);
    expect(h.min).toBe(1);
    expect(h.mean).toBe(50.5);
  });

  it("keeps every percentile within 1/128 above the exact sample, never below it", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 2 ** 40 - 1 }), { minLength: 1, maxLength: 300 }),
        fc.double({ min: 0.1, max: 100, noNaN: true }),
        (values, p) => {
          const h = new Histogram();
          for (const v of values) h.record(v);
          const exact = exactPercentile(values, p);
          const reported = h.percentile(p);
          expect(reported).toBeGreaterThanOrEqual(exact);
          expect(reported).toBeLessThanOrEqual(exact + Math.floor(exact / 128));
          expect(reported).toBeLessThanOrEqual(h.max);
        },
      ),
    );
  });

  it("puts the two sides of every power of two in different buckets", () => {
    for (let bit = 8; bit < 40; bit++) {
      const below = 2 ** bit - 1;
      const h = new Histogram();
      h.record(below);
      h.record(2 ** bit);
      h.record(2 ** 39);
      // p33 is the sample `below`; its bucket's top must not reach into the next power of two.
      expect(h.percentile(100 / 3)).toBe(below);
    }
  });

  it("counts negative and NaN values as 0 and clamps huge ones", () => {
    const h = new Histogram();
    h.record(-5);
    h.record(Number.NaN);
    h.record(2 ** 50);
    expect(h.count).toBe(3);
    expect(h.min).toBe(0);
    expect(h.max).toBe(HISTOGRAM_MAX_VALUE);
    expect(h.clamped).toBe(1);
    expect(h.percentile(50)).toBe(0);
  });

  it("adds another histogram as if every sample had been recorded here", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 10_000_000 }), { maxLength: 100 }),
        fc.array(fc.integer({ min: 0, max: 10_000_000 }), { maxLength: 100 }),
        (left, right) => {
          const a = new Histogram();
          const b = new Histogram();
          const both = new Histogram();
          for (const v of left) {
            a.record(v);
            both.record(v);
          }
          for (const v of right) {
            b.record(v);
            both.record(v);
          }
          a.add(b);
          expect(a.count).toBe(both.count);
          expect(a.min).toBe(both.min);
          expect(a.max).toBe(both.max);
          expect(a.mean).toBeCloseTo(both.mean, 6);
          for (const p of [1, 50, 95, 99, 100]) expect(a.percentile(p)).toBe(both.percentile(p));
        },
      ),
    );
  });

  it("forgets everything on reset", () => {
    const h = new Histogram();
    h.record(1000);
    h.record(2 ** 45);
    h.reset();
    expect(h.count).toBe(0);
    expect(h.clamped).toBe(0);
    h.record(7);
    expect(h.percentile(100)).toBe(7);
    expect(h.min).toBe(7);
  });

  it("rejects percentiles outside (0, 100]", () => {
    const h = new Histogram();
    h.record(1);
    expect(() => h.percentile(0)).toThrow(RangeError);
    expect(() => h.percentile(100.5)).toThrow(RangeError);
    expect(() => h.percentile(Number.NaN)).toThrow(RangeError);
  });

  it("holds a million samples in fixed memory and still answers exactly for small values", () => {
    const h = new Histogram();
    for (let i = 0; i < 1_000_000; i++) h.record(i % 200);
    expect(h.count).toBe(1_000_000);
    expect(h.percentile(50)).toBe(99);
    expect(h.percentile(100)).toBe(199);
  });
});
