// The expiration property (RabbitMQ's parse rules and texts), expiry instants, and the one-per-queue
// timer. Timers run on vitest's fake clock: nothing here waits for real time.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  ExpiryTimer,
  expiresAtMs,
  expirationMsOf,
  isExpired,
  parseExpiration,
} from "../src/message-expiry.js";
import { MAX_EXPIRY_MS } from "../src/queue-arguments.js";

describe("parseExpiration", () => {
  it("reads decimal integers like Erlang's string:to_integer", () => {
    expect(parseExpiration("0")).toBe(0);
    expect(parseExpiration("60000")).toBe(60000);
    expect(parseExpiration("00010")).toBe(10);
    expect(parseExpiration("+5")).toBe(5);
    expect(parseExpiration("-0")).toBe(0);
    expect(parseExpiration(String(MAX_EXPIRY_MS))).toBe(MAX_EXPIRY_MS);
  });

  it.each([
    ["abc", "no_integer"],
    ["", "no_integer"],
    [" 5", "no_integer"],
    ["-5", "{value_negative,-5}"],
    ["1.5", '{leftover_string,".5"}'],
    ["5abc", '{leftover_string,"abc"}'],
    ["1e3", '{leftover_string,"e3"}'],
    ["9007199254740992", "{value_too_large,9007199254740992}"],
    ["18446744073709551616", "{value_too_large,18446744073709551616}"],
  ])("refuses %j with RabbitMQ's reason %s", (expiration, reason) => {
    expect(() => parseExpiration(expiration)).toThrow(`invalid expiration '${expiration}': ${reason}`);
    expect(expirationMsOf(expiration)).toBeUndefined();
  });
});

describe("expiresAtMs / isExpired", () => {
  it("takes the smaller of the queue TTL and the message's own", () => {
    expect(expiresAtMs(1000, undefined, undefined)).toBeUndefined();
    expect(expiresAtMs(1000, 50, undefined)).toBe(1050);
    expect(expiresAtMs(1000, undefined, "20")).toBe(1020);
    expect(expiresAtMs(1000, 50, "20")).toBe(1020);
    expect(expiresAtMs(1000, 10, "20")).toBe(1010);
  });

  it("counts a message as expired only once its TTL has fully run out", () => {
    expect(isExpired(undefined, 5)).toBe(false);
    expect(isExpired(1000, 1000)).toBe(false);
    expect(isExpired(1000, 1001)).toBe(true);
  });
});

describe("ExpiryTimer", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("fires once, just after the instant it was armed for", () => {
    const fired: number[] = [];
    const timer = new ExpiryTimer(() => fired.push(Date.now()));
    const now = Date.now();
    timer.arm(now + 100, now);
    vi.advanceTimersByTime(100);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual([now + 101]);
    vi.advanceTimersByTime(1000);
    expect(fired).toHaveLength(1);
  });

  it("keeps one timer: re-arming for the same instant does not postpone it, a new instant replaces it", () => {
    let fired = 0;
    const timer = new ExpiryTimer(() => fired++);
    const now = Date.now();
    timer.arm(now + 100, now);
    vi.advanceTimersByTime(60);
    timer.arm(now + 100, now + 60);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(41);
    expect(fired).toBe(1);
    timer.arm(now + 500, Date.now());
    timer.arm(now + 300, Date.now());
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(300);
    expect(fired).toBe(2);
  });

  it("disarms with undefined and with stop()", () => {
    let fired = 0;
    const timer = new ExpiryTimer(() => fired++);
    timer.arm(Date.now() + 10, Date.now());
    timer.arm(undefined, Date.now());
    timer.arm(Date.now() + 10, Date.now());
    timer.stop();
    vi.advanceTimersByTime(100);
    expect(fired).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
