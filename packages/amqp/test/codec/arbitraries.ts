// fast-check arbitraries shared by the codec tests. Method arguments are derived from the spec
// JSON itself (not from the generated code), so a generator that mistyped or misnamed a field
// would fail the round trips instead of agreeing with itself.

import { readFileSync } from "node:fs";
import { isUtf8 } from "node:buffer";
import fc from "fast-check";
import {
  Decimal,
  type FieldTable,
  type FieldValue,
  RawLongString,
  TypedNumber,
} from "../../src/codec/index.js";

export interface SpecArgument {
  name: string;
  type?: string;
  domain?: string;
  "default-value"?: unknown;
}
export interface SpecMethod {
  name: string;
  id: number;
  arguments: SpecArgument[];
  synchronous?: boolean;
  content?: boolean;
}
export interface SpecClass {
  name: string;
  id: number;
  methods: SpecMethod[];
  properties?: SpecArgument[];
}
export interface Spec {
  domains: [string, string][];
  constants: { name: string; value: number; class?: string }[];
  classes: SpecClass[];
}

export const spec: Spec = JSON.parse(
  readFileSync(new URL("../../spec/amqp-rabbitmq-0.9.1.json", import.meta.url), "utf8"),
) as Spec;

const domainTypes = new Map(spec.domains);

export function wireType(arg: SpecArgument): string {
  let type = arg.type ?? arg.domain!;
  while (domainTypes.get(type) !== undefined && domainTypes.get(type) !== type) type = domainTypes.get(type)!;
  return type;
}

export function camelCase(name: string): string {
  return name.replace(/-(.)/g, (_, c: string) => c.toUpperCase());
}

/** Every method of the spec with its "class.method" name. */
export const specMethods = spec.classes.flatMap((cls) =>
  cls.methods.map((m) => ({ cls, method: m, name: `${cls.name}.${m.name}` })),
);

/** Short strings: any Unicode (up to 63 code points = at most 252 bytes) or long ASCII. */
export const shortStr = fc.oneof(
  fc.string({ unit: "binary", maxLength: 63 }),
  fc.string({ unit: "binary-ascii", minLength: 200, maxLength: 255 }),
);

const key = fc.string({ unit: "binary", maxLength: 16 });
const u64Number = fc.maxSafeNat();
const TWO_POW_63 = 2n ** 63n;

function isIntegralInInt64(v: number): boolean {
  return Number.isInteger(v) && !Object.is(v, -0) && v >= -(2 ** 63) && v < 2 ** 63;
}

/**
 * Field values in the form decodeTable returns them (see field-value.ts), so that
 * decode(encode(v)) must equal v exactly.
 */
const canonicalLeaf: fc.Arbitrary<FieldValue> = fc.oneof(
  fc.boolean(),
  fc.integer({ min: -128, max: 127 }).map((v) => new TypedNumber("b", v)),
  fc.integer({ min: 0, max: 255 }).map((v) => new TypedNumber("B", v)),
  fc.integer({ min: -32768, max: 32767 }).map((v) => new TypedNumber("s", v)),
  fc.integer({ min: 0, max: 65535 }).map((v) => new TypedNumber("u", v)),
  fc.integer(),
  fc.integer({ min: 0, max: 0xffff_ffff }).map((v) => new TypedNumber("i", v)),
  fc.integer().map((v) => new TypedNumber("l", v)),
  fc.maxSafeInteger().filter((v) => v < -(2 ** 31) || v >= 2 ** 31),
  fc
    .bigInt({ min: -TWO_POW_63, max: TWO_POW_63 - 1n })
    .filter((v) => v < BigInt(Number.MIN_SAFE_INTEGER) || v > BigInt(Number.MAX_SAFE_INTEGER)),
  fc.float().map((v) => new TypedNumber("f", v)),
  fc.double().map((v) => (isIntegralInInt64(v) ? new TypedNumber("d", v) : v)),
  fc
    .tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 0xffff_ffff }))
    .map(([scale, value]) => new Decimal(scale, value)),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc
    .uint8Array({ minLength: 1, maxLength: 20 })
    .filter((b) => !isUtf8(b))
    .map((b) => new RawLongString(Buffer.from(b))),
  fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
  u64Number.map((v) => new TypedNumber("T", v)),
  fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n - 1n }).map((v) => new TypedNumber("T", v)),
  fc.constant(null),
);

const canonical = fc.letrec<{ value: FieldValue; table: FieldTable; array: FieldValue[] }>((tie) => ({
  value: fc.oneof({ depthSize: "small", withCrossShrink: true }, canonicalLeaf, tie("table"), tie("array")),
  table: fc.dictionary(key, tie("value"), { maxKeys: 6, noNullPrototype: true }),
  array: fc.array(tie("value"), { maxLength: 6 }),
}));

export const canonicalFieldValue = canonical.value;
export const canonicalTable = canonical.table;

/** Arbitrary for one method argument of a given wire type. */
export function argumentArbitrary(type: string): fc.Arbitrary<unknown> {
  switch (type) {
    case "octet":
      return fc.integer({ min: 0, max: 0xff });
    case "short":
      return fc.integer({ min: 0, max: 0xffff });
    case "long":
      return fc.integer({ min: 0, max: 0xffff_ffff });
    case "longlong":
    case "timestamp":
      return u64Number;
    case "shortstr":
      return shortStr;
    case "longstr":
      return fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b));
    case "bit":
      return fc.boolean();
    case "table":
      return canonicalTable;
    default:
      throw new Error(`no arbitrary for wire type ${type}`);
  }
}

/** Arbitrary for a whole argument object of a spec method, every field present. */
export function methodArgsArbitrary(method: SpecMethod): fc.Arbitrary<Record<string, unknown>> {
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const arg of method.arguments) fields[camelCase(arg.name)] = argumentArbitrary(wireType(arg));
  return fc.record(fields, { noNullPrototype: true });
}

/** Frame payload of an encoded frame (between the 7-byte header and the frame-end octet). */
export function payloadOf(frame: Buffer): Buffer {
  return frame.subarray(7, frame.length - 1);
}
