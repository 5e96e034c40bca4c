import { describe, expect, it } from "vitest";
import {
  BodyFactory,
  HEADER_SIZE_BYTES,
  MAX_SEQUENCE,
  nowUs,
  readHeader,
  writeHeader,
} from "../src/message-body.js";

describe("message body header", () => {
  it("round-trips producer, sequence and timestamp and pads the rest", () => {
    const factory = new BodyFactory(64);
    const header = { producer: 7, sequence: MAX_SEQUENCE, sentAtUs: 1_700_000_000_123_456 };
    const body = factory.makeBody(header);
    expect(body.length).toBe(64);
    expect(readHeader(body)).toEqual(header);
    expect(body.subarray(HEADER_SIZE_BYTES).every((byte) => byte === 0x2e)).toBe(true);
  });

  it("makes a fresh buffer per message (amqplib may still hold the previous one)", () => {
    const factory = new BodyFactory(16);
    const first = factory.makeBody({ producer: 0, sequence: 1, sentAtUs: 10 });
    const second = factory.makeBody({ producer: 0, sequence: 2, sentAtUs: 20 });
    expect(first).not.toBe(second);
    expect(readHeader(first)?.sequence).toBe(1);
  });

  it("reads from a view with a non-zero byteOffset", () => {
    const backing = Buffer.alloc(100, 0xff);
    const view = backing.subarray(37, 37 + 20);
    writeHeader(view, { producer: 3, sequence: 42, sentAtUs: 123.5 });
    expect(readHeader(new Uint8Array(backing.buffer, backing.byteOffset + 37, 20))).toEqual({
      producer: 3,
      sequence: 42,
      sentAtUs: 123.5,
    });
  });

  it("refuses bodies too short to carry the header", () => {
    expect(readHeader(Buffer.alloc(HEADER_SIZE_BYTES - 1))).toBeUndefined();
    expect(() => new BodyFactory(HEADER_SIZE_BYTES - 1)).toThrow(RangeError);
  });

  it("refuses sequences and producers that do not fit in u32", () => {
    const body = Buffer.alloc(16);
    expect(() => writeHeader(body, { producer: 0, sequence: MAX_SEQUENCE + 1, sentAtUs: 0 })).toThrow(
      RangeError,
    );
    expect(() => writeHeader(body, { producer: -1, sequence: 0, sentAtUs: 0 })).toThrow(RangeError);
  });

  it("stamps epoch microseconds", () => {
    const us = nowUs();
    expect(Number.isInteger(us)).toBe(true);
    expect(Math.abs(us / 1000 - Date.now())).toBeLessThan(60_000);
  });
});
