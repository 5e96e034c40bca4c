/**
 * Codecs turn a typed payload into message bytes and back, chosen by the AMQP `content-type`
 * property: JSON, MessagePack (msgpackr), raw Buffer and UTF-8 text are built in; applications add
 * their own by implementing `Codec`.
 *
 * Does not pick a codec for a message (see codec-registry.ts) and does not compress or encrypt.
 * Buffers: `encode` returns a buffer the caller may keep (msgpackr hands out views into its own slab,
 * which it never rewrites); `decode` may return a view of the content buffer (the raw codec does), so
 * the decoded value lives as long as the message it came from.
 */
import { Buffer } from "node:buffer";
import { Packr } from "msgpackr";

export interface Codec<T = unknown> {
  /** The media type written to `content-type`, without parameters, e.g. "application/json". */
  readonly contentType: string;
  /** Extra media types this codec decodes (e.g. "application/x-msgpack"). */
  readonly aliases?: readonly string[];
  encode(value: T): Buffer;
  decode(content: Buffer): T;
}

export const jsonCodec: Codec<unknown> = {
  contentType: "application/json",
  encode(value) {
    const text = JSON.stringify(value);
    // JSON.stringify(undefined) is undefined, not a string: refuse rather than send an empty body.
    if (text === undefined) throw new TypeError("JSON cannot encode undefined or a function");
    return Buffer.from(text, "utf8");
  },
  decode(content) {
    return JSON.parse(content.toString("utf8")) as unknown;
  },
};

// useRecords: false keeps the output plain MessagePack, readable by any other msgpack library (the
// records extension is msgpackr's own). Maps decode as objects, as JSON would.
const packr = new Packr({ useRecords: false, mapsAsObjects: true });

export const msgpackCodec: Codec<unknown> = {
  contentType: "application/msgpack",
  aliases: ["application/x-msgpack", "application/vnd.msgpack"],
  encode(value) {
    return packr.pack(value);
  },
  decode(content) {
    return packr.unpack(content) as unknown;
  },
};

export const rawCodec: Codec<Buffer> = {
  contentType: "application/octet-stream",
  encode(value) {
    if (!Buffer.isBuffer(value)) throw new TypeError("the raw codec encodes Buffers only");
    return value;
  },
  decode(content) {
    return content;
  },
};

export const textCodec: Codec<string> = {
  contentType: "text/plain",
  encode(value) {
    if (typeof value !== "string") throw new TypeError("the text codec encodes strings only");
    return Buffer.from(value, "utf8");
  },
  decode(content) {
    return content.toString("utf8");
  },
};

/** The media type of a content-type value: parameters dropped, lower case ("Text/Plain; charset=x" -> "text/plain"). */
export function mediaTypeOf(contentType: string): string {
  const semicolon = contentType.indexOf(";");
  return (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
}
