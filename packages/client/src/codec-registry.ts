/**
 * Picks the codec for each message: on publish from an explicit option or the payload's type
 * (Buffer -> raw, string -> text, anything else -> the default codec, JSON unless configured); on
 * receipt from the message's `content-type`.
 *
 * Does not encode anything itself. A message without a content-type is treated as raw bytes (what
 * amqplib, pika and the CLI tools send by default); a content-type no codec claims is an error,
 * because guessing would hand the application a value of the wrong type.
 */
import { Buffer } from "node:buffer";
import { type Codec, jsonCodec, mediaTypeOf, msgpackCodec, rawCodec, textCodec } from "./codec.js";
import { CodecError, InvalidArgumentError } from "./errors.js";

export class CodecRegistry {
  private readonly byMediaType = new Map<string, Codec<unknown>>();
  private readonly defaultCodec: Codec<unknown>;

  constructor(extraCodecs: readonly Codec<unknown>[] = [], defaultContentType = jsonCodec.contentType) {
    for (const codec of [jsonCodec, msgpackCodec, rawCodec as Codec<unknown>, textCodec as Codec<unknown>]) {
      this.register(codec);
    }
    for (const codec of extraCodecs) this.register(codec);
    const fallback = this.byMediaType.get(mediaTypeOf(defaultContentType));
    if (fallback === undefined) {
      throw new InvalidArgumentError(`defaultContentType '${defaultContentType}' has no registered codec`);
    }
    this.defaultCodec = fallback;
  }

  /** Adds or replaces the codec for its content type and aliases. */
  register(codec: Codec<unknown>): void {
    if (typeof codec.contentType !== "string" || codec.contentType === "") {
      throw new InvalidArgumentError("a codec needs a non-empty contentType");
    }
    for (const type of [codec.contentType, ...(codec.aliases ?? [])])
      this.byMediaType.set(mediaTypeOf(type), codec);
  }

  find(contentType: string): Codec<unknown> | undefined {
    return this.byMediaType.get(mediaTypeOf(contentType));
  }

  /** The codec a publish uses: `contentType` if given, else by the payload's runtime type. */
  forPublish(body: unknown, contentType: string | undefined): Codec<unknown> {
    if (contentType !== undefined) {
      const codec = this.find(contentType);
      if (codec === undefined) {
        throw new CodecError(contentType, `no codec is registered for content-type '${contentType}'`);
      }
      return codec;
    }
    if (Buffer.isBuffer(body)) return rawCodec as Codec<unknown>;
    if (typeof body === "string") return textCodec as Codec<unknown>;
    return this.defaultCodec;
  }

  /** Encodes a payload; the returned content type is the one to put on the message. */
  encode(
    body: unknown,
    contentType: string | undefined,
    codec?: Codec<unknown>,
  ): { content: Buffer; contentType: string } {
    const chosen = codec ?? this.forPublish(body, contentType);
    let content: Buffer;
    try {
      content = chosen.encode(body);
    } catch (error) {
      throw new CodecError(
        chosen.contentType,
        `encoding as ${chosen.contentType} failed: ${messageOf(error)}`,
        error,
      );
    }
    if (!Buffer.isBuffer(content)) {
      throw new CodecError(
        chosen.contentType,
        `the ${chosen.contentType} codec returned something other than a Buffer`,
      );
    }
    return { content, contentType: contentType ?? chosen.contentType };
  }

  /** Decodes received content by its content-type (none means raw bytes). */
  decode(content: Buffer, contentType: string | undefined): unknown {
    if (contentType === undefined || contentType === "") return content;
    const codec = this.find(contentType);
    if (codec === undefined) {
      throw new CodecError(contentType, `no codec is registered for content-type '${contentType}'`);
    }
    try {
      return codec.decode(content);
    } catch (error) {
      throw new CodecError(contentType, `decoding ${contentType} failed: ${messageOf(error)}`, error);
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
