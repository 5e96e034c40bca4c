// Field tables: byte-exact round trips of every type (nested tables and arrays included), the
// plain-JS encoding rules, hand-computed golden bytes, and refusals.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  AmqpCodecError,
  Decimal,
  decodeTable,
  encodeTable,
  type FieldTable,
  fieldValueToJs,
  MAX_FIELD_NESTING_DEPTH,
  RawLongString,
  tableToJs,
  TypedNumber,
} from "../../src/codec/index.js";
import { canonicalTable } from "./arbitraries.js";

function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ""), "hex");
}

function roundTrip(table: FieldTable): FieldTable {
  const bytes = encodeTable(table);
  const { table: decoded, bytesRead } = decodeTable(bytes, 0);
  expect(bytesRead).toBe(bytes.length);
  return decoded;
}

describe("field table round trips", () => {
  it("decode(encode(t)) equals t and re-encodes to the same bytes, for every type and nesting", () => {
    fc.assert(
      fc.property(canonicalTable, (table) => {
        const bytes = encodeTable(table);
        const { table: decoded, bytesRead } = decodeTable(bytes, 0);
        expect(bytesRead).toBe(bytes.length);
        expect(decoded).toStrictEqual(table);
        expect(encodeTable(decoded).equals(bytes)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it("decodes at an offset inside a larger buffer, including a view with a non-zero byteOffset", () => {
    fc.assert(
      fc.property(
        canonicalTable,
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 1, max: 40 }),
        (table, before, viewAt) => {
          const bytes = encodeTable(table);
          const backing = Buffer.alloc(viewAt + before + bytes.length + 9, 0xaa);
          bytes.copy(backing, viewAt + before);
          const view = backing.subarray(viewAt);
          expect(view.byteOffset).toBeGreaterThan(0);
          const { table: decoded, bytesRead } = decodeTable(view, before);
          expect(bytesRead).toBe(bytes.length);
          expect(decoded).toStrictEqual(table);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("keeps every wire type through decode -> encode", () => {
    const table: FieldTable = {
      t: true,
      b: new TypedNumber("b", -5),
      B: new TypedNumber("B", 250),
      s: new TypedNumber("s", -300),
      u: new TypedNumber("u", 65000),
      I: -70000,
      i: new TypedNumber("i", 4_000_000_000),
      lSmall: new TypedNumber("l", 7),
      lLarge: 2 ** 40,
      lHuge: -(2n ** 62n),
      f: new TypedNumber("f", 1.5),
      dFraction: 0.25,
      dIntegral: new TypedNumber("d", 3),
      D: new Decimal(2, 12345),
      S: "héllo",
      SRaw: new RawLongString(Buffer.from([0xff, 0xfe])),
      x: Buffer.from([0, 1, 2]),
      T: new TypedNumber("T", 1_700_000_000),
      F: { nested: { deeper: [1, "two", null] } },
      A: [true, new TypedNumber("u", 1), [new Decimal(0, 1)]],
      V: null,
    };
    expect(roundTrip(table)).toStrictEqual(table);
  });

  it("encodes correctly when a value lands where the writer grows its buffer", () => {
    // The encoder starts with 256 bytes and doubles; every value type must be written after the
    // growth, not into the old buffer. Shift each type across the 256- and 512-byte boundaries.
    const values = [
      7,
      2 ** 40,
      2.5,
      true,
      new TypedNumber("s", -2),
      new TypedNumber("f", 0.5),
      new TypedNumber("T", 5),
      new Decimal(1, 2),
      Buffer.from([1, 2, 3]),
      "text",
      [1, 2],
      { a: 1 },
      null,
    ];
    for (const value of values) {
      for (let pad = 230; pad < 520; pad++) {
        const table: FieldTable = { pad: "p".repeat(pad), value };
        expect(roundTrip(table)).toStrictEqual(table);
      }
    }
  });

  it("does not let a key named __proto__ change the decoded table's prototype", () => {
    const bytes = hex("0000000f 09 5f5f70726f746f5f5f 49 00000001");
    const { table } = decodeTable(bytes, 0);
    expect(Object.getPrototypeOf(table)).toBe(Object.prototype);
    expect(Object.keys(table)).toEqual(["__proto__"]);
    expect(encodeTable(table).equals(bytes)).toBe(true);
  });
});

describe("plain JS values", () => {
  it("encode by the documented rules", () => {
    const when = new Date(1_700_000_000_999);
    const decoded = roundTrip({
      int32: 42,
      negInt32: -(2 ** 31),
      int64: 2 ** 31,
      bigint: 5n,
      fraction: 2.5,
      negZero: -0,
      huge: 2 ** 70,
      str: "s",
      bool: false,
      buf: Buffer.from("hi"),
      bytes: new Uint8Array([9]) as Buffer, // any Uint8Array encodes as 'x'; decoding gives a Buffer
      date: when,
      nul: null,
      undef: undefined as unknown as null,
      arr: [1],
      obj: { a: 1 },
    });
    expect(decoded).toStrictEqual({
      int32: 42,
      negInt32: -(2 ** 31),
      int64: 2 ** 31,
      bigint: new TypedNumber("l", 5),
      fraction: 2.5,
      negZero: -0,
      huge: 2 ** 70,
      str: "s",
      bool: false,
      buf: Buffer.from("hi"),
      bytes: Buffer.from([9]),
      date: new TypedNumber("T", 1_700_000_000),
      nul: null,
      undef: null,
      arr: [1],
      obj: { a: 1 },
    });
  });

  it("fieldValueToJs unwraps TypedNumber, Date and RawLongString, recursively", () => {
    const table: FieldTable = {
      b: new TypedNumber("b", -1),
      l: new TypedNumber("l", 10n),
      lBig: new TypedNumber("l", 2n ** 60n),
      T: new TypedNumber("T", 1_700_000_000),
      date: new Date(1_700_000_000_500),
      raw: new RawLongString(Buffer.from([0xff])),
      D: new Decimal(1, 5),
      nested: { arr: [new TypedNumber("f", 0.5), "x"] },
    };
    expect(tableToJs(table)).toStrictEqual({
      b: -1,
      l: 10,
      lBig: 2n ** 60n,
      T: 1_700_000_000,
      date: 1_700_000_000,
      raw: Buffer.from([0xff]),
      D: new Decimal(1, 5),
      nested: { arr: [0.5, "x"] },
    });
    expect(fieldValueToJs(undefined)).toBeNull();
    expect(fieldValueToJs("s")).toBe("s");
  });
});

describe("golden bytes", () => {
  it("encodes each type as RabbitMQ does (0-9-1 errata tags)", () => {
    const table: FieldTable = {
      t: true,
      b: new TypedNumber("b", -1),
      s: new TypedNumber("s", -2),
      I: -2,
      l: 2 ** 40,
      d: 1.5,
      D: new Decimal(2, 12345),
      T: new TypedNumber("T", 1_700_000_000),
      A: [1, "x"],
      V: null,
      x: Buffer.from([1, 2]),
    };
    const entries = [
      "01 74 74 01",
      "01 62 62 ff",
      "01 73 73 fffe",
      "01 49 49 fffffffe",
      "01 6c 6c 0000010000000000",
      "01 64 64 3ff8000000000000",
      "01 44 44 02 00003039",
      "01 54 54 000000006553f100",
      "01 41 41 0000000b 49 00000001 53 00000001 78",
      "01 56 56",
      "01 78 78 00000002 0102",
    ].map(hex);
    const body = Buffer.concat(entries);
    const expected = Buffer.concat([hex(body.length.toString(16).padStart(8, "0")), body]);
    expect(encodeTable(table).toString("hex")).toBe(expected.toString("hex"));
    expect(decodeTable(expected, 0).table).toStrictEqual({ ...table, l: 2 ** 40 });
  });

  it("reads 'f', 'u', 'i', 'B' as RabbitMQ writes them", () => {
    const bytes = hex(
      "0000001e 01 66 66 3fc00000 01 75 75 ffff 01 69 69 ffffffff 01 42 42 80 01 78 78 00000000",
    );
    expect(decodeTable(bytes, 0).table).toStrictEqual({
      f: new TypedNumber("f", 1.5),
      u: new TypedNumber("u", 65535),
      i: new TypedNumber("i", 0xffff_ffff),
      B: new TypedNumber("B", 128),
      x: Buffer.alloc(0),
    });
  });
});

describe("refusals", () => {
  function decodeError(bytes: Buffer): AmqpCodecError {
    try {
      decodeTable(bytes, 0);
    } catch (err) {
      expect(err).toBeInstanceOf(AmqpCodecError);
      return err as AmqpCodecError;
    }
    throw new Error("decodeTable accepted invalid bytes");
  }

  it("rejects an unknown type tag with 502", () => {
    const err = decodeError(hex("00000003 01 61 51"));
    expect(err.replyCode).toBe(502);
    expect(err.code).toBe("AMQP_SYNTAX_ERROR");
    expect(err.message).toMatch(/unknown field value type 0x51/);
  });

  it("rejects an entry that runs past its table's length even when bytes follow", () => {
    // The table claims 4 bytes, its 'I' entry needs 7; the payload has plenty more.
    expect(decodeError(hex("00000004 01 61 49 00000001 0000000000")).replyCode).toBe(502);
  });

  it("rejects a length prefix longer than the buffer", () => {
    expect(decodeError(hex("00000010 01 61 56")).replyCode).toBe(502);
    expect(decodeError(hex("0000")).replyCode).toBe(502);
  });

  it("limits nesting instead of overflowing the stack", () => {
    // { a: [[[ ... [null] ... ]]] }, 100 000 arrays deep: far beyond the limit, yet a few
    // hundred kilobytes, which a generous frame-max would let through.
    const depth = 100_000;
    const bytes = Buffer.alloc(4 + 2 + 5 * depth + 1);
    bytes.writeUInt32BE(bytes.length - 4, 0);
    bytes[4] = 1;
    bytes[5] = 0x61; // key "a"
    for (let level = 0; level < depth; level++) {
      const at = 6 + 5 * level;
      bytes[at] = 0x41; // 'A'
      bytes.writeUInt32BE(bytes.length - at - 5, at + 1);
    }
    bytes[bytes.length - 1] = 0x56; // 'V'
    const err = decodeError(bytes);
    expect(err.replyCode).toBe(502);
    expect(err.message).toMatch(/nested deeper/);
  });

  it("accepts nesting up to the limit, both ways", () => {
    let value: FieldTable = { leaf: 1 };
    for (let i = 1; i < MAX_FIELD_NESTING_DEPTH; i++) value = { n: value };
    expect(roundTrip(value)).toStrictEqual(value);
    const tooDeep = { n: value };
    expect(() => encodeTable(tooDeep)).toThrow(AmqpCodecError);
  });

  it("refuses values that do not fit, with AMQP_ENCODE_ERROR", () => {
    const cyclic: FieldTable = {};
    cyclic.self = cyclic;
    const cases: unknown[] = [
      { m: new Map() },
      { f: () => 1 },
      { s: Symbol("x") },
      { big: 2n ** 63n },
      { d: new Decimal(256, 1) },
      { d: new Decimal(1, -1) },
      { date: new Date(Number.NaN) },
      { date: new Date(-1000) },
      { ["k".repeat(256)]: 1 },
      cyclic,
    ];
    for (const table of cases) {
      let caught: unknown;
      try {
        encodeTable(table as FieldTable);
      } catch (err) {
        caught = err;
      }
      expect(caught, String(Object.keys(table as object))).toBeInstanceOf(AmqpCodecError);
      expect((caught as AmqpCodecError).code).toBe("AMQP_ENCODE_ERROR");
    }
    for (const notATable of [null, [], 5, "x", new Map([["a", 1]]), new Date(0)]) {
      expect(() => encodeTable(notATable as unknown as FieldTable)).toThrow(AmqpCodecError);
    }
  });

  it("checks TypedNumber ranges on construction", () => {
    const bad: [ConstructorParameters<typeof TypedNumber>[0], number | bigint][] = [
      ["b", 128],
      ["B", -1],
      ["s", 32768],
      ["u", 65536],
      ["I", 2 ** 31],
      ["i", -1],
      ["i", 1.5],
      ["l", 2 ** 60],
      ["l", 2n ** 63n],
      ["T", -1],
      ["T", 2n ** 64n],
      ["b", 1n],
    ];
    for (const [type, value] of bad) {
      expect(() => new TypedNumber(type, value), `${type} ${value}`).toThrow(AmqpCodecError);
    }
    expect(() => new TypedNumber("q" as "b", 1)).toThrow(AmqpCodecError);
    expect(new TypedNumber("l", 2n ** 63n - 1n).value).toBe(2n ** 63n - 1n);
  });
});
