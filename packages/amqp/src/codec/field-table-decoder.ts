// Decoding of field tables ('F') and field arrays ('A') from the wire, with the type rules of
// field-value.ts.
//
// Every read is bounded twice: by the reader's window and by the table's or array's own length
// prefix (the reader's window is narrowed to it while the entries parse), so an entry that runs
// past its table is a 502 SYNTAX_ERROR even when more bytes follow in the payload. Nesting is
// limited to MAX_FIELD_NESTING_DEPTH so a few kilobytes of "A A A A ..." cannot exhaust the stack.
// Unknown type tags are a 502 (RabbitMQ also refuses them). When a key repeats, the last entry
// wins.
//
// Buffers: decoded values never alias the input: strings are decoded, 'x' arrays and non-UTF-8
// strings are copied, so the input chunk can be released or reused at once.

import { Buffer, isUtf8 } from "node:buffer";
import { syntaxError } from "./codec-error.js";
import {
  Decimal,
  type FieldTable,
  type FieldValue,
  plainNumberType,
  RawLongString,
  setOwn,
  TypedNumber,
} from "./field-value.js";
import { WireReader } from "./wire-reader.js";

/**
 * Deepest nesting of tables and arrays accepted, in either direction. RabbitMQ's own deepest
 * use (x-death headers) nests three levels; 64 leaves room for any real application while
 * keeping recursion far from Node's stack limit.
 */
export const MAX_FIELD_NESTING_DEPTH = 64;

/** Reads a table (u32 length + entries) at the reader's offset. */
export function readTable(r: WireReader, depth = 0): FieldTable {
  const start = r.offset;
  const length = r.u32();
  if (length > r.remaining()) {
    throw syntaxError(`field table at offset ${start} claims ${length} bytes but ${r.remaining()} remain`);
  }
  if (depth >= MAX_FIELD_NESTING_DEPTH) {
    throw syntaxError(`field tables nested deeper than ${MAX_FIELD_NESTING_DEPTH} levels`);
  }
  const outerEnd = r.end;
  const tableEnd = r.offset + length;
  r.end = tableEnd;
  const table: FieldTable = {};
  while (r.offset < tableEnd) {
    const key = r.shortStr();
    setOwn(table, key, readFieldValue(r, depth + 1));
  }
  r.end = outerEnd;
  return table;
}

function readArray(r: WireReader, depth: number): FieldValue[] {
  const start = r.offset;
  const length = r.u32();
  if (length > r.remaining()) {
    throw syntaxError(`field array at offset ${start} claims ${length} bytes but ${r.remaining()} remain`);
  }
  if (depth >= MAX_FIELD_NESTING_DEPTH) {
    throw syntaxError(`field arrays nested deeper than ${MAX_FIELD_NESTING_DEPTH} levels`);
  }
  const outerEnd = r.end;
  const arrayEnd = r.offset + length;
  r.end = arrayEnd;
  const items: FieldValue[] = [];
  while (r.offset < arrayEnd) {
    items.push(readFieldValue(r, depth + 1));
  }
  r.end = outerEnd;
  return items;
}

function readLongString(r: WireReader): string | RawLongString {
  const length = r.u32();
  const bytes = r.view(length);
  if (isUtf8(bytes)) return bytes.toString("utf8");
  return new RawLongString(Buffer.from(bytes));
}

function readInt64(r: WireReader): FieldValue {
  const value = r.i64NumberOrBig();
  if (typeof value === "bigint") return value;
  return plainNumberType(value) === "l" ? value : new TypedNumber("l", value);
}

function readDouble(r: WireReader): number | TypedNumber {
  const value = r.f64();
  return plainNumberType(value) === "d" ? value : new TypedNumber("d", value);
}

/** Reads one type tag and its value. */
export function readFieldValue(r: WireReader, depth: number): FieldValue {
  const tagOffset = r.offset;
  const tag = r.u8();
  switch (tag) {
    case 0x74 /* t */:
      return r.u8() !== 0;
    case 0x62 /* b */:
      return new TypedNumber("b", r.i8());
    case 0x42 /* B */:
      return new TypedNumber("B", r.u8());
    case 0x73 /* s */:
      return new TypedNumber("s", r.i16());
    case 0x75 /* u */:
      return new TypedNumber("u", r.u16());
    case 0x49 /* I */:
      return r.i32();
    case 0x69 /* i */:
      return new TypedNumber("i", r.u32());
    case 0x6c /* l */:
      return readInt64(r);
    case 0x66 /* f */:
      return new TypedNumber("f", r.f32());
    case 0x64 /* d */:
      return readDouble(r);
    case 0x44 /* D */:
      {
        const scale = r.u8();
        return new Decimal(scale, r.u32());
      }
    case 0x53 /* S */:
      return readLongString(r);
    case 0x78 /* x */:
      return r.longStr();
    case 0x54 /* T */:
      return new TypedNumber("T", r.u64NumberOrBig());
    case 0x46 /* F */:
      return readTable(r, depth);
    case 0x41 /* A */:
      return readArray(r, depth);
    case 0x56 /* V */:
      return null;
    default:
      throw syntaxError(
        `unknown field value type 0x${tag.toString(16).padStart(2, "0")} at offset ${tagOffset}`,
      );
  }
}

/**
 * Decodes the table whose u32 length prefix starts at `offset` of `buf`; `bytesRead` includes
 * the prefix. Throws AmqpCodecError 502 on anything malformed.
 */
export function decodeTable(buf: Buffer, offset: number): { table: FieldTable; bytesRead: number } {
  const r = new WireReader(buf, offset, buf.length);
  const table = readTable(r);
  return { table, bytesRead: r.offset - offset };
}
