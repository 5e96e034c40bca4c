import type { Channel } from "amqplib";
import { describe, expect, it } from "vitest";
import { InvalidArgumentError, TopologyError } from "../src/errors.js";
import { declareTopology, TopologyRecord } from "../src/topology.js";

/** Records the declarations amqplib would send; fails the one named in `refuse` like a 406 would. */
function recordingChannel(refuse?: string) {
  const calls: string[] = [];
  const answer = (name: string, call: string) => {
    calls.push(call);
    if (name === refuse) {
      const error = Object.assign(new Error("PRECONDITION_FAILED - inequivalent arg 'durable'"), {
        code: 406,
      });
      return Promise.reject(error);
    }
    return Promise.resolve({});
  };
  const channel = {
    assertExchange: (name: string, type: string, options: { durable: boolean }) =>
      answer(name, `exchange ${name} ${type} durable=${options.durable}`),
    assertQueue: (name: string, options: { durable: boolean; arguments?: unknown }) =>
      answer(name, `queue ${name} durable=${options.durable} ${JSON.stringify(options.arguments ?? {})}`),
    bindQueue: (queue: string, source: string, key: string) =>
      answer(queue, `bind ${source} -> queue ${queue} '${key}'`),
    bindExchange: (dest: string, source: string, key: string) =>
      answer(dest, `bind ${source} -> exchange ${dest} '${key}'`),
  };
  return { channel: channel as unknown as Channel, calls };
}

describe("topology", () => {
  it("declares exchanges, then queues, then bindings, with durable defaults", async () => {
    const { channel, calls } = recordingChannel();
    await declareTopology(channel, {
      bindings: [
        { source: "ex", destination: "q", routingKey: "k" },
        { source: "ex", destination: "ex2", destinationType: "exchange" },
      ],
      queues: [{ name: "q", arguments: { "x-max-length": 5 } }],
      exchanges: [
        { name: "ex", type: "topic" },
        { name: "ex2", type: "fanout", durable: false },
      ],
    });
    expect(calls).toEqual([
      "exchange ex topic durable=true",
      "exchange ex2 fanout durable=false",
      'queue q durable=true {"x-max-length":5}',
      "bind ex -> queue q 'k'",
      "bind ex -> exchange ex2 ''",
    ]);
  });

  it("reports a refused declaration as TopologyError with the reply code and stops there", async () => {
    const { channel, calls } = recordingChannel("q");
    const failure = declareTopology(channel, { queues: [{ name: "q" }, { name: "after" }] });
    await expect(failure).rejects.toBeInstanceOf(TopologyError);
    await expect(failure).rejects.toMatchObject({ code: "CLIENT_TOPOLOGY", replyCode: 406 });
    expect(calls).toHaveLength(1);
  });

  it("records declarations once each, latest wins, for replay after reconnects", () => {
    const record = new TopologyRecord();
    expect(record.isEmpty).toBe(true);
    record.add({ queues: [{ name: "q", durable: false }], bindings: [{ source: "e", destination: "q" }] });
    record.add({ queues: [{ name: "q" }], bindings: [{ source: "e", destination: "q", routingKey: "" }] });
    const snapshot = record.snapshot();
    expect(snapshot.queues).toEqual([{ name: "q" }]);
    expect(snapshot.bindings).toHaveLength(1);
    expect(() => record.add({ queues: [{ name: "" }] })).toThrow(InvalidArgumentError);
    expect(() => record.add({ exchanges: [{ name: "", type: "direct" }] })).toThrow(InvalidArgumentError);
  });
});
