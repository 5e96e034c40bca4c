/**
 * The on-disk layout of one record and its validation:
 *
 *   0        4        8    9
 *   +--------+--------+----+------------------------+
 *   | length | crc32  |type| payload (length bytes) |
 *   +--------+--------+----+------------------------+
 *   u32 LE   u32 LE   u8
 *
 * `length` counts payload bytes only; `crc32` covers the type byte and the payload. Type 0 is never
 * valid, so zero-filled space (a preallocated or torn tail) can never decode as a record.
 *
 * It does not know about segments or files: it encodes headers and classifies bytes in a buffer the
 * caller owns. Encoding returns a fresh header buffer or writes into the caller's; decoding returns
 * offsets, never copies.
 */
import { Buffer } from "node:buffer";
import { recordChecksum } from "./checksum.js";
import { WalError } from "./errors.js";

export const RECORD_HEADER_BYTES = 9;
/**
 * Upper bound on a payload. AMQP brokers cap messages well below this (RabbitMQ: 512 MiB at most),
 * and recovery uses it to reject a corrupt length field before reading that many bytes.
 */
export const MAX_RECORD_PAYLOAD_BYTES = 512 * 1024 * 1024;
export const MIN_RECORD_TYPE = 1;
export const MAX_RECORD_TYPE = 255;

/** Throws WAL_INVALID_ARGUMENT unless `type` is a usable record type (1..255). */
export function assertRecordType(type: number): void {
  if (!Number.isInteger(type) || type < MIN_RECORD_TYPE || type > MAX_RECORD_TYPE) {
    throw new WalError(
      "WAL_INVALID_ARGUMENT",
      `record type must be an integer from ${MIN_RECORD_TYPE} to ${MAX_RECORD_TYPE}, got ${type}`,
    );
  }
}

/** The 9-byte header of a record whose payload is `payload` (one buffer or parts written in order). */
export function encodeRecordHeader(
  type: number,
  payload: Uint8Array | readonly Uint8Array[],
  payloadBytes: number,
): Buffer {
  const header = Buffer.allocUnsafe(RECORD_HEADER_BYTES);
  writeRecordHeader(header, 0, payloadBytes, recordChecksum(type, payload), type);
  return header;
}

/**
 * Writes the 9-byte header of a record into `target` at `offset`, byte by byte: on the append path
 * this runs once per record, and plain stores avoid the bounds checks of writeUInt32LE.
 */
export function writeRecordHeader(
  target: Uint8Array,
  offset: number,
  payloadBytes: number,
  checksum: number,
  type: number,
): void {
  target[offset] = payloadBytes & 0xff;
  target[offset + 1] = (payloadBytes >>> 8) & 0xff;
  target[offset + 2] = (payloadBytes >>> 16) & 0xff;
  target[offset + 3] = payloadBytes >>> 24;
  target[offset + 4] = checksum & 0xff;
  target[offset + 5] = (checksum >>> 8) & 0xff;
  target[offset + 6] = (checksum >>> 16) & 0xff;
  target[offset + 7] = checksum >>> 24;
  target[offset + 8] = type;
}

/** A whole record in one new buffer: for tests and tools, not the append path (which uses writev). */
export function encodeRecord(type: number, payload: Uint8Array): Buffer {
  assertRecordType(type);
  const record = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payload.length);
  encodeRecordHeader(type, payload, payload.length).copy(record, 0);
  record.set(payload, RECORD_HEADER_BYTES);
  return record;
}

export type DecodedRecord =
  /** A valid record: its payload is `buffer[payloadOffset, payloadOffset + payloadBytes)`. */
  | { kind: "record"; type: number; payloadOffset: number; payloadBytes: number; totalBytes: number }
  /** Fewer than `neededBytes` bytes (counted from the record start) are available. */
  | { kind: "incomplete"; neededBytes: number }
  /** The header is all zeros: unwritten (preallocated or torn) space, not a record. */
  | { kind: "zero-fill" }
  /** The length field exceeds MAX_RECORD_PAYLOAD_BYTES: the header itself is garbage. */
  | { kind: "bad-length"; payloadBytes: number }
  /** The bytes are all there but the checksum or the type is wrong. `totalBytes` is still usable for resync. */
  | { kind: "bad-checksum" | "bad-type"; totalBytes: number };

/** Classifies the bytes at `buffer[offset, end)` as a record, or says why they are not one. */
export function decodeRecord(buffer: Uint8Array, offset: number, end: number): DecodedRecord {
  if (end - offset < RECORD_HEADER_BYTES) return { kind: "incomplete", neededBytes: RECORD_HEADER_BYTES };
  const view = Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const payloadBytes = view.readUInt32LE(offset);
  const checksum = view.readUInt32LE(offset + 4);
  const type = view.readUInt8(offset + 8);
  if (payloadBytes === 0 && checksum === 0 && type === 0) return { kind: "zero-fill" };
  if (payloadBytes > MAX_RECORD_PAYLOAD_BYTES) return { kind: "bad-length", payloadBytes };
  const totalBytes = RECORD_HEADER_BYTES + payloadBytes;
  if (end - offset < totalBytes) return { kind: "incomplete", neededBytes: totalBytes };
  const payloadOffset = offset + RECORD_HEADER_BYTES;
  if (type === 0) return { kind: "bad-type", totalBytes };
  const payload = view.subarray(payloadOffset, payloadOffset + payloadBytes);
  if (recordChecksum(type, payload) !== checksum) return { kind: "bad-checksum", totalBytes };
  return { kind: "record", type, payloadOffset, payloadBytes, totalBytes };
}
