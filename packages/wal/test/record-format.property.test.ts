import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRecord, encodeRecord, RECORD_HEADER_BYTES } from "../src/index.js";
import { encodeRecordHeader } from "../src/record-format.js";

const recordType = fc.integer({ min: 1, max: 255 });
const payload = fc.uint8Array({ minLength: 0, maxLength: 2048 });

describe("record format", () => {
  it("decodes what it encodes, from a view with a non-zero byteOffset", () => {
    fc.assert(
      fc.property(recordType, payload, fc.integer({ min: 0, max: 64 }), (type, bytes, lead) => {
        const record = encodeRecord(type, bytes);
        expect(record.length).toBe(RECORD_HEADER_BYTES + bytes.length);
        const backing = Buffer.alloc(lead + record.length + 16, 0xee);
        record.copy(backing, lead);
        const view = backing.subarray(lead, lead + record.length);
        const decoded = decodeRecord(view, 0, view.length);
        expect(decoded).toMatchObject({ kind: "record", type, payloadBytes: bytes.length });
        if (decoded.kind !== "record") return;
        const decodedPayload = view.subarray(
          decoded.payloadOffset,
          decoded.payloadOffset + decoded.payloadBytes,
        );
        expect(Buffer.compare(decodedPayload, Buffer.from(bytes))).toBe(0);
      }),
    );
  });

  it("writes the documented little-endian layout", () => {
    const record = encodeRecord(7, Buffer.from("abc"));
    expect(record.readUInt32LE(0)).toBe(3);
    expect(record.readUInt8(8)).toBe(7);
    expect(record.subarray(9).toString()).toBe("abc");
  });

  it("gives the same header for a payload in parts as for the parts joined", () => {
    fc.assert(
      fc.property(
        recordType,
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 6 }),
        (type, parts) => {
          const buffers = parts.map((part) => Buffer.from(part));
          const joined = Buffer.concat(buffers);
          const fromParts = encodeRecordHeader(type, buffers, joined.length);
          expect(fromParts.equals(encodeRecordHeader(type, joined, joined.length))).toBe(true);
        },
      ),
    );
  });

  it("reports a record cut at any offset as incomplete, never as a record", () => {
    fc.assert(
      fc.property(recordType, payload, (type, bytes) => {
        const record = encodeRecord(type, bytes);
        for (let cut = 0; cut < record.length; cut += 1) {
          const decoded = decodeRecord(record, 0, cut);
          expect(decoded.kind).toBe("incomplete");
        }
      }),
      { numRuns: 50 },
    );
  });

  it("never accepts a record with any single byte changed", () => {
    fc.assert(
      fc.property(
        recordType,
        fc.uint8Array({ minLength: 1, maxLength: 512 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (type, bytes, where, flip) => {
          const record = encodeRecord(type, bytes);
          const index = where % record.length;
          record[index] = record[index]! ^ flip;
          const decoded = decodeRecord(record, 0, record.length);
          expect(decoded.kind).not.toBe("record");
        },
      ),
    );
  });

  it("classifies zero-filled space, an implausible length and type 0", () => {
    expect(decodeRecord(Buffer.alloc(64), 0, 64)).toEqual({ kind: "zero-fill" });
    const huge = encodeRecord(3, Buffer.from("x"));
    huge.writeUInt32LE(0xffffffff, 0);
    expect(decodeRecord(huge, 0, huge.length).kind).toBe("bad-length");
    const typeZero = encodeRecord(3, Buffer.from("xyz"));
    typeZero[8] = 0;
    expect(decodeRecord(typeZero, 0, typeZero.length)).toEqual({ kind: "bad-type", totalBytes: 12 });
  });

  it("rejects record types outside 1..255", () => {
    for (const type of [0, 256, -1, 1.5, Number.NaN]) {
      expect(() => encodeRecord(type, Buffer.alloc(1))).toThrow(
        expect.objectContaining({ code: "WAL_INVALID_ARGUMENT" }),
      );
    }
  });
});

describe("record checksum of empty payloads (regression)", () => {
  it("does not depend on how an empty payload is backed", () => {
    // zlib.crc32(emptyViewOfZeroLengthArrayBuffer, crc) returns 0, not crc: the checksum must skip it.
    const backedByNothing = Buffer.from(new Uint8Array(0)).subarray(0, 0);
    const expected = encodeRecordHeader(5, Buffer.alloc(0), 0);
    expect(expected.readUInt32LE(4)).not.toBe(0);
    expect(encodeRecordHeader(5, backedByNothing, 0).equals(expected)).toBe(true);
    expect(encodeRecordHeader(5, [backedByNothing, backedByNothing], 0).equals(expected)).toBe(true);
    const record = encodeRecord(5, backedByNothing);
    expect(decodeRecord(record, 0, record.length).kind).toBe("record");
  });
});
