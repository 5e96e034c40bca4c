import { describe, expect, it } from "vitest";
import { parseSegmentFileName, SEGMENT_HEADER_BYTES, segmentFileName } from "../src/index.js";
import { checkSegmentHeader, encodeSegmentHeader } from "../src/segment-format.js";

describe("segment format", () => {
  it("names segments by their zero-padded number and parses the names back", () => {
    expect(segmentFileName(1)).toBe("00000000000000000001.wal");
    expect(parseSegmentFileName("00000000000000000042.wal")).toBe(42);
    for (const name of ["1.wal", "00000000000000000000.wal", "00000000000000000001.wal.tmp", "notes.txt"]) {
      expect(parseSegmentFileName(name)).toBeUndefined();
    }
  });

  it("writes a 16-byte header with magic, version and segment number", () => {
    const header = encodeSegmentHeader(513);
    expect(header.length).toBe(SEGMENT_HEADER_BYTES);
    expect(header.subarray(0, 5).toString("latin1")).toBe("LVWAL");
    expect(header[5]).toBe(1);
    expect(header.readBigUInt64LE(8)).toBe(513n);
    expect(checkSegmentHeader(header, 513)).toEqual({ kind: "ok" });
  });

  it("tells torn, foreign and future headers apart", () => {
    const header = encodeSegmentHeader(2);
    expect(checkSegmentHeader(header.subarray(0, 10), 2)).toEqual({ kind: "short" });
    expect(checkSegmentHeader(Buffer.alloc(16), 2)).toEqual({ kind: "zero" });
    expect(checkSegmentHeader(header, 3)).toEqual({ kind: "wrong-segment", foundSegment: 2 });
    const foreign = Buffer.from(header);
    foreign[0] = 0x41;
    expect(checkSegmentHeader(foreign, 2)).toEqual({ kind: "bad-magic" });
    const future = Buffer.from(header);
    future[5] = 2;
    expect(checkSegmentHeader(future, 2)).toEqual({ kind: "unsupported-version", version: 2 });
  });
});
