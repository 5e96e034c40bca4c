/**
 * Segment files: their names and the 16-byte header each one starts with.
 *
 *   0       5   6     8                  16
 *   +-------+---+-----+------------------+---------- records ...
 *   | LVWAL |ver| 0 0 | segment (u64 LE) |
 *   +-------+---+-----+------------------+----------
 *
 * The magic and version let a future format be recognised (and refused, rather than misread); the
 * segment number repeats the file name so a renamed or copied file is noticed.
 *
 * It does not read or write files. Encoding returns a fresh buffer; checking reads the caller's.
 */
import { Buffer } from "node:buffer";

export const SEGMENT_HEADER_BYTES = 16;
export const SEGMENT_FORMAT_VERSION = 1;
const MAGIC = Buffer.from("LVWAL", "latin1");
const VERSION_OFFSET = 5;
const SEGMENT_NUMBER_OFFSET = 8;
const SEGMENT_NAME_DIGITS = 20;
const SEGMENT_NAME_PATTERN = /^(\d{20})\.wal$/;

export function segmentFileName(segment: number): string {
  return `${String(segment).padStart(SEGMENT_NAME_DIGITS, "0")}.wal`;
}

/** The segment number of a file name, or undefined for a file that is not a segment. */
export function parseSegmentFileName(name: string): number | undefined {
  const match = SEGMENT_NAME_PATTERN.exec(name);
  if (match === null) return undefined;
  const segment = Number(match[1]);
  return Number.isSafeInteger(segment) && segment >= 1 ? segment : undefined;
}

export function encodeSegmentHeader(segment: number): Buffer {
  const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.writeUInt8(SEGMENT_FORMAT_VERSION, VERSION_OFFSET);
  header.writeBigUInt64LE(BigInt(segment), SEGMENT_NUMBER_OFFSET);
  return header;
}

export type SegmentHeaderCheck =
  | { kind: "ok" }
  /** The file is shorter than a header: its creation was torn. */
  | { kind: "short" }
  /** All zeros: created, but the header never reached the disk. */
  | { kind: "zero" }
  | { kind: "bad-magic" }
  | { kind: "wrong-segment"; foundSegment: number }
  /** A valid magic with a version this code does not know: written by a newer (or broken) Leveret. */
  | { kind: "unsupported-version"; version: number };

/** Checks `bytes` (the first bytes of the file, possibly fewer than a header) for `segment`. */
export function checkSegmentHeader(bytes: Uint8Array, segment: number): SegmentHeaderCheck {
  if (bytes.length < SEGMENT_HEADER_BYTES) return { kind: "short" };
  const header = Buffer.from(bytes.buffer, bytes.byteOffset, SEGMENT_HEADER_BYTES);
  if (header.every((byte) => byte === 0)) return { kind: "zero" };
  if (!header.subarray(0, MAGIC.length).equals(MAGIC)) return { kind: "bad-magic" };
  const version = header.readUInt8(VERSION_OFFSET);
  if (version !== SEGMENT_FORMAT_VERSION) return { kind: "unsupported-version", version };
  const foundSegment = Number(header.readBigUInt64LE(SEGMENT_NUMBER_OFFSET));
  if (foundSegment !== segment) return { kind: "wrong-segment", foundSegment };
  return { kind: "ok" };
}
