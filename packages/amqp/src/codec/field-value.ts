// The values a field table can hold, and the rule that picks a wire type for each.
//
// Type tags follow RabbitMQ and the AMQP 0-9-1 errata, not the original 0-9-1 text (which
// clashes with what every broker and client does: there 's' is a short string and 'b' an
// unsigned octet). The tags, as RabbitMQ reads and writes them:
//
//   t bool (u8, non-zero = true)   b i8    B u8    s i16    u u16    I i32    i u32    l i64
//   f float32   d float64   D decimal (u8 scale, u32 value)   S long string   x byte array
//   T timestamp (u64 seconds)   F field table   A field array   V void (no value)
//
// Decoding returns a plain JS value whenever encoding that plain value again yields the same
// bytes, and a TypedNumber otherwise. Plain values encode as: string -> S, boolean -> t,
// Buffer -> x, null/undefined -> V, array -> A, plain object -> F, Date -> T, bigint -> l, and a
// number by `plainNumberType`: int32 -> I, other integers in int64 range -> l, anything else
// (fractions, -0, NaN, infinities, integers beyond int64) -> d. So S, I, t, x, V, A, F are always
// plain; b, B, s, u, i, f, T always come back as TypedNumber; l is a TypedNumber inside the int32
// range, a number beyond it up to 2^53, a bigint beyond that; d is a plain number unless it is
// integral (then a TypedNumber('d', n)); an S that is not valid UTF-8 comes back as a
// RawLongString so its bytes survive. The result: decode -> encode is byte-identical for every
// canonical encoding (booleans other than 0/1 and NaN payloads are normalised).
//
// `fieldValueToJs` turns a decoded value into plain JS for code that only wants to read it.
// Nothing in this module touches buffers except that a RawLongString owns its bytes.

import { Buffer } from "node:buffer";
import { encodeError } from "./codec-error.js";

/** The numeric type tags that need a wrapper to survive a round trip. */
export type TypedNumberType = "b" | "B" | "s" | "u" | "I" | "i" | "l" | "f" | "d" | "T";

const TWO_POW_63 = 2n ** 63n;
const TWO_POW_64 = 2n ** 64n;

function isIntegerIn(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

function checkTypedValue(type: TypedNumberType, value: number | bigint): void {
  if (typeof value === "bigint") {
    const ok =
      (type === "l" && value >= -TWO_POW_63 && value < TWO_POW_63) ||
      (type === "T" && value >= 0n && value < TWO_POW_64);
    if (!ok) throw encodeError(`TypedNumber('${type}') cannot hold the bigint ${value}`);
    return;
  }
  let ok: boolean;
  switch (type) {
    case "b":
      ok = isIntegerIn(value, -0x80, 0x7f);
      break;
    case "B":
      ok = isIntegerIn(value, 0, 0xff);
      break;
    case "s":
      ok = isIntegerIn(value, -0x8000, 0x7fff);
      break;
    case "u":
      ok = isIntegerIn(value, 0, 0xffff);
      break;
    case "I":
      ok = isIntegerIn(value, -0x8000_0000, 0x7fff_ffff);
      break;
    case "i":
      ok = isIntegerIn(value, 0, 0xffff_ffff);
      break;
    case "l":
      ok = Number.isSafeInteger(value);
      break;
    case "T":
      ok = isIntegerIn(value, 0, Number.MAX_SAFE_INTEGER);
      break;
    case "f":
    case "d":
      ok = typeof value === "number";
      break;
    default:
      throw encodeError(`unknown TypedNumber type '${String(type)}'`);
  }
  if (!ok) throw encodeError(`TypedNumber('${type}') cannot hold ${String(value)}`);
}

/**
 * A number pinned to one wire type. Values are checked on construction; 'l' and 'T' also take
 * a bigint (decoding gives one only beyond 2^53). A 'f' value is rounded to float32 on encode.
 */
export class TypedNumber {
  readonly type: TypedNumberType;
  readonly value: number | bigint;

  constructor(type: TypedNumberType, value: number | bigint) {
    checkTypedValue(type, value);
    this.type = type;
    this.value = value;
  }
}

/** A 'D' decimal: `value / 10 ** scale`, scale an octet and value an unsigned 32-bit integer. */
export class Decimal {
  constructor(
    readonly scale: number,
    readonly value: number,
  ) {}
}

/** An 'S' long string whose bytes are not valid UTF-8, kept as bytes so they round-trip. */
export class RawLongString {
  constructor(readonly bytes: Buffer) {}
}

export type FieldValue =
  | boolean
  | number
  | bigint
  | string
  | Buffer
  | Date
  | null
  | FieldValue[]
  | FieldTable
  | Decimal
  | TypedNumber
  | RawLongString;

export interface FieldTable {
  [key: string]: FieldValue;
}

const MIN_INT64_AS_NUMBER = -(2 ** 63);
const TWO_POW_63_AS_NUMBER = 2 ** 63;

/** The wire type a plain JS number is encoded as. */
export function plainNumberType(value: number): "I" | "l" | "d" {
  if (!Number.isInteger(value) || Object.is(value, -0)) return "d";
  if (value >= -0x8000_0000 && value <= 0x7fff_ffff) return "I";
  if (value >= MIN_INT64_AS_NUMBER && value < TWO_POW_63_AS_NUMBER) return "l";
  return "d";
}

/** A decoded value with its wrappers removed, for code that reads tables. */
export type JsFieldValue =
  | boolean
  | number
  | bigint
  | string
  | Buffer
  | null
  | Decimal
  | JsFieldValue[]
  | { [key: string]: JsFieldValue };

function toNumberIfSafe(value: number | bigint): number | bigint {
  if (
    typeof value === "bigint" &&
    value >= BigInt(Number.MIN_SAFE_INTEGER) &&
    value <= BigInt(Number.MAX_SAFE_INTEGER)
  ) {
    return Number(value);
  }
  return value;
}

/**
 * Unwraps a field value: TypedNumber -> its number (a bigint only beyond 2^53), Date -> seconds
 * since the epoch (what 'T' carries), RawLongString -> its bytes; tables and arrays recursively.
 * Decimals stay Decimal, because a double cannot hold every one exactly.
 */
export function fieldValueToJs(value: FieldValue | undefined): JsFieldValue {
  if (value === undefined || value === null) return null;
  if (typeof value !== "object") return value;
  if (value instanceof TypedNumber) return toNumberIfSafe(value.value);
  if (value instanceof Date) return Math.floor(value.getTime() / 1000);
  if (value instanceof RawLongString) return value.bytes;
  if (value instanceof Decimal || Buffer.isBuffer(value)) return value;
  if (Array.isArray(value)) return value.map((item) => fieldValueToJs(item));
  return tableToJs(value);
}

/** `fieldValueToJs` over every entry of a table. */
export function tableToJs(table: FieldTable): { [key: string]: JsFieldValue } {
  const out: { [key: string]: JsFieldValue } = {};
  for (const key of Object.keys(table)) {
    setOwn(out, key, fieldValueToJs(table[key]));
  }
  return out;
}

/**
 * Sets a key on a table object without letting a key named "__proto__" (a peer can send one)
 * replace the object's prototype.
 */
export function setOwn<T>(target: { [key: string]: T }, key: string, value: T): void {
  if (key === "__proto__") {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}
