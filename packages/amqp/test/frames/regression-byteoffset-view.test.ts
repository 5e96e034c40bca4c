// Regression guard for a reassembly bug that shipped in another AMQP client: code that read a
// chunk through its underlying ArrayBuffer (new DataView(chunk.buffer) and friends) without adding
// chunk.byteOffset, so a chunk that was a view into a larger buffer (Node's pooled socket reads
// are exactly that) parsed bytes from before the chunk.

import { describe, expect, it } from "vitest";
import {
  decodeContentHeader,
  decodeMethod,
  decodeTable,
  encodeContentHeaderFrame,
  encodeMethodFrame,
  encodeTable,
  type Frame,
  FrameParser,
} from "../../src/codec/index.js";

/** `data` placed after `offset` bytes of decoy frames inside one ArrayBuffer. */
function viewAfterDecoy(data: Buffer, offset: number): Buffer {
  const decoy = encodeMethodFrame(9, "basic.ack", { deliveryTag: 99, multiple: false });
  const backing = Buffer.alloc(offset + data.length);
  for (let at = 0; at < offset; at += decoy.length)
    decoy.copy(backing, at, 0, Math.min(decoy.length, offset - at));
  data.copy(backing, offset);
  const view = backing.subarray(offset);
  expect(view.byteOffset).toBe(backing.byteOffset + offset);
  return view;
}

describe("regression: a chunk that is a view with a non-zero byteOffset", () => {
  const publish = encodeMethodFrame(1, "basic.publish", {
    exchange: "ex",
    routingKey: "rk",
    mandatory: false,
    immediate: false,
  });
  const header = encodeContentHeaderFrame(1, 60, 3, { contentType: "text/plain", headers: { a: 1 } });

  it("parses frames from the view, not from the decoy bytes before it", () => {
    for (const offset of [1, 7, 13, 21, 100]) {
      const view = viewAfterDecoy(Buffer.concat([publish, header]), offset);
      const frames: Frame[] = [];
      new FrameParser({ frameMaxBytes: 4096, expectProtocolHeader: false }).feed(view, (f) => frames.push(f));
      expect(frames.map((f) => f.channel)).toEqual([1, 1]);
      expect(decodeMethod(frames[0]!.payload)).toMatchObject({
        name: "basic.publish",
        args: { exchange: "ex" },
      });
      expect(decodeContentHeader(frames[1]!.payload).properties).toStrictEqual({
        contentType: "text/plain",
        headers: { a: 1 },
      });
    }
  });

  it("decodes methods, headers and tables from views", () => {
    const view = viewAfterDecoy(publish.subarray(7, -1), 17);
    expect(decodeMethod(view).args).toMatchObject({ routingKey: "rk" });
    const table = encodeTable({ k: "v", n: [1, 2] });
    expect(decodeTable(viewAfterDecoy(table, 5), 0).table).toStrictEqual({ k: "v", n: [1, 2] });
  });
});
