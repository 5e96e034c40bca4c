import { describe, expect, it } from "vitest";
import { PerfError } from "../src/errors.js";
import { DEFAULT_DURATION_S, queuesAreDurable, redactUrl, resolveOptions } from "../src/options.js";

function usageError(run: () => unknown): PerfError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(PerfError);
    expect((error as PerfError).code).toBe("PERF_USAGE");
    return error as PerfError;
  }
  throw new Error("expected a usage error");
}

describe("resolveOptions", () => {
  it("fills defaults and runs for the default duration when no count is given", () => {
    const o = resolveOptions({});
    expect(o).toMatchObject({
      url: "amqp://guest:guest@127.0.0.1:5672",
      producers: 1,
      consumers: 1,
      sizeBytes: 1024,
      confirmWindow: 0,
      exchangeType: "direct",
      exchange: "leveret-perf-direct",
      queuePrefix: "perf-q-",
      durationS: DEFAULT_DURATION_S,
    });
    expect(resolveOptions({ countPerProducer: 5 }).durationS).toBeUndefined();
    expect(resolveOptions({ exchangeType: "fanout" }).exchange).toBe("leveret-perf-fanout");
  });

  it("rejects out-of-range values with a usage error naming the flag", () => {
    expect(usageError(() => resolveOptions({ sizeBytes: 15 })).message).toMatch(/--size/);
    expect(usageError(() => resolveOptions({ producers: 1.5 })).message).toMatch(/--producers/);
    expect(usageError(() => resolveOptions({ queues: 0 })).message).toMatch(/--queues/);
    expect(usageError(() => resolveOptions({ countPerProducer: 0 })).message).toMatch(/--count/);
    expect(usageError(() => resolveOptions({ ratePerS: -1 })).message).toMatch(/--rate/);
    expect(usageError(() => resolveOptions({ url: "not a url" })).message).toMatch(/--url/);
    usageError(() => resolveOptions({ producers: 0, consumers: 0 }));
    usageError(() => resolveOptions({ producers: 0, countPerProducer: 10 }));
    usageError(() => resolveOptions({ exchangeType: "headers" as "direct" }));
    expect(usageError(() => resolveOptions({ warmupS: -1 })).message).toMatch(/--warmup/);
    // A run by count may end before its warm-up does.
    expect(usageError(() => resolveOptions({ warmupS: 1, countPerProducer: 10 })).message).toMatch(
      /--warmup needs --duration/,
    );
    expect(resolveOptions({ warmupS: 2 })).toMatchObject({ warmupS: 2, durationS: DEFAULT_DURATION_S });
  });

  it("declares durable queues for persistent runs and for quorum queues", () => {
    expect(queuesAreDurable(resolveOptions({}))).toBe(false);
    expect(queuesAreDurable(resolveOptions({ persistent: true }))).toBe(true);
    expect(queuesAreDurable(resolveOptions({ queueArgs: { "x-queue-type": "quorum" } }))).toBe(true);
  });

  it("masks the password of a URL for printing", () => {
    expect(redactUrl("amqp://guest:secret@host:5672/vh")).toBe("amqp://guest:***@host:5672/vh");
    expect(redactUrl("amqp://host")).toBe("amqp://host");
  });
});
