import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Codec, jsonCodec, mediaTypeOf, msgpackCodec, rawCodec, textCodec } from "../src/codec.js";
import { CodecRegistry } from "../src/codec-registry.js";
import { ClientErrorCode, CodecError, InvalidArgumentError } from "../src/errors.js";

// JSON-representable values: what both the JSON and the msgpack codec must round-trip unchanged.
const jsonValue = fc.jsonValue().map((value) => JSON.parse(JSON.stringify(value)) as unknown);

describe("built-in codecs", () => {
  it("round-trip JSON values through JSON", () => {
    fc.assert(
      fc.property(jsonValue, (value) => {
        expect(jsonCodec.decode(jsonCodec.encode(value))).toEqual(value);
      }),
    );
  });

  it("round-trip JSON values through msgpack", () => {
    // msgpackr renames a "__proto__" key on decode (its prototype-pollution guard); see the README notes.
    const withoutProtoKeys = jsonValue.filter((value) => !JSON.stringify(value).includes('"__proto__"'));
    fc.assert(
      fc.property(withoutProtoKeys, (value) => {
        expect(msgpackCodec.decode(msgpackCodec.encode(value))).toEqual(value);
      }),
    );
  });

  it("keep msgpack output stable after later encodes (buffers are not reused)", () => {
    const first = msgpackCodec.encode({ a: 1, text: "first" });
    const copy = Buffer.from(first);
    for (let i = 0; i < 5000; i++) msgpackCodec.encode({ i, filler: "x".repeat(i % 50) });
    expect(first.equals(copy)).toBe(true);
  });

  it("writes plain msgpack that decodes from a view with a non-zero byteOffset", () => {
    const encoded = msgpackCodec.encode({ answer: 42 });
    // map16 of one entry, fixstr "answer", positive fixint 42: standard MessagePack, no msgpackr
    // record extension, so any msgpack library can read it.
    expect([...encoded]).toEqual([0xde, 0x00, 0x01, 0xa6, ...Buffer.from("answer"), 0x2a]);
    const padded = Buffer.concat([Buffer.from([9, 9, 9]), encoded]);
    expect(msgpackCodec.decode(padded.subarray(3))).toEqual({ answer: 42 });
  });

  it("round-trip bytes and strings through raw and text", () => {
    fc.assert(
      fc.property(fc.uint8Array(), fc.string(), (bytes, text) => {
        const buffer = Buffer.from(bytes);
        expect(rawCodec.decode(rawCodec.encode(buffer)).equals(buffer)).toBe(true);
        expect(textCodec.decode(textCodec.encode(text))).toBe(Buffer.from(text, "utf8").toString("utf8"));
      }),
    );
  });

  it("refuse values they cannot represent", () => {
    expect(() => jsonCodec.encode(undefined)).toThrow(TypeError);
    expect(() => rawCodec.encode("not a buffer" as unknown as Buffer)).toThrow(TypeError);
    expect(() => textCodec.encode(12 as unknown as string)).toThrow(TypeError);
  });

  it("mediaTypeOf drops parameters and case", () => {
    expect(mediaTypeOf("Text/Plain; charset=utf-8")).toBe("text/plain");
    expect(mediaTypeOf(" application/json ")).toBe("application/json");
  });
});

describe("CodecRegistry", () => {
  const registry = new CodecRegistry();

  it("chooses by payload type when no content type is given", () => {
    expect(registry.forPublish(Buffer.alloc(1), undefined)).toBe(rawCodec);
    expect(registry.forPublish("s", undefined)).toBe(textCodec);
    expect(registry.forPublish({ a: 1 }, undefined)).toBe(jsonCodec);
    expect(registry.forPublish(7, undefined)).toBe(jsonCodec);
  });

  it("honours an explicit content type, parameters and aliases included", () => {
    expect(registry.encode({ a: 1 }, "application/x-msgpack").contentType).toBe("application/x-msgpack");
    expect(registry.decode(msgpackCodec.encode({ a: 1 }), "application/x-msgpack")).toEqual({ a: 1 });
    expect(registry.decode(Buffer.from("hé"), "text/plain; charset=utf-8")).toBe("hé");
  });

  it("treats a message without content type as raw bytes", () => {
    const bytes = Buffer.from([1, 2, 3]);
    expect(registry.decode(bytes, undefined)).toBe(bytes);
    expect(registry.decode(bytes, "")).toBe(bytes);
  });

  it("reports unknown content types and broken payloads as CodecError", () => {
    expect(() => registry.decode(Buffer.from("x"), "application/xml")).toThrow(CodecError);
    expect(() => registry.encode(1, "application/xml")).toThrow(CodecError);
    try {
      registry.decode(Buffer.from("{not json"), "application/json");
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(CodecError);
      expect((error as CodecError).code).toBe(ClientErrorCode.Codec);
      expect((error as CodecError).contentType).toBe("application/json");
    }
  });

  it("plugs in custom codecs and a custom default", () => {
    const reversed: Codec<string> = {
      contentType: "application/x-reversed",
      encode: (value) => Buffer.from([...value].reverse().join("")),
      decode: (content) => [...content.toString()].reverse().join(""),
    };
    const custom = new CodecRegistry([reversed as Codec<unknown>], "application/x-reversed");
    const { content, contentType } = custom.encode("abc", undefined, undefined);
    // A string picks the text codec by type; the custom default applies to other payloads.
    expect(contentType).toBe("text/plain");
    expect(custom.encode({ x: 1 } as unknown, undefined, jsonCodec).contentType).toBe("application/json");
    const forced = custom.encode("abc", "application/x-reversed");
    expect(forced.content.toString()).toBe("cba");
    expect(custom.decode(forced.content, forced.contentType)).toBe("abc");
    expect(content.toString()).toBe("abc");
    expect(() => new CodecRegistry([], "application/unknown")).toThrow(InvalidArgumentError);
  });

  it("rejects a codec that does not return a Buffer", () => {
    const broken = {
      contentType: "application/x-broken",
      encode: () => "nope",
      decode: () => 1,
    } as unknown as Codec;
    expect(() => new CodecRegistry([broken]).encode(1, "application/x-broken")).toThrow(CodecError);
  });
});
