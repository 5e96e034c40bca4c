/**
 * A PropertiesCodec for core tests: JSON instead of the AMQP property list, with the same contract as
 * the adapter's: decode gives plain header values (a long as a number, a timestamp as seconds), rewrite
 * keeps every untouched header as it was and stores bigints and Dates as their own types.
 */
import type { MessageProperties, PropertiesCodec, PropertiesRewrite } from "../../src/message.js";

type Mode = "typed" | "plain";

function replacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return { $long: value.toString() };
  return value;
}

function reviver(mode: Mode) {
  return (_key: string, value: unknown): unknown => {
    if (typeof value === "object" && value !== null) {
      if ("$long" in value) {
        const text = (value as { $long: string }).$long;
        return mode === "typed" ? BigInt(text) : Number(text);
      }
      if ("$timestamp" in value) {
        const seconds = (value as { $timestamp: number }).$timestamp;
        return mode === "typed" ? new Date(seconds * 1000) : seconds;
      }
    }
    return value;
  };
}

/** Dates become {$timestamp: seconds} before JSON sees them (JSON.stringify calls toJSON first). */
function encodeDates(value: unknown): unknown {
  if (value instanceof Date) return { $timestamp: Math.floor(value.getTime() / 1000) };
  if (Array.isArray(value)) return value.map(encodeDates);
  if (typeof value === "object" && value !== null && !Buffer.isBuffer(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = encodeDates(item);
    return out;
  }
  return value;
}

function parse(raw: Buffer, mode: Mode): MessageProperties {
  return raw.length === 0 ? {} : (JSON.parse(raw.toString("utf8"), reviver(mode)) as MessageProperties);
}

export const jsonPropertiesCodec: PropertiesCodec = {
  encode(properties: MessageProperties): Buffer {
    return Buffer.from(JSON.stringify(encodeDates(properties), replacer));
  },
  decode(raw: Buffer): MessageProperties {
    return parse(raw, "plain");
  },
  rewrite(raw: Buffer, change: PropertiesRewrite): Buffer {
    const properties = parse(raw, "typed") as Record<string, unknown>;
    for (const name of change.clear ?? []) delete properties[name];
    if (change.headers) {
      const headers: Record<string, unknown> = { ...((properties.headers as Record<string, unknown>) ?? {}) };
      for (const [key, value] of Object.entries(change.headers)) {
        if (value === undefined) delete headers[key];
        else headers[key] = value;
      }
      properties.headers = headers;
    }
    return jsonPropertiesCodec.encode(properties as MessageProperties);
  },
};
