import { describe, expect, it } from "vitest";
import {
  decodeContentHeader,
  decodeMethod,
  encodeBasicProperties,
  encodeContentHeaderFrameFromPropertyBytes,
  encodeMethodFrame,
  type Frame,
  FrameParser,
  FrameType,
} from "../../src/codec/index.js";
import { COPIED_BODY_MAX_BYTES, contentFrames } from "../../src/connection/content-frames.js";

const FRAME_MAX = 4096 + 8; // payloads of at most 4096 bytes per body frame

function framesOf(parts: Buffer[]): Frame[] {
  const parser = new FrameParser({ frameMaxBytes: 131072, expectProtocolHeader: false });
  const frames: Frame[] = [];
  // Each frame copied: the parser hands out views into the chunk.
  parser.feed(Buffer.concat(parts), (frame) => frames.push({ ...frame, payload: Buffer.from(frame.payload) }));
  return frames;
}

const properties = encodeBasicProperties({ contentType: "text/plain", deliveryMode: 2 });

function deliver(body: Buffer): Buffer[] {
  const method = encodeMethodFrame(3, "basic.deliver", {
    consumerTag: "ctag",
    deliveryTag: 7,
    redelivered: false,
    exchange: "ex",
    routingKey: "rk",
  });
  return contentFrames(3, method, properties, body, FRAME_MAX);
}

describe("contentFrames", () => {
  it.each([0, 1, 1024, COPIED_BODY_MAX_BYTES, COPIED_BODY_MAX_BYTES + 1, 3 * 4096 + 17])(
    "frames a %i-byte body as method, header and body frames of at most frame-max",
    (size) => {
      const body = Buffer.alloc(size);
      for (let i = 0; i < size; i++) body[i] = (i * 31) & 0xff;
      const parts = deliver(body);
      const frames = framesOf(parts);
      expect(frames.every((f) => f.channel === 3)).toBe(true);
      expect(frames[0]?.type).toBe(FrameType.Method);
      expect(decodeMethod(frames[0]!.payload)).toMatchObject({ name: "basic.deliver", args: { deliveryTag: 7 } });
      expect(frames[1]?.type).toBe(FrameType.Header);
      const header = decodeContentHeader(frames[1]!.payload);
      expect(header.bodySize).toBe(size);
      expect(header.properties).toMatchObject({ contentType: "text/plain", deliveryMode: 2 });
      // Byte for byte what the codec's own header encoder makes (the one-buffer form writes it by hand).
      const encoded = encodeContentHeaderFrameFromPropertyBytes(3, 60, size, properties);
      expect(frames[1]!.payload.equals(encoded.subarray(7, -1))).toBe(true);
      const bodyFrames = frames.slice(2);
      expect(bodyFrames.every((f) => f.type === FrameType.Body && f.payload.length <= 4096)).toBe(true);
      expect(bodyFrames.length).toBe(Math.ceil(size / 4096));
      expect(Buffer.concat(bodyFrames.map((f) => f.payload)).equals(body)).toBe(true);
      // A small body travels as one buffer (one socket write); a larger one is not copied.
      if (size > 0 && size <= COPIED_BODY_MAX_BYTES) expect(parts).toHaveLength(1);
      if (size > COPIED_BODY_MAX_BYTES) expect(parts.some((part) => part.buffer === body.buffer)).toBe(true);
    },
  );
});
