// Content headers and basic properties: round trips of every subset of the 14 properties, the
// stored property-list form, body frames, and what is refused.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  AmqpCodecError,
  type BasicProperties,
  decodeBasicProperties,
  decodeContentHeader,
  encodeBasicProperties,
  encodeBodyFrames,
  encodeContentHeaderFrame,
  encodeContentHeaderFrameFromPropertyBytes,
  FRAME_END,
  FrameType,
} from "../../src/codec/index.js";
import { canonicalTable, payloadOf, shortStr } from "./arbitraries.js";

const octet = fc.integer({ min: 0, max: 255 });

/** Any subset of the 14 basic properties. */
const basicProperties: fc.Arbitrary<BasicProperties> = fc.record(
  {
    contentType: shortStr,
    contentEncoding: shortStr,
    headers: canonicalTable,
    deliveryMode: octet,
    priority: octet,
    correlationId: shortStr,
    replyTo: shortStr,
    expiration: shortStr,
    messageId: shortStr,
    timestamp: fc.maxSafeNat(),
    type: shortStr,
    userId: shortStr,
    appId: shortStr,
    clusterId: shortStr,
  },
  { requiredKeys: [], noNullPrototype: true },
);

function codecError(fn: () => unknown): AmqpCodecError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AmqpCodecError);
    return err as AmqpCodecError;
  }
  throw new Error("expected an AmqpCodecError");
}

describe("basic properties", () => {
  it("round-trip with any subset of the 14 properties, as a property list and in a header", () => {
    fc.assert(
      fc.property(
        basicProperties,
        fc.maxSafeNat(),
        fc.integer({ min: 0, max: 0xffff }),
        (props, bodySize, channel) => {
          const list = encodeBasicProperties(props);
          expect(decodeBasicProperties(list)).toStrictEqual(props);

          const frame = encodeContentHeaderFrame(channel, 60, bodySize, props);
          expect(frame[0]).toBe(FrameType.Header);
          expect(frame.readUInt16BE(1)).toBe(channel);
          expect(frame.readUInt32BE(3)).toBe(frame.length - 8);
          expect(frame[frame.length - 1]).toBe(FRAME_END);
          expect(decodeContentHeader(payloadOf(frame))).toStrictEqual({
            classId: 60,
            bodySize,
            properties: props,
          });

          const fromBytes = encodeContentHeaderFrameFromPropertyBytes(channel, 60, bodySize, list);
          expect(fromBytes.equals(frame)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("treats null like an absent property", () => {
    const props = { contentType: null, priority: null } as unknown as BasicProperties;
    expect(encodeBasicProperties(props).toString("hex")).toBe("0000");
  });

  it("encodes no properties as two zero flag bytes", () => {
    expect(encodeBasicProperties({}).toString("hex")).toBe("0000");
    expect(decodeBasicProperties(Buffer.from([0, 0]))).toStrictEqual({});
  });

  it("ignores the continuation bit and the unused flag bit, as RabbitMQ does", () => {
    expect(decodeBasicProperties(Buffer.from([0x10, 0x03, 0x02]))).toStrictEqual({ deliveryMode: 2 });
  });

  it("refuses trailing bytes and truncation with 502", () => {
    expect(codecError(() => decodeBasicProperties(Buffer.from([0x10, 0x00, 0x02, 0x00]))).replyCode).toBe(
      502,
    );
    expect(codecError(() => decodeBasicProperties(Buffer.from([0x10, 0x00]))).replyCode).toBe(502);
    expect(codecError(() => decodeBasicProperties(Buffer.from([0x80]))).replyCode).toBe(502);
  });

  it("refuses values that do not fit their type", () => {
    for (const props of [
      { deliveryMode: 256 },
      { priority: -1 },
      { timestamp: 1.5 },
      { contentType: "x".repeat(256) },
      { appId: 5 },
    ]) {
      expect(codecError(() => encodeBasicProperties(props as BasicProperties)).code).toBe(
        "AMQP_ENCODE_ERROR",
      );
    }
  });
});

describe("content header", () => {
  const header = (classId: number, bodySizeHex: string) =>
    Buffer.from(`${classId.toString(16).padStart(4, "0")}0000${bodySizeHex}0000`, "hex");

  it("refuses a body size beyond 2^53 - 1 with 502", () => {
    const err = codecError(() => decodeContentHeader(header(60, "0020000000000000")));
    expect(err.replyCode).toBe(502);
    expect(decodeContentHeader(header(60, "001fffffffffffff")).bodySize).toBe(Number.MAX_SAFE_INTEGER);
  });

  it("refuses a header for a class without content with 505", () => {
    const err = codecError(() => decodeContentHeader(header(50, "0000000000000001")));
    expect(err.replyCode).toBe(505);
    expect(err.code).toBe("AMQP_UNEXPECTED_FRAME");
    expect(codecError(() => encodeContentHeaderFrame(1, 50, 1, {})).code).toBe("AMQP_ENCODE_ERROR");
  });

  it("refuses every truncation with 502", () => {
    const payload = payloadOf(
      encodeContentHeaderFrame(1, 60, 10, { contentType: "a/b", headers: { k: "v" } }),
    );
    for (let length = 0; length < payload.length; length++) {
      expect(codecError(() => decodeContentHeader(payload.subarray(0, length))).replyCode).toBe(502);
    }
  });

  it("ignores the weight field", () => {
    const payload = Buffer.from("003c00070000000000000003" + "1000" + "02", "hex");
    expect(decodeContentHeader(payload)).toStrictEqual({
      classId: 60,
      bodySize: 3,
      properties: { deliveryMode: 2 },
    });
  });
});

describe("body frames", () => {
  it("split a body into frames of at most frameMax bytes that reassemble to it", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 5000 }),
        fc.integer({ min: 9, max: 1200 }),
        fc.integer({ min: 0, max: 0xffff }),
        (body, frameMax, channel) => {
          const frames = encodeBodyFrames(channel, body, frameMax);
          expect(frames.length).toBe(Math.ceil(body.length / (frameMax - 8)));
          for (const frame of frames) {
            expect(frame.length).toBeLessThanOrEqual(frameMax);
            expect(frame[0]).toBe(FrameType.Body);
            expect(frame.readUInt16BE(1)).toBe(channel);
            expect(frame.readUInt32BE(3)).toBe(frame.length - 8);
            expect(frame[frame.length - 1]).toBe(FRAME_END);
          }
          expect(Buffer.concat(frames.map(payloadOf)).equals(Buffer.from(body))).toBe(true);
        },
      ),
    );
  });

  it("gives no frame for an empty body and full frames for an exact multiple", () => {
    expect(encodeBodyFrames(1, Buffer.alloc(0), 4096)).toEqual([]);
    const frames = encodeBodyFrames(1, Buffer.alloc(8176, 7), 4096);
    expect(frames.map((f) => f.length)).toEqual([4096, 4096]);
  });

  it("refuses a frame-max with no room for payload", () => {
    expect(() => encodeBodyFrames(1, Buffer.from("x"), 8)).toThrow(AmqpCodecError);
    expect(() => encodeBodyFrames(1, Buffer.from("x"), 0)).toThrow(AmqpCodecError);
    expect(() => encodeBodyFrames(1, Buffer.from("x"), 4096.5)).toThrow(AmqpCodecError);
  });
});
