/**
 * The matching rules of the headers exchange, following RabbitMQ (rabbit_exchange_type_headers):
 *
 * - `x-match` picks the mode: "all" (the default when absent), "any", "all-with-x" or "any-with-x".
 *   The `x-match` argument itself never takes part in matching. With "all" and "any" every other
 *   argument whose name starts with "x-" is ignored too; the "-with-x" modes match them like any other.
 * - An argument with a value matches a header of the same name with an equal value (see
 *   `headerValuesEqual`). An argument with no value (null or undefined: AMQP's void field) matches the
 *   mere presence of a header of that name, whatever its value, void included.
 * - "all": every remaining argument matches. With no remaining arguments every message matches, even one
 *   without headers. "any": at least one matches; with no remaining arguments nothing matches.
 * - A header is present when the table has it as an own property, whatever its value.
 *
 * It does not keep bindings (HeadersRouter does) and does not decode field tables: it sees the plain
 * values the AMQP codec produced.
 *
 * Buffers: Buffer and Uint8Array values are compared by content and never kept or modified.
 */
import { Buffer } from "node:buffer";

export const X_MATCH_MODES = ["all", "any", "all-with-x", "any-with-x"] as const;
export type XMatchMode = (typeof X_MATCH_MODES)[number];

/** Nested tables and arrays deeper than this compare unequal, so a hostile table cannot blow the stack. */
export const MAX_HEADER_VALUE_DEPTH = 64;

/** One binding argument that takes part in matching. */
interface HeadersCondition {
  readonly name: string;
  /** The argument was void: any value of the header will do. */
  readonly presenceOnly: boolean;
  readonly value: unknown;
}

/** A headers binding's arguments, reduced once at bind time to what `route` needs. */
export interface HeadersPattern {
  readonly mode: XMatchMode;
  readonly conditions: readonly HeadersCondition[];
}

/**
 * Checks a headers binding's arguments. Returns a message for the client (the caller raises it as 406
 * PRECONDITION_FAILED, as RabbitMQ does) or undefined when they are acceptable. A missing `x-match`
 * is fine; a void one is not (RabbitMQ rejects any type other than longstr).
 */
export function validateHeadersBindingArgs(args: Readonly<Record<string, unknown>>): string | undefined {
  const xMatch = args["x-match"];
  if (xMatch === undefined) return undefined;
  if (typeof xMatch === "string" && isXMatchMode(xMatch)) return undefined;
  const got = typeof xMatch === "string" ? JSON.stringify(xMatch) : describeType(xMatch);
  return `x-match must be one of all, any, all-with-x, any-with-x (got ${got})`;
}

/** Reduces binding arguments to a pattern. The arguments must have passed validateHeadersBindingArgs. */
export function compileHeadersPattern(args: Readonly<Record<string, unknown>>): HeadersPattern {
  const xMatch = args["x-match"];
  const mode: XMatchMode = typeof xMatch === "string" && isXMatchMode(xMatch) ? xMatch : "all";
  const withX = mode === "all-with-x" || mode === "any-with-x";
  const conditions: HeadersCondition[] = [];
  for (const name of Object.keys(args)) {
    if (name === "x-match") continue;
    if (!withX && name.startsWith("x-")) continue;
    const value = args[name];
    conditions.push({ name, presenceOnly: value === null || value === undefined, value });
  }
  return { mode, conditions };
}

export function headersMatch(
  pattern: HeadersPattern,
  headers: Readonly<Record<string, unknown>> | undefined,
): boolean {
  const wantAll = pattern.mode === "all" || pattern.mode === "all-with-x";
  for (const condition of pattern.conditions) {
    const matched = headers !== undefined && conditionHolds(condition, headers);
    if (wantAll && !matched) return false;
    if (!wantAll && matched) return true;
  }
  return wantAll;
}

function conditionHolds(condition: HeadersCondition, headers: Readonly<Record<string, unknown>>): boolean {
  if (!Object.hasOwn(headers, condition.name)) return false;
  return condition.presenceOnly || headerValuesEqual(condition.value, headers[condition.name]);
}

/**
 * Equality of a binding argument and a header value, as RabbitMQ's `==` sees them (the cases in
 * test/routing/headers-router.test.ts marked "observed" were checked against RabbitMQ 3.10.8):
 * - numbers (and bigints) compare numerically, whatever their wire type: 1 (int) equals 1 (long) and
 *   1.0 (double); NaN equals nothing;
 * - a Date is an AMQP timestamp, i.e. whole seconds since the epoch, so it equals another Date in the
 *   same second and equals that number of seconds;
 * - strings and byte arrays (Buffer, Uint8Array) compare by bytes (a string as UTF-8): AMQP longstr and
 *   byte-array values are both binaries to RabbitMQ;
 * - booleans equal only booleans; void (null or undefined) equals only void;
 * - inside arrays and nested tables RabbitMQ also compares each value's wire type, so there a string
 *   never equals a byte array nor a Date a number; arrays compare element by element and nested tables
 *   key by key in order (RabbitMQ sorts only the top-level table). Decoded values carry no integer
 *   width, so nested numbers still compare numerically where RabbitMQ would tell int 1 from long 1.
 */
export function headerValuesEqual(a: unknown, b: unknown): boolean {
  return valuesEqual(a, b, 0, false);
}

/**
 * Whether two binding-argument tables make the same binding: the same keys in any order (RabbitMQ
 * sorts binding arguments) with values equal by the strict, type-aware rule RabbitMQ applies to nested
 * values, since the values' types are part of a binding's identity there.
 */
export function headerTablesEqual(
  a: Readonly<Record<string, unknown>>,
  b: Readonly<Record<string, unknown>>,
): boolean {
  return tablesEqual(a, b, 0, false);
}

type ValueKind =
  | "void"
  | "number"
  | "timestamp"
  | "string"
  | "bytes"
  | "boolean"
  | "array"
  | "table"
  | "other";

function kindOf(value: unknown): ValueKind {
  if (value === null || value === undefined) return "void";
  if (typeof value === "number" || typeof value === "bigint") return "number";
  if (typeof value === "string") return "string";
  if (typeof value === "boolean") return "boolean";
  if (value instanceof Date) return "timestamp";
  if (value instanceof Uint8Array) return "bytes";
  if (Array.isArray(value)) return "array";
  if (isTable(value)) return "table";
  return "other";
}

/** `strict`: compare kinds first, as RabbitMQ does below the top level of a table. */
function valuesEqual(a: unknown, b: unknown, depth: number, strict: boolean): boolean {
  if (a === b) return true;
  if (typeof a === "string" && typeof b === "string") return false;
  if (strict && kindOf(a) !== kindOf(b)) return false;
  const aNumber = numericValue(a);
  if (aNumber !== undefined) {
    const bNumber = numericValue(b);
    return bNumber !== undefined && numbersEqual(aNumber, bNumber);
  }
  if (isBytesLike(a)) return isBytesLike(b) && bytesEqual(a, b);
  if (a === null || a === undefined || b === null || b === undefined) {
    return (a === null || a === undefined) && (b === null || b === undefined);
  }
  if (depth >= MAX_HEADER_VALUE_DEPTH) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!valuesEqual(a[i], b[i], depth + 1, true)) return false;
    return true;
  }
  if (isTable(a) && isTable(b)) return tablesEqual(a, b, depth + 1, true);
  return false;
}

/** `ordered`: keys must come in the same order (nested tables are not sorted by RabbitMQ). */
function tablesEqual(
  a: Readonly<Record<string, unknown>>,
  b: Readonly<Record<string, unknown>>,
  depth: number,
  ordered: boolean,
): boolean {
  const aKeys = Object.keys(a);
  const bKeys = Object.keys(b);
  if (aKeys.length !== bKeys.length) return false;
  for (let i = 0; i < aKeys.length; i++) {
    const key = aKeys[i] as string;
    if (ordered ? bKeys[i] !== key : !Object.hasOwn(b, key)) return false;
    if (!valuesEqual(a[key], b[key], depth + 1, true)) return false;
  }
  return true;
}

function numericValue(value: unknown): number | bigint | undefined {
  if (typeof value === "number" || typeof value === "bigint") return value;
  if (value instanceof Date) return Math.floor(value.getTime() / 1000);
  return undefined;
}

function numbersEqual(a: number | bigint, b: number | bigint): boolean {
  if (typeof a === typeof b) return a === b;
  const asNumber = typeof a === "number" ? a : (b as number);
  const asBigint = typeof a === "bigint" ? a : (b as bigint);
  return Number.isInteger(asNumber) && BigInt(asNumber) === asBigint;
}

function isBytesLike(value: unknown): value is string | Uint8Array {
  return typeof value === "string" || value instanceof Uint8Array;
}

function bytesEqual(a: string | Uint8Array, b: string | Uint8Array): boolean {
  const aBytes = typeof a === "string" ? Buffer.from(a, "utf8") : a;
  const bBytes = typeof b === "string" ? Buffer.from(b, "utf8") : b;
  return Buffer.compare(aBytes, bBytes) === 0;
}

function isTable(value: unknown): value is Readonly<Record<string, unknown>> {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Date) &&
    !(value instanceof Uint8Array)
  );
}

function isXMatchMode(value: string): value is XMatchMode {
  return (X_MATCH_MODES as readonly string[]).includes(value);
}

function describeType(value: unknown): string {
  if (value === null) return "void";
  if (Buffer.isBuffer(value)) return "a byte array";
  if (Array.isArray(value)) return "an array";
  if (value instanceof Date) return "a timestamp";
  return `a ${typeof value}`;
}
