import { describe, expect, it } from "vitest";
import { resolveOptions } from "../src/options.js";
import {
  bindingKeyFor,
  queueIndexForConsumer,
  queueIsConsumed,
  queueNames,
  routeForProducer,
} from "../src/topology.js";

describe("topology", () => {
  it("names queues <prefix>1..N", () => {
    expect(queueNames(resolveOptions({ queues: 3 }))).toEqual(["perf-q-1", "perf-q-2", "perf-q-3"]);
    expect(queueNames(resolveOptions({ queuePrefix: "bench-" }))).toEqual(["bench-1"]);
  });

  it("routes direct producers round-robin over the queues, one copy each", () => {
    const o = resolveOptions({ queues: 2, producers: 3 });
    expect(routeForProducer(o, 0)).toEqual({
      exchange: "leveret-perf-direct",
      routingKey: "perf-q-1",
      queueIndices: [0],
    });
    expect(routeForProducer(o, 1).queueIndices).toEqual([1]);
    expect(routeForProducer(o, 2).routingKey).toBe("perf-q-1");
    expect(bindingKeyFor(o, "perf-q-2")).toBe("perf-q-2");
  });

  it("routes topic keys that only the producer's own queue binding matches", () => {
    const o = resolveOptions({ queues: 2, exchangeType: "topic" });
    const route = routeForProducer(o, 1);
    expect(route.routingKey).toBe("perf.perf-q-2.msg");
    expect(bindingKeyFor(o, "perf-q-2")).toBe("perf.perf-q-2.*");
  });

  it("sends a fanout message to every queue", () => {
    const o = resolveOptions({ queues: 3, exchangeType: "fanout" });
    expect(routeForProducer(o, 5)).toEqual({
      exchange: "leveret-perf-fanout",
      routingKey: "",
      queueIndices: [0, 1, 2],
    });
    expect(bindingKeyFor(o, "perf-q-1")).toBe("");
  });

  it("spreads consumers over queues and knows which queues have one", () => {
    const o = resolveOptions({ queues: 3, consumers: 2 });
    expect([0, 1, 2, 3].map((c) => queueIndexForConsumer(o, c))).toEqual([0, 1, 2, 0]);
    expect([0, 1, 2].map((q) => queueIsConsumed(o, q))).toEqual([true, true, false]);
  });
});
