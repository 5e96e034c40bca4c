/**
 * The PropertiesCodec the core uses for what it stores or rewrites: wire bytes <-> properties, with
 * header tables turned into plain values for the core's decisions. `rewrite` changes some headers
 * (dead-lettering's x-death, quorum queues' x-delivery-count) while every other header keeps the wire
 * type it was published with: it edits the typed decode, not the plain one.
 *
 * Buffers: every result is a fresh buffer; the input is never modified.
 */
import type { MessageProperties, PropertiesCodec, PropertiesRewrite } from "@leveret/core";
import {
  type BasicProperties,
  decodeBasicProperties,
  encodeBasicProperties,
  type FieldTable,
  type FieldValue,
} from "./codec/index.js";
import { toPlainTable } from "./plain-table.js";

export const basicPropertiesCodec: PropertiesCodec = {
  encode(properties: MessageProperties): Buffer {
    return encodeBasicProperties(properties as BasicProperties);
  },
  decode(raw: Buffer): MessageProperties {
    const properties = decodeBasicProperties(raw) as MessageProperties;
    if (properties.headers) properties.headers = toPlainTable(properties.headers as FieldTable);
    return properties;
  },
  rewrite(raw: Buffer, change: PropertiesRewrite): Buffer {
    const properties = decodeBasicProperties(raw);
    for (const name of change.clear ?? []) delete properties[name as keyof BasicProperties];
    if (change.headers) {
      const headers: FieldTable = { ...(properties.headers ?? {}) };
      for (const [key, value] of Object.entries(change.headers)) {
        if (value === undefined) delete headers[key];
        else headers[key] = value as FieldValue;
      }
      properties.headers = change.sortHeaders ? sortedTable(headers) : headers;
    }
    return encodeBasicProperties(properties);
  },
};

function sortedTable(table: FieldTable): FieldTable {
  const sorted: FieldTable = {};
  for (const key of Object.keys(table).sort()) sorted[key] = table[key] as FieldValue;
  return sorted;
}
