// Encoding of field tables and arrays, with the type rules of field-value.ts.
//
// A table's size is only known after walking it, so this module writes into a growable buffer
// (doubling from 256 bytes), reserves each length prefix and patches it once the entries are
// written: one pass over the table, no per-entry allocation. The result is copied out at its
// exact size so that a table kept for a long time (a queue's arguments, a stored header) does
// not hold on to the spare capacity.
//
// It does not accept everything: class instances other than Date, Buffer/Uint8Array, Decimal,
// TypedNumber and RawLongString (a Map, say) are refused rather than silently encoded as an
// empty table, nesting beyond MAX_FIELD_NESTING_DEPTH (or a cycle) is refused, and so is any
// number that does not fit its type. All refusals are AmqpCodecError AMQP_ENCODE_ERROR.

import { Buffer } from "node:buffer";
import { encodeError } from "./codec-error.js";
import { MAX_FIELD_NESTING_DEPTH } from "./field-table-decoder.js";
import {
  Decimal,
  type FieldTable,
  type FieldValue,
  plainNumberType,
  RawLongString,
  TypedNumber,
} from "./field-value.js";

const INITIAL_CAPACITY_BYTES = 256;
const MAX_U32 = 0xffff_ffff;
const TWO_POW_32 = 0x1_0000_0000;

// Every write reserves first and only then reads `this.buf`: reserving may replace the buffer,
// so an expression like `this.buf.writeX(v, this.reserve(n))` would write into the old one.
class GrowableWriter {
  buf = Buffer.allocUnsafe(INITIAL_CAPACITY_BYTES);
  offset = 0;

  /** Makes room for `count` more bytes and returns the offset they start at. */
  reserve(count: number): number {
    const start = this.offset;
    const needed = start + count;
    if (needed > this.buf.length) {
      let capacity = this.buf.length * 2;
      while (capacity < needed) capacity *= 2;
      const grown = Buffer.allocUnsafe(capacity);
      this.buf.copy(grown, 0, 0, start);
      this.buf = grown;
    }
    this.offset = needed;
    return start;
  }

  u8(value: number): void {
    const at = this.reserve(1);
    this.buf[at] = value;
  }

  i8(value: number): void {
    const at = this.reserve(1);
    this.buf.writeInt8(value, at);
  }

  i16(value: number): void {
    const at = this.reserve(2);
    this.buf.writeInt16BE(value, at);
  }

  u16(value: number): void {
    const at = this.reserve(2);
    this.buf.writeUInt16BE(value, at);
  }

  i32(value: number): void {
    const at = this.reserve(4);
    this.buf.writeInt32BE(value, at);
  }

  u32(value: number): void {
    const at = this.reserve(4);
    this.buf.writeUInt32BE(value, at);
  }

  f32(value: number): void {
    const at = this.reserve(4);
    this.buf.writeFloatBE(value, at);
  }

  f64(value: number): void {
    const at = this.reserve(8);
    this.buf.writeDoubleBE(value, at);
  }

  bigI64(value: bigint): void {
    const at = this.reserve(8);
    this.buf.writeBigInt64BE(value, at);
  }

  bigU64(value: bigint): void {
    const at = this.reserve(8);
    this.buf.writeBigUInt64BE(value, at);
  }

  /** Unsigned 64-bit from a number already checked to be a safe non-negative integer. */
  u64(value: number): void {
    const at = this.reserve(8);
    const hi = Math.floor(value / TWO_POW_32);
    this.buf.writeUInt32BE(hi, at);
    this.buf.writeUInt32BE(value - hi * TWO_POW_32, at + 4);
  }

  /** Signed 64-bit from a number already checked to be an integer in int64 range. */
  i64(value: number): void {
    if (!Number.isSafeInteger(value)) {
      this.bigI64(BigInt(value));
      return;
    }
    const at = this.reserve(8);
    const hi = Math.floor(value / TWO_POW_32);
    this.buf.writeInt32BE(hi, at);
    this.buf.writeUInt32BE(value - hi * TWO_POW_32, at + 4);
  }

  /** A table key: a short string. */
  key(value: string): void {
    const length = Buffer.byteLength(value, "utf8");
    if (length > 255) {
      throw encodeError(
        `field table key "${value.slice(0, 40)}..." is ${length} bytes of UTF-8; at most 255 fit`,
      );
    }
    const at = this.reserve(1 + length);
    this.buf[at] = length;
    this.buf.write(value, at + 1, length, "utf8");
  }

  /** A tag, a u32 length and a UTF-8 string. */
  longString(tag: number, value: string): void {
    const length = Buffer.byteLength(value, "utf8");
    const at = this.reserve(5 + length);
    this.buf[at] = tag;
    this.buf.writeUInt32BE(length, at + 1);
    this.buf.write(value, at + 5, length, "utf8");
  }

  /** A tag, a u32 length and bytes. */
  bytes(tag: number, value: Uint8Array): void {
    if (value.length > MAX_U32) throw encodeError(`a ${value.length}-byte value does not fit a u32 length`);
    const at = this.reserve(5 + value.length);
    this.buf[at] = tag;
    this.buf.writeUInt32BE(value.length, at + 1);
    this.buf.set(value, at + 5);
  }

  /** Reserves a u32 length prefix; `closeLength` fills it in. */
  openLength(): number {
    return this.reserve(4);
  }

  closeLength(at: number): void {
    const length = this.offset - at - 4;
    if (length > MAX_U32) throw encodeError(`a ${length}-byte table does not fit a u32 length`);
    this.buf.writeUInt32BE(length, at);
  }

  takeExact(): Buffer {
    const out = Buffer.allocUnsafe(this.offset);
    this.buf.copy(out, 0, 0, this.offset);
    return out;
  }
}

const TAG = {
  t: 0x74,
  b: 0x62,
  B: 0x42,
  s: 0x73,
  u: 0x75,
  I: 0x49,
  i: 0x69,
  l: 0x6c,
  f: 0x66,
  d: 0x64,
  D: 0x44,
  S: 0x53,
  x: 0x78,
  T: 0x54,
  F: 0x46,
  A: 0x41,
  V: 0x56,
} as const;

function writeTypedNumber(w: GrowableWriter, n: TypedNumber): void {
  w.u8(TAG[n.type]);
  const value = n.value;
  if (typeof value === "bigint") {
    // Only 'l' and 'T' take bigints, and their ranges were checked on construction.
    if (n.type === "l") w.bigI64(value);
    else w.bigU64(value);
    return;
  }
  switch (n.type) {
    case "b":
      w.i8(value);
      return;
    case "B":
      w.u8(value);
      return;
    case "s":
      w.i16(value);
      return;
    case "u":
      w.u16(value);
      return;
    case "I":
      w.i32(value);
      return;
    case "i":
      w.u32(value);
      return;
    case "l":
      w.i64(value);
      return;
    case "f":
      w.f32(value);
      return;
    case "d":
      w.f64(value);
      return;
    case "T":
      w.u64(value);
      return;
  }
}

function writeNumber(w: GrowableWriter, value: number): void {
  const type = plainNumberType(value);
  w.u8(TAG[type]);
  if (type === "I") w.i32(value);
  else if (type === "l") w.i64(value);
  else w.f64(value);
}

function writeBigInt(w: GrowableWriter, value: bigint): void {
  if (value < -(2n ** 63n) || value >= 2n ** 63n) {
    throw encodeError(`the bigint ${value} does not fit a signed 64-bit 'l'`);
  }
  w.u8(TAG.l);
  w.bigI64(value);
}

function writeDecimal(w: GrowableWriter, value: Decimal): void {
  const { scale, value: digits } = value;
  if (!(Number.isInteger(scale) && scale >= 0 && scale <= 0xff)) {
    throw encodeError(`a decimal's scale must be an octet, got ${String(scale)}`);
  }
  if (!(Number.isInteger(digits) && digits >= 0 && digits <= MAX_U32)) {
    throw encodeError(`a decimal's value must be an unsigned 32-bit integer, got ${String(digits)}`);
  }
  w.u8(TAG.D);
  w.u8(scale);
  w.u32(digits);
}

function writeDate(w: GrowableWriter, value: Date): void {
  const seconds = Math.floor(value.getTime() / 1000);
  if (!(seconds >= 0)) throw encodeError(`cannot encode the date ${String(value)} as a u64 timestamp`);
  w.u8(TAG.T);
  w.u64(seconds);
}

function checkPlainObject(value: object): void {
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    const name = (value as { constructor?: { name?: string } }).constructor?.name ?? "object";
    throw encodeError(`cannot encode a ${name} as a field table; use a plain object`);
  }
}

function writeObject(w: GrowableWriter, value: object, depth: number): void {
  if (value instanceof TypedNumber) writeTypedNumber(w, value);
  else if (value instanceof Uint8Array) w.bytes(TAG.x, value);
  else if (value instanceof RawLongString) w.bytes(TAG.S, value.bytes);
  else if (value instanceof Decimal) writeDecimal(w, value);
  else if (value instanceof Date) writeDate(w, value);
  else if (Array.isArray(value)) {
    w.u8(TAG.A);
    writeArrayBody(w, value, depth);
  } else {
    checkPlainObject(value);
    w.u8(TAG.F);
    writeTableBody(w, value as FieldTable, depth);
  }
}

function writeFieldValue(w: GrowableWriter, value: FieldValue | undefined, depth: number): void {
  switch (typeof value) {
    case "string":
      w.longString(TAG.S, value);
      return;
    case "number":
      writeNumber(w, value);
      return;
    case "boolean":
      w.u8(TAG.t);
      w.u8(value ? 1 : 0);
      return;
    case "bigint":
      writeBigInt(w, value);
      return;
    case "undefined":
      w.u8(TAG.V);
      return;
    case "object":
      if (value === null) w.u8(TAG.V);
      else writeObject(w, value, depth);
      return;
    default:
      throw encodeError(`cannot encode a ${typeof value} as a field value`);
  }
}

function checkDepth(depth: number): void {
  if (depth >= MAX_FIELD_NESTING_DEPTH) {
    throw encodeError(
      `field tables and arrays nested deeper than ${MAX_FIELD_NESTING_DEPTH} levels (a cycle?)`,
    );
  }
}

function writeArrayBody(w: GrowableWriter, items: readonly FieldValue[], depth: number): void {
  checkDepth(depth);
  const at = w.openLength();
  for (const item of items) writeFieldValue(w, item, depth + 1);
  w.closeLength(at);
}

function writeTableBody(w: GrowableWriter, table: FieldTable, depth: number): void {
  checkDepth(depth);
  const at = w.openLength();
  for (const key of Object.keys(table)) {
    w.key(key);
    writeFieldValue(w, table[key], depth + 1);
  }
  w.closeLength(at);
}

/** Encodes a table with its u32 length prefix, as it appears in a method or a content header. */
export function encodeTable(table: FieldTable): Buffer {
  if (typeof table !== "object" || table === null || Array.isArray(table)) {
    throw encodeError(`a field table must be a plain object, got ${table === null ? "null" : typeof table}`);
  }
  checkPlainObject(table);
  const w = new GrowableWriter();
  writeTableBody(w, table, 0);
  return w.takeExact();
}

const EMPTY_TABLE_BYTES = Buffer.alloc(4);

/**
 * Encoded bytes of an optional table for the generated encoders, which only copy them: an
 * absent or empty table shares one 4-byte buffer instead of allocating.
 */
export function tableBytes(table: FieldTable | undefined | null): Buffer {
  if (table === undefined || table === null) return EMPTY_TABLE_BYTES;
  if (typeof table === "object" && Object.getPrototypeOf(table) === Object.prototype) {
    for (const _key in table) return encodeTable(table);
    return EMPTY_TABLE_BYTES;
  }
  return encodeTable(table);
}
