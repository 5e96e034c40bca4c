// Regression guard for a reassembly bug that shipped in another AMQP client: a content header
// frame that arrived in three socket reads was parsed wrongly, because the code handled "header
// split once" but not a frame whose bytes span three or more chunks. Here the content header is
// split at every pair of points (including inside its 7-byte frame header) and must still decode.

import { describe, expect, it } from "vitest";
import {
  decodeContentHeader,
  encodeBodyFrames,
  encodeContentHeaderFrame,
  encodeMethodFrame,
  type Frame,
  FrameParser,
} from "../../src/codec/index.js";

describe("regression: content header split across three reads", () => {
  const properties = {
    contentType: "application/json",
    deliveryMode: 2,
    messageId: "m-1",
    headers: { "x-retry": 3, nested: { deep: "yes" } },
  };
  const publish = encodeMethodFrame(1, "basic.publish", {
    exchange: "",
    routingKey: "q",
    mandatory: false,
    immediate: false,
  });
  const header = encodeContentHeaderFrame(1, 60, 5, properties);
  const body = encodeBodyFrames(1, Buffer.from("hello"), 4096)[0]!;

  it("decodes at every pair of split points inside the header frame", () => {
    const stream = Buffer.concat([publish, header, body]);
    const headerStart = publish.length;
    const headerEnd = headerStart + header.length;
    let cases = 0;
    for (let first = headerStart + 1; first < headerEnd; first++) {
      for (let second = first + 1; second < headerEnd; second++) {
        const reads = [stream.subarray(0, first), stream.subarray(first, second), stream.subarray(second)];
        const frames: Frame[] = [];
        const parser = new FrameParser({ frameMaxBytes: 4096, expectProtocolHeader: false });
        for (const read of reads) parser.feed(read, (f) => frames.push(f));
        expect(frames.map((f) => f.type)).toEqual([1, 2, 3]);
        expect(decodeContentHeader(frames[1]!.payload)).toStrictEqual({
          classId: 60,
          bodySize: 5,
          properties,
        });
        expect(frames[2]!.payload.toString()).toBe("hello");
        cases++;
      }
    }
    expect(cases).toBeGreaterThan(1000);
  });
});
