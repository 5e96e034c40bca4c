/**
 * RabbitMQ's rule for re-declaring an entity: the declaration must match the existing one, or the
 * channel is closed with 406 naming the first property that differs.
 */
import { Buffer } from "node:buffer";
import { preconditionFailed } from "./errors.js";

export function assertEquivalent(
  kind: "exchange" | "queue",
  name: string,
  vhost: string,
  property: string,
  received: unknown,
  current: unknown,
): void {
  if (sameValue(received, current)) return;
  throw preconditionFailed(
    `inequivalent arg '${property}' for ${kind} '${name}' in vhost '${vhost}': received ${show(received)} but current is ${show(current)}`,
  );
}

/** Compares argument tables, ignoring keys that do not affect equivalence. */
export function assertEquivalentArguments(
  kind: "exchange" | "queue",
  name: string,
  vhost: string,
  received: Record<string, unknown>,
  current: Record<string, unknown>,
  ignored: readonly string[] = [],
): void {
  const keys = new Set([...Object.keys(received), ...Object.keys(current)]);
  for (const key of keys) {
    if (ignored.includes(key)) continue;
    const got = received[key];
    const have = current[key];
    if (!sameValue(got, have)) {
      if (got === undefined) {
        throw preconditionFailed(
          `inequivalent arg '${key}' for ${kind} '${name}' in vhost '${vhost}': received none but current is the value ${show(have)}`,
        );
      }
      assertEquivalent(kind, name, vhost, key, got, have);
    }
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === "object" && typeof b === "object" && a !== null && b !== null) {
    return JSON.stringify(normalise(a)) === JSON.stringify(normalise(b));
  }
  return false;
}

function normalise(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return value.toString("hex");
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "object" && value !== null && "valueOf" in value) {
    const primitive = (value as { valueOf(): unknown }).valueOf();
    if (primitive !== value) return primitive;
  }
  return value;
}

function show(value: unknown): string {
  if (typeof value === "string") return `'${value}'`;
  return `'${String(normalise(value))}'`;
}
