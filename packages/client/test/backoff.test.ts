import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { backoffDelayMs, normalizeBackoff } from "../src/backoff.js";
import { InvalidArgumentError } from "../src/errors.js";

describe("backoffDelayMs", () => {
  const noJitter = normalizeBackoff({ initialDelayMs: 100, maxDelayMs: 10_000, factor: 2, jitter: 0 });

  it("grows exponentially from the initial delay", () => {
    expect([1, 2, 3, 4].map((attempt) => backoffDelayMs(noJitter, attempt))).toEqual([100, 200, 400, 800]);
  });

  it("stops growing at the maximum", () => {
    expect(backoffDelayMs(noJitter, 50)).toBe(10_000);
    expect(backoffDelayMs(noJitter, 1_000_000)).toBe(10_000);
  });

  it("spreads delays by the jitter fraction in both directions", () => {
    const backoff = normalizeBackoff({ initialDelayMs: 1000, maxDelayMs: 100_000, jitter: 0.5 });
    expect(backoffDelayMs(backoff, 1, () => 0)).toBe(500);
    expect(backoffDelayMs(backoff, 1, () => 0.5)).toBe(1000);
    expect(backoffDelayMs(backoff, 1, () => 0.999999)).toBe(1500);
  });

  it("never exceeds maxDelayMs nor goes below zero, and keeps a spread at the cap", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.double({ min: 1, max: 10, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (initialDelayMs, extraMs, factor, jitter, attempt, random) => {
          const backoff = normalizeBackoff({
            initialDelayMs,
            maxDelayMs: initialDelayMs + extraMs,
            factor,
            jitter,
          });
          const delayMs = backoffDelayMs(backoff, attempt, () => random);
          expect(delayMs).toBeGreaterThanOrEqual(0);
          expect(delayMs).toBeLessThanOrEqual(backoff.maxDelayMs);
        },
      ),
    );
    const capped = normalizeBackoff({ initialDelayMs: 100, maxDelayMs: 1200, jitter: 0.2 });
    expect(backoffDelayMs(capped, 40, () => 0)).toBeLessThan(backoffDelayMs(capped, 40, () => 0.99));
  });

  it("rejects nonsense options", () => {
    expect(() => normalizeBackoff({ initialDelayMs: -1 })).toThrow(InvalidArgumentError);
    expect(() => normalizeBackoff({ initialDelayMs: 10, maxDelayMs: 5 })).toThrow(InvalidArgumentError);
    expect(() => normalizeBackoff({ factor: 0.5 })).toThrow(InvalidArgumentError);
    expect(() => normalizeBackoff({ jitter: 2 })).toThrow(InvalidArgumentError);
    expect(() => backoffDelayMs(noJitter, 0)).toThrow(InvalidArgumentError);
  });
});
