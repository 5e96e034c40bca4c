// The pure dead-lettering rules: x-death as RabbitMQ 3.10 builds it, x-first-death-*, routing keys,
// cycle detection.
import { describe, expect, it } from "vitest";
import {
  type DeathEvent,
  deadLetterRoutingKeys,
  deathHeaderChanges,
  isDeathCycle,
} from "../src/dead-letter.js";

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0, 750);

function event(overrides: Partial<DeathEvent> = {}): DeathEvent {
  return {
    reason: "rejected",
    queue: "src",
    exchange: "",
    routingKeys: ["src"],
    timeMs: T0,
    originalExpiration: undefined,
    ...overrides,
  };
}

describe("deathHeaderChanges", () => {
  it("writes the first death with RabbitMQ's fields and the x-first-death-* headers", () => {
    const changes = deathHeaderChanges(
      { h: 1 },
      event({ routingKeys: ["src", "cc1"], originalExpiration: "60000" }),
      false,
    );
    expect(changes).toEqual({
      "x-first-death-reason": "rejected",
      "x-first-death-queue": "src",
      "x-first-death-exchange": "",
      "x-death": [
        {
          count: 1n,
          reason: "rejected",
          queue: "src",
          time: new Date(T0 - 750), // whole seconds, as an AMQP timestamp
          exchange: "",
          "routing-keys": ["src", "cc1"],
          "original-expiration": "60000",
        },
      ],
    });
    // RabbitMQ's field order for a first death
    expect(Object.keys((changes["x-death"] as object[])[0] as object)).toEqual([
      "count",
      "reason",
      "queue",
      "time",
      "exchange",
      "routing-keys",
      "original-expiration",
    ]);
  });

  it("increments the count of the same queue and reason, keeps its first time, moves it first, sorts its keys", () => {
    // Plain header values as the adapter decodes them: long -> number, timestamp -> seconds.
    const headers = {
      "x-first-death-reason": "expired",
      "x-death": [
        { count: 1, reason: "expired", queue: "other", time: 100, exchange: "x", "routing-keys": ["k"] },
        { count: 2, reason: "rejected", queue: "src", time: 50, exchange: "", "routing-keys": ["src"] },
      ],
    };
    const changes = deathHeaderChanges(headers, event({ timeMs: T0 }), false);
    expect(changes["x-first-death-reason"]).toBeUndefined();
    const deaths = changes["x-death"] as Record<string, unknown>[];
    expect(deaths).toEqual([
      {
        count: 3n,
        exchange: "",
        queue: "src",
        reason: "rejected",
        "routing-keys": ["src"],
        time: new Date(50_000),
      },
      {
        count: 1n,
        reason: "expired",
        queue: "other",
        time: new Date(100_000),
        exchange: "x",
        "routing-keys": ["k"],
      },
    ]);
    expect(Object.keys(deaths[0] as object)).toEqual([
      "count",
      "exchange",
      "queue",
      "reason",
      "routing-keys",
      "time",
    ]);
  });

  it("adds a new entry for a new reason in the same queue, in front", () => {
    const headers = {
      "x-death": [
        { count: 1, reason: "rejected", queue: "src", time: 50, exchange: "", "routing-keys": ["src"] },
      ],
    };
    const deaths = deathHeaderChanges(headers, event({ reason: "expired" }), false)["x-death"] as Record<
      string,
      unknown
    >[];
    expect(deaths.map((d) => [d.queue, d.reason, d.count])).toEqual([
      ["src", "expired", 1n],
      ["src", "rejected", 1n],
    ]);
  });

  it("removes CC when a dead-letter routing key replaces the keys, and only then", () => {
    expect(deathHeaderChanges({ CC: ["a"] }, event(), true)).toHaveProperty("CC", undefined);
    expect(deathHeaderChanges({ CC: ["a"] }, event(), false)).not.toHaveProperty("CC");
    expect(deathHeaderChanges({}, event(), true)).not.toHaveProperty("CC");
  });
});

describe("deadLetterRoutingKeys", () => {
  it("uses the dead-letter routing key alone, or the original key with CC and BCC", () => {
    expect(deadLetterRoutingKeys("rk", { CC: ["c1"], BCC: ["b1"] }, "dead")).toEqual(["dead"]);
    expect(deadLetterRoutingKeys("rk", { CC: ["c1", 5], BCC: ["b1"] }, undefined)).toEqual([
      "rk",
      "c1",
      "b1",
    ]);
    expect(deadLetterRoutingKeys("rk", undefined, undefined)).toEqual(["rk"]);
  });
});

describe("isDeathCycle", () => {
  const death = (queue: string, reason: string) => ({ queue, reason, count: 1 });

  it("finds the queue among earlier deaths when none of them was a rejection", () => {
    expect(isDeathCycle("a", [death("a", "expired")])).toBe(true);
    expect(isDeathCycle("a", [death("b", "expired"), death("a", "maxlen")])).toBe(true);
    expect(isDeathCycle("c", [death("b", "expired"), death("a", "expired")])).toBe(false);
  });

  it("lets a loop through when a client rejected the message on the way", () => {
    expect(isDeathCycle("a", [death("b", "rejected"), death("a", "expired")])).toBe(false);
    expect(isDeathCycle("a", [death("a", "rejected")])).toBe(false);
    // A rejection older than the queue's appearance does not count.
    expect(isDeathCycle("a", [death("a", "expired"), death("b", "rejected")])).toBe(true);
  });

  it("ignores a missing or malformed header", () => {
    expect(isDeathCycle("a", undefined)).toBe(false);
    expect(isDeathCycle("a", "x")).toBe(false);
  });
});
