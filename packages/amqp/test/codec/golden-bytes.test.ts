// Frames checked byte for byte against bytes worked out by hand from the 0-9-1 specification
// (frame layout, argument order, bit packing, property flags), in both directions.

import { describe, expect, it } from "vitest";
import {
  decodeContentHeader,
  decodeMethod,
  encodeBodyFrames,
  encodeContentHeaderFrame,
  encodeFrame,
  encodeMethodFrame,
  FrameType,
  HEARTBEAT_FRAME,
} from "../../src/codec/index.js";

function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ""), "hex");
}

function ascii(s: string): string {
  return Buffer.from(s, "latin1").toString("hex");
}

describe("golden method frames", () => {
  it("connection.tune", () => {
    const expected = hex(
      "01 0000 0000000c" + // method frame, channel 0, 12-byte payload
        "000a 001e" + //        class 10 connection, method 30 tune
        "07ff 00020000 003c" + // channel-max 2047, frame-max 131072, heartbeat 60
        "ce",
    );
    const frame = encodeMethodFrame(0, "connection.tune", {
      channelMax: 2047,
      frameMax: 131072,
      heartbeat: 60,
    });
    expect(frame.toString("hex")).toBe(expected.toString("hex"));
    expect(decodeMethod(expected.subarray(7, -1))).toStrictEqual({
      name: "connection.tune",
      classId: 10,
      methodId: 30,
      args: { channelMax: 2047, frameMax: 131072, heartbeat: 60 },
    });
  });

  it("basic.deliver", () => {
    const expected = hex(
      "01 0001 00000018" +
        "003c 003c" + //                  class 60 basic, method 60 deliver
        `04 ${ascii("ctag")}` + //         consumer-tag
        "0000000000000001" + //            delivery-tag 1
        "01" + //                          redelivered
        `02 ${ascii("ex")} 02 ${ascii("rk")}` + // exchange, routing-key
        "ce",
    );
    const args = { consumerTag: "ctag", deliveryTag: 1, redelivered: true, exchange: "ex", routingKey: "rk" };
    expect(encodeMethodFrame(1, "basic.deliver", args).toString("hex")).toBe(expected.toString("hex"));
    expect(decodeMethod(expected.subarray(7, -1)).args).toStrictEqual(args);
  });

  it("basic.publish packs mandatory and immediate into one octet, lowest bit first", () => {
    const expected = hex(`01 0005 0000000a 003c 0028 0000 00 01 ${ascii("q")} 02 ce`);
    const frame = encodeMethodFrame(5, "basic.publish", {
      exchange: "",
      routingKey: "q",
      mandatory: false,
      immediate: true,
    });
    expect(frame.toString("hex")).toBe(expected.toString("hex"));
  });

  it("queue.declare with arguments", () => {
    const expected = hex(
      "01 0001 0000001f" +
        "0032 000a" + //                  class 50 queue, method 10 declare
        "0000" + //                       ticket (reserved)
        `01 ${ascii("q")}` + //            queue
        "02" + //                         passive 0, durable 1, exclusive 0, auto-delete 0, nowait 0
        `00000012 0c ${ascii("x-max-length")} 49 0000000a` + // arguments { "x-max-length": 10 }
        "ce",
    );
    const args = {
      queue: "q",
      passive: false,
      durable: true,
      exclusive: false,
      autoDelete: false,
      nowait: false,
      arguments: { "x-max-length": 10 },
    };
    expect(encodeMethodFrame(1, "queue.declare", args).toString("hex")).toBe(expected.toString("hex"));
    expect(decodeMethod(expected.subarray(7, -1)).args).toStrictEqual({ ticket: 0, ...args });
  });

  it("connection.close-ok and confirm.select", () => {
    expect(encodeMethodFrame(0, "connection.close-ok", {}).toString("hex")).toBe(
      hex("01 0000 00000004 000a 0033 ce").toString("hex"),
    );
    expect(encodeMethodFrame(2, "confirm.select", { nowait: true }).toString("hex")).toBe(
      hex("01 0002 00000005 0055 000a 01 ce").toString("hex"),
    );
  });
});

describe("golden content frames", () => {
  it("content header with content-type, delivery-mode and headers", () => {
    const expected = hex(
      "02 0001 00000026" + //       header frame, channel 1, 38-byte payload
        "003c 0000" + //             class 60, weight 0
        "0000000000000005" + //      body size 5
        "b000" + //                  flags: content-type, headers, delivery-mode
        `0a ${ascii("text/plain")}` +
        `00000008 01 ${ascii("a")} 53 00000001 ${ascii("b")}` + // headers { a: "b" }
        "02" + //                    delivery-mode 2 (persistent)
        "ce",
    );
    const properties = { contentType: "text/plain", deliveryMode: 2, headers: { a: "b" } };
    expect(encodeContentHeaderFrame(1, 60, 5, properties).toString("hex")).toBe(expected.toString("hex"));
    expect(decodeContentHeader(expected.subarray(7, -1))).toStrictEqual({
      classId: 60,
      bodySize: 5,
      properties,
    });
  });

  it("body frame and heartbeat", () => {
    expect(encodeBodyFrames(1, Buffer.from("hello"), 4096).map((f) => f.toString("hex"))).toEqual([
      `03000100000005${ascii("hello")}ce`,
    ]);
    expect(HEARTBEAT_FRAME.toString("hex")).toBe(hex("08 0000 00000000 ce").toString("hex"));
    expect(encodeFrame(FrameType.Heartbeat, 0, Buffer.alloc(0)).equals(HEARTBEAT_FRAME)).toBe(true);
    expect(() => encodeFrame(4, 0, Buffer.alloc(0))).toThrow(/unknown frame type/);
  });
});
