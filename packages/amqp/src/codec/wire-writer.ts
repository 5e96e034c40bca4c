// WireWriter: writes one frame (or one property list) into a buffer allocated at its exact final
// size, checking every value against its wire type on the way in.
//
// The generated method encoders measure the variable parts first (string byte lengths, encoded
// tables), allocate once, then write field by field; `finish` asserts that the bytes written are
// exactly the bytes measured, so a generator bug shows up as a loud failure instead of a frame
// with a wrong size field. Values that do not fit (a 300-byte short string, a negative short, a
// channel above 65535) throw AmqpCodecError AMQP_ENCODE_ERROR: they are the caller's bug.
//
// It does not grow (field tables, whose size is only known after walking them, use the growable
// writer in field-table-encoder.ts) and it does not keep the buffer: `finish` hands it over.
// Buffers come from Buffer.allocUnsafe, so small frames share Node's pool; every byte is written
// before the buffer leaves this module.

import { Buffer } from "node:buffer";
import { encodeError } from "./codec-error.js";

/** Bytes before a frame's payload: type u8, channel u16, payload size u32. */
export const FRAME_HEADER_SIZE = 7;
const FRAME_END_OCTET = 0xce;
const FRAME_METHOD_TYPE = 1;
const MAX_U32 = 0xffff_ffff;
const TWO_POW_32 = 0x1_0000_0000;
/**
 * Up to this many chars, copying an ASCII string char by char beats Buffer#write's native call
 * (measured on Node 20: about 3x faster for the 10-20 char names typical of exchanges, routing
 * keys and consumer tags; see bench/).
 */
const ASCII_LOOP_MAX_CHARS = 48;

export function checkUint(value: number, max: number, what: string): number {
  if (!(Number.isInteger(value) && value >= 0 && value <= max)) {
    throw encodeError(`${what} must be an integer in [0, ${max}], got ${String(value)}`);
  }
  return value;
}

/** UTF-8 byte length of a short string, checked against the 255-byte limit. */
export function shortStrByteLength(value: string, what: string): number {
  if (typeof value !== "string") {
    throw encodeError(`${what} must be a string, got ${typeof value}`);
  }
  const length = Buffer.byteLength(value, "utf8");
  if (length > 255) {
    throw encodeError(`${what} is ${length} bytes of UTF-8; a short string holds at most 255`);
  }
  return length;
}

/** Byte length of a long string's content, checked against the u32 length prefix. */
export function longStrByteLength(value: Uint8Array, what: string): number {
  if (!(value instanceof Uint8Array)) {
    throw encodeError(`${what} must be a Buffer, got ${typeof value}`);
  }
  if (value.length > MAX_U32) {
    throw encodeError(`${what} is ${value.length} bytes; a long string holds at most 2^32 - 1`);
  }
  return value.length;
}

export class WireWriter {
  readonly buf: Buffer;
  offset: number;

  private constructor(sizeBytes: number) {
    this.buf = Buffer.allocUnsafe(sizeBytes);
    this.offset = 0;
  }

  /** A writer for exactly `sizeBytes` bytes of anything. */
  static exact(sizeBytes: number): WireWriter {
    return new WireWriter(sizeBytes);
  }

  /**
   * A writer for a whole frame of `payloadBytes` payload; the 7-byte header is already written
   * and `finish` adds the frame-end octet.
   */
  static frame(type: number, channel: number, payloadBytes: number): WireWriter {
    checkUint(channel, 0xffff, "channel");
    checkUint(payloadBytes, MAX_U32, "frame payload size");
    const w = new WireWriter(FRAME_HEADER_SIZE + payloadBytes + 1);
    const b = w.buf;
    b[0] = checkUint(type, 0xff, "frame type");
    b.writeUInt16BE(channel, 1);
    b.writeUInt32BE(payloadBytes, 3);
    w.offset = FRAME_HEADER_SIZE;
    return w;
  }

  /** A method frame whose arguments take `argumentBytes`; class and method ids are written. */
  static methodFrame(channel: number, classId: number, methodId: number, argumentBytes: number): WireWriter {
    const w = WireWriter.frame(FRAME_METHOD_TYPE, channel, 4 + argumentBytes);
    w.buf.writeUInt16BE(classId, FRAME_HEADER_SIZE);
    w.buf.writeUInt16BE(methodId, FRAME_HEADER_SIZE + 2);
    w.offset = FRAME_HEADER_SIZE + 4;
    return w;
  }

  u8(value: number, what: string): void {
    this.buf[this.offset] = checkUint(value, 0xff, what);
    this.offset += 1;
  }

  /** Packed bit fields, already combined by the caller. */
  bits(value: number): void {
    this.buf[this.offset] = value;
    this.offset += 1;
  }

  u16(value: number, what: string): void {
    this.buf.writeUInt16BE(checkUint(value, 0xffff, what), this.offset);
    this.offset += 2;
  }

  u32(value: number, what: string): void {
    this.buf.writeUInt32BE(checkUint(value, MAX_U32, what), this.offset);
    this.offset += 4;
  }

  /** An unsigned 64-bit integer given as a number, which must be exact (at most 2^53 - 1). */
  u64(value: number, what: string): void {
    checkUint(value, Number.MAX_SAFE_INTEGER, what);
    const hi = Math.floor(value / TWO_POW_32);
    this.buf.writeUInt32BE(hi, this.offset);
    this.buf.writeUInt32BE(value - hi * TWO_POW_32, this.offset + 4);
    this.offset += 8;
  }

  /** A short string whose byte length the caller measured with shortStrByteLength. */
  shortStr(value: string, byteLength: number): void {
    const b = this.buf;
    const start = this.offset + 1;
    b[this.offset] = byteLength;
    if (byteLength === value.length && byteLength <= ASCII_LOOP_MAX_CHARS) {
      // Equal UTF-16 and UTF-8 lengths mean every char is ASCII: copy char codes directly.
      for (let i = 0; i < byteLength; i++) b[start + i] = value.charCodeAt(i);
    } else {
      const written = b.write(value, start, byteLength, "utf8");
      if (written !== byteLength) {
        throw new Error(`WireWriter: short string wrote ${written} bytes, measured ${byteLength}`);
      }
    }
    this.offset = start + byteLength;
  }

  /** A long string (u32 length + bytes) whose length the caller checked. */
  longStr(value: Uint8Array): void {
    this.buf.writeUInt32BE(value.length, this.offset);
    this.buf.set(value, this.offset + 4);
    this.offset += 4 + value.length;
  }

  /** Bytes that are already in wire form (an encoded table, a property list). */
  raw(bytes: Uint8Array): void {
    this.buf.set(bytes, this.offset);
    this.offset += bytes.length;
  }

  /** Hands over a buffer that must now be full (exact writers). */
  finish(): Buffer {
    if (this.offset !== this.buf.length) {
      throw new Error(`WireWriter: wrote ${this.offset} of ${this.buf.length} measured bytes`);
    }
    return this.buf;
  }

  /** Adds the frame-end octet and hands over the frame (frame writers). */
  finishFrame(): Buffer {
    this.buf[this.offset] = FRAME_END_OCTET;
    this.offset += 1;
    return this.finish();
  }
}
