// WireReader: a bounds-checked cursor over one AMQP payload (a method's arguments, a content
// header, a field table).
//
// Every read first checks that the bytes are there and throws AmqpCodecError 502 SYNTAX_ERROR
// when they are not, so no garbage from a peer can surface as a RangeError or as a read past the
// payload into a neighbouring frame of the same socket chunk. It reads big-endian integers, the
// AMQP string types and raw byte ranges; it does not know field tables (field-table-decoder.ts
// builds on it) or methods (the generated decoders do).
//
// Buffers: the reader never copies the input except where it says so. `longStr` returns a copy,
// because decoded values (security tokens, 'x' table values) may be kept long after the chunk
// they came from should have been released; `view` returns a zero-copy subarray.
//
// Offsets are absolute indices into `buf`, which may itself be a view with a non-zero
// byteOffset into a larger ArrayBuffer: indexing a Buffer is already relative to its view, so
// nothing here touches `buf.buffer` directly.

import { Buffer } from "node:buffer";
import { syntaxError } from "./codec-error.js";

const TWO_POW_32 = 0x1_0000_0000;

export class WireReader {
  readonly buf: Buffer;
  offset: number;
  /** Exclusive limit of reads; a field table narrows it to its own length while it parses. */
  end: number;

  constructor(buf: Buffer, offset: number, end: number) {
    if (!(offset >= 0 && offset <= end && end <= buf.length)) {
      throw syntaxError(`bad read window [${offset}, ${end}) over ${buf.length} bytes`);
    }
    this.buf = buf;
    this.offset = offset;
    this.end = end;
  }

  remaining(): number {
    return this.end - this.offset;
  }

  /** Advances past `count` bytes, returning the offset they start at. */
  private take(count: number): number {
    const start = this.offset;
    if (count > this.end - start) {
      throw syntaxError(
        `truncated: need ${count} byte(s) at offset ${start} but only ${this.end - start} remain`,
      );
    }
    this.offset = start + count;
    return start;
  }

  u8(): number {
    return this.buf[this.take(1)]!;
  }

  i8(): number {
    return this.buf.readInt8(this.take(1));
  }

  u16(): number {
    const o = this.take(2);
    return (this.buf[o]! << 8) | this.buf[o + 1]!;
  }

  i16(): number {
    return this.buf.readInt16BE(this.take(2));
  }

  u32(): number {
    const o = this.take(4);
    const b = this.buf;
    return b[o]! * 0x100_0000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
  }

  i32(): number {
    return this.buf.readInt32BE(this.take(4));
  }

  /**
   * An unsigned 64-bit integer as a JS number: exact up to 2^53 - 1, rounded to the nearest
   * double above that (delivery tags and timestamps never get there in practice; callers that
   * must not round, like a content body size, use `u64Exact`).
   */
  u64(): number {
    const hi = this.u32();
    return hi * TWO_POW_32 + this.u32();
  }

  /** An unsigned 64-bit integer that must fit a JS number exactly, else 502. */
  u64Exact(what: string): number {
    const start = this.offset;
    const value = this.u64();
    if (value > Number.MAX_SAFE_INTEGER) {
      throw syntaxError(`${what} at offset ${start} is larger than 2^53 - 1`);
    }
    return value;
  }

  /** An unsigned 64-bit integer: a number when exact, else a bigint. */
  u64NumberOrBig(): number | bigint {
    const o = this.offset;
    const hi = this.u32();
    const lo = this.u32();
    if (hi < 0x20_0000) return hi * TWO_POW_32 + lo;
    return this.buf.readBigUInt64BE(o);
  }

  /** A signed 64-bit integer: a number when exact, else a bigint. */
  i64NumberOrBig(): number | bigint {
    const o = this.take(8);
    const hi = this.buf.readInt32BE(o);
    if (hi >= -0x20_0000 && hi < 0x20_0000) {
      const lo = this.buf.readUInt32BE(o + 4);
      const value = hi * TWO_POW_32 + lo;
      // -2^53 itself is representable but outside the safe range; keep it a bigint.
      if (Number.isSafeInteger(value)) return value;
    }
    return this.buf.readBigInt64BE(o);
  }

  f32(): number {
    return this.buf.readFloatBE(this.take(4));
  }

  f64(): number {
    return this.buf.readDoubleBE(this.take(8));
  }

  /** A short string (u8 length + bytes) decoded as UTF-8; invalid sequences become U+FFFD. */
  shortStr(): string {
    const length = this.u8();
    const start = this.take(length);
    return this.buf.toString("utf8", start, start + length);
  }

  /** A long string (u32 length + bytes) as a copy that does not pin the input. */
  longStr(): Buffer {
    const length = this.u32();
    const start = this.take(length);
    return Buffer.from(this.buf.subarray(start, start + length));
  }

  /** A zero-copy view of the next `length` bytes. */
  view(length: number): Buffer {
    const start = this.take(length);
    return this.buf.subarray(start, start + length);
  }

  /** Method arguments and property lists must use their payload exactly (RabbitMQ agrees). */
  expectEnd(what: string): void {
    if (this.offset !== this.end) {
      throw syntaxError(`${this.end - this.offset} unexpected trailing byte(s) after ${what}`);
    }
  }
}
