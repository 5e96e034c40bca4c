import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../src/errors.js";
import { rejectionCount, retryPlan, retryQueues } from "../src/retry-policy.js";

describe("retry policy", () => {
  it("names the retry and dead-letter queues after the queue", () => {
    const plan = retryPlan("orders", { maxAttempts: 3, delayMs: 500 });
    expect(plan).toMatchObject({ retryQueue: "orders.retry", deadLetterQueue: "orders.dead" });
    expect(
      retryPlan("orders", { maxAttempts: 1, delayMs: 0, retryQueue: "r", deadLetterQueue: "d" }),
    ).toMatchObject({
      retryQueue: "r",
      deadLetterQueue: "d",
    });
  });

  it("wires the queue to the retry queue and back through the default exchange", () => {
    const [main, retry, dead] = retryQueues(retryPlan("q", { maxAttempts: 3, delayMs: 250 }), {
      arguments: { "x-max-length": 10 },
    });
    expect(main).toEqual({
      name: "q",
      durable: true,
      arguments: { "x-max-length": 10, "x-dead-letter-exchange": "", "x-dead-letter-routing-key": "q.retry" },
    });
    expect(retry).toEqual({
      name: "q.retry",
      durable: true,
      arguments: { "x-message-ttl": 250, "x-dead-letter-exchange": "", "x-dead-letter-routing-key": "q" },
    });
    expect(dead).toEqual({ name: "q.dead", durable: true });
  });

  it("counts this queue's rejections in x-death, ignoring other queues and reasons", () => {
    const headers = {
      "x-death": [
        { queue: "q.retry", reason: "expired", count: 2, exchange: "", "routing-keys": ["q.retry"] },
        { queue: "q", reason: "rejected", count: 2, exchange: "", "routing-keys": ["q"] },
        { queue: "other", reason: "rejected", count: 7 },
      ],
    };
    expect(rejectionCount(headers, "q")).toBe(2);
    expect(rejectionCount(headers, "other")).toBe(7);
    expect(rejectionCount({ "x-death": [{ queue: "q", reason: "rejected", count: 3n }] }, "q")).toBe(3);
    expect(rejectionCount({ "x-death": [{ queue: "q", reason: "rejected" }] }, "q")).toBe(1);
    expect(rejectionCount({}, "q")).toBe(0);
    expect(rejectionCount(undefined, "q")).toBe(0);
    expect(rejectionCount({ "x-death": "garbage" }, "q")).toBe(0);
  });

  it("rejects invalid settings", () => {
    expect(() => retryPlan("q", { maxAttempts: 0, delayMs: 1 })).toThrow(InvalidArgumentError);
    expect(() => retryPlan("q", { maxAttempts: 2, delayMs: -1 })).toThrow(InvalidArgumentError);
    expect(() => retryPlan("", { maxAttempts: 2, delayMs: 1 })).toThrow(InvalidArgumentError);
  });
});
