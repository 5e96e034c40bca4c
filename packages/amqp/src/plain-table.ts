/**
 * Field tables as the core wants them: plain JS values (numbers, strings, booleans, Buffers, arrays,
 * nested objects). The codec keeps wire types in wrappers so that tables round-trip byte for byte;
 * arguments and headers that drive behaviour (x-message-ttl, x-match, …) are read as plain values.
 */
import { type FieldTable, fieldValueToJs } from "./codec/index.js";

export function toPlainTable(table: FieldTable | undefined): Record<string, unknown> {
  const plain: Record<string, unknown> = {};
  if (!table) return plain;
  for (const key of Object.keys(table)) plain[key] = fieldValueToJs(table[key] as FieldTable[string]);
  return plain;
}
