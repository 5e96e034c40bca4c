// FrameParser: the same frames however the stream is cut, zero-copy where a frame lies inside
// one chunk, and 501 FRAME_ERROR for every framing fault.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  AmqpCodecError,
  decodeContentHeader,
  decodeMethod,
  type Frame,
  FrameParser,
  FrameType,
  PROTOCOL_HEADER,
} from "../../src/codec/index.js";
import {
  asOffsetView,
  comparable,
  parseChunks,
  referenceFrames,
  sampleStream,
  splitAt,
} from "./sample-stream.js";

const stream = sampleStream();
const expected = comparable(referenceFrames(stream));

function frameError(fn: () => void): AmqpCodecError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AmqpCodecError);
    const codecError = err as AmqpCodecError;
    expect(codecError.replyCode).toBe(501);
    expect(codecError.code).toBe("AMQP_FRAME_ERROR");
    return codecError;
  }
  throw new Error("expected a frame error");
}

describe("splitting", () => {
  it("parses the whole stream in one chunk and reports the protocol header once", () => {
    const result = parseChunks([stream]);
    expect(comparable(result.frames)).toEqual(expected);
    expect(result.headers).toHaveLength(1);
    expect(result.headers[0]!.ok).toBe(true);
    expect(result.headers[0]!.header.equals(PROTOCOL_HEADER)).toBe(true);
    expect(expected.length).toBe(9);
  });

  it("yields the same frames when the stream is split into two chunks at every offset", () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const result = parseChunks([stream.subarray(0, cut), stream.subarray(cut)]);
      expect(comparable(result.frames), `cut at ${cut}`).toEqual(expected);
      expect(result.headers.map((h) => h.ok)).toEqual([true]);
    }
  });

  it("yields the same frames for random multi-way splits", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: stream.length }), { maxLength: 40 }), (cuts) => {
        expect(comparable(parseChunks(splitAt(stream, cuts)).frames)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it("yields the same frames when fed one byte at a time", () => {
    const bytes = Array.from({ length: stream.length }, (_, i) => stream.subarray(i, i + 1));
    expect(comparable(parseChunks(bytes).frames)).toEqual(expected);
  });

  it("tolerates empty chunks anywhere", () => {
    const chunks = splitAt(stream, [3, 8, 9, 20]).flatMap((c) => [Buffer.alloc(0), c]);
    expect(comparable(parseChunks(chunks).frames)).toEqual(expected);
  });
});

describe("views with a non-zero byteOffset", () => {
  it("parses chunks that are views into larger buffers, at every split", () => {
    for (let cut = 0; cut <= stream.length; cut += 3) {
      const chunks = [
        asOffsetView(stream.subarray(0, cut), 5 + (cut % 17)),
        asOffsetView(stream.subarray(cut), 3),
      ];
      expect(chunks[0]!.byteOffset).toBeGreaterThan(0);
      expect(comparable(parseChunks(chunks).frames), `cut at ${cut}`).toEqual(expected);
    }
  });

  it("parses random splits of views, and payloads decode", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: stream.length }), { maxLength: 12 }),
        fc.integer({ min: 1, max: 64 }),
        (cuts, pad) => {
          const chunks = splitAt(stream, cuts).map((c, i) => asOffsetView(c, pad + i));
          const { frames } = parseChunks(chunks);
          expect(comparable(frames)).toEqual(expected);
          expect(decodeMethod(frames[0]!.payload).name).toBe("connection.start-ok");
          expect(decodeContentHeader(frames[2]!.payload).bodySize).toBe(300);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("buffer ownership", () => {
  it("hands out zero-copy slices for frames inside one chunk", () => {
    const { frames } = parseChunks([stream]);
    for (const frame of frames) {
      expect(frame.payload.buffer).toBe(stream.buffer);
      expect(frame.payload.byteOffset).toBeGreaterThanOrEqual(stream.byteOffset);
      expect(frame.payload.byteOffset + frame.payload.length).toBeLessThanOrEqual(
        stream.byteOffset + stream.length,
      );
    }
  });

  it("assembles a straddling frame once, into its own buffer that later chunk reuse cannot touch", () => {
    const scratch = Buffer.alloc(stream.length);
    stream.copy(scratch);
    const cut = 8 + 20; // inside the first frame's payload
    const parser = new FrameParser({ frameMaxBytes: 4096, expectProtocolHeader: true });
    const frames: Frame[] = [];
    parser.feed(
      scratch.subarray(0, cut),
      (f) => frames.push(f),
      () => {},
    );
    parser.feed(
      scratch.subarray(cut),
      (f) => frames.push(f),
      () => {},
    );
    const firstPayload = Buffer.from(frames[0]!.payload);
    expect(frames[0]!.payload.buffer).not.toBe(scratch.buffer);
    expect(frames[1]!.payload.buffer).toBe(scratch.buffer);
    scratch.fill(0); // the socket layer reuses its buffer
    expect(frames[0]!.payload.equals(firstPayload)).toBe(true);
  });
});

describe("framing errors", () => {
  const publish = referenceFrames(stream)[1]!;
  const frameBytes = (type: number, channel: number, payload: Buffer, end = 0xce) => {
    const b = Buffer.alloc(8 + payload.length);
    b[0] = type;
    b.writeUInt16BE(channel, 1);
    b.writeUInt32BE(payload.length, 3);
    payload.copy(b, 7);
    b[b.length - 1] = end;
    return b;
  };
  const client = (frameMaxBytes = 4096) => new FrameParser({ frameMaxBytes, expectProtocolHeader: false });
  const ignore = () => {};

  it("rejects a bad frame-end octet, whether the frame is whole, assembled or has a split header", () => {
    const bad = frameBytes(FrameType.Method, 1, publish.payload, 0x00);
    expect(frameError(() => client().feed(bad, ignore)).message).toMatch(/ends with 0x00/);
    for (const cut of [1, 3, 7, 8, bad.length - 1]) {
      const parser = client();
      frameError(() => {
        parser.feed(bad.subarray(0, cut), ignore);
        parser.feed(bad.subarray(cut), ignore);
      });
    }
  });

  it("rejects a frame larger than frame-max as soon as its header arrives", () => {
    const header = Buffer.from([1, 0, 1, 0, 0, 0x0f, 0xf9]); // 4089-byte payload: a 4097-byte frame
    expect(frameError(() => client(4096).feed(header, ignore)).message).toMatch(/exceeds frame-max 4096/);
    const split = client(4096);
    split.feed(header.subarray(0, 4), ignore);
    frameError(() => split.feed(header.subarray(4), ignore));
  });

  it("accepts a frame of exactly frame-max, and follows a changed frameMaxBytes", () => {
    const exact = frameBytes(FrameType.Body, 1, Buffer.alloc(4096 - 8, 1));
    const frames: Frame[] = [];
    const parser = client(4096);
    parser.feed(exact, (f) => frames.push(f));
    expect(frames).toHaveLength(1);
    parser.frameMaxBytes = 4095;
    expect(parser.frameMaxBytes).toBe(4095);
    frameError(() => parser.feed(exact, ignore));
    expect(() => new FrameParser({ frameMaxBytes: 7, expectProtocolHeader: false })).toThrow();
    expect(() => {
      client().frameMaxBytes = 1.5;
    }).toThrow();
  });

  it("rejects unknown frame types", () => {
    for (const type of [0, 4, 5, 7, 9, 0x41, 0xff]) {
      expect(frameError(() => client().feed(frameBytes(type, 0, Buffer.alloc(0)), ignore)).message).toMatch(
        new RegExp(`unknown frame type ${type}`),
      );
    }
  });

  it("ignores input after an error", () => {
    const parser = client();
    frameError(() => parser.feed(frameBytes(9, 0, Buffer.alloc(0)), ignore));
    const frames: Frame[] = [];
    parser.feed(sampleStream(false), (f) => frames.push(f));
    expect(frames).toEqual([]);
  });

  it("stops when onFrame throws, and refuses re-entrant feeds", () => {
    const parser = client();
    expect(() =>
      parser.feed(sampleStream(false), () => {
        throw new Error("handler failed");
      }),
    ).toThrow("handler failed");
    const frames: Frame[] = [];
    parser.feed(sampleStream(false), (f) => frames.push(f));
    expect(frames).toEqual([]);

    const reentrant = client();
    expect(() => reentrant.feed(sampleStream(false), () => reentrant.feed(Buffer.alloc(0), ignore))).toThrow(
      /own callbacks/,
    );
  });

  it("throws only AmqpCodecError on random bytes after the protocol header", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }), (chunks) => {
        const parser = new FrameParser({ frameMaxBytes: 4096, expectProtocolHeader: true });
        try {
          parser.feed(PROTOCOL_HEADER, ignore, ignore);
          for (const chunk of chunks) parser.feed(Buffer.from(chunk), ignore, ignore);
        } catch (err) {
          expect(err).toBeInstanceOf(AmqpCodecError);
          expect((err as AmqpCodecError).replyCode).toBe(501);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe("protocol header", () => {
  it("reports a header split across chunks once it is complete", () => {
    const result = parseChunks(splitAt(stream, [1, 2, 3, 4, 5, 6, 7]));
    expect(result.headers.map((h) => h.ok)).toEqual([true]);
    expect(comparable(result.frames)).toEqual(expected);
  });

  it("reports a header that is not AMQP 0-9-1 with ok=false and parses nothing after it", () => {
    for (const bad of ["AMQP\x00\x00\x09\x00", "AMQP\x01\x01\x00\x09", "AMQP\x00\x01\x00\x00", "GET / HT"]) {
      const header = Buffer.from(bad, "latin1");
      const rest = sampleStream(false);
      for (const chunks of [
        [Buffer.concat([header, rest])],
        [header.subarray(0, 5), header.subarray(5), rest],
      ]) {
        const result = parseChunks(chunks);
        expect(result.headers).toHaveLength(1);
        expect(result.headers[0]!.ok).toBe(false);
        expect(result.headers[0]!.header.equals(header)).toBe(true);
        expect(result.frames).toEqual([]);
      }
    }
  });

  it("requires onProtocolHeader while a header is expected", () => {
    const parser = new FrameParser({ frameMaxBytes: 4096, expectProtocolHeader: true });
    expect(() => parser.feed(PROTOCOL_HEADER, () => {})).toThrow(/onProtocolHeader is required/);
  });

  it("expects no header on the client side", () => {
    const frames: Frame[] = [];
    new FrameParser({ frameMaxBytes: 4096, expectProtocolHeader: false }).feed(sampleStream(false), (f) =>
      frames.push(f),
    );
    expect(comparable(frames)).toEqual(expected);
  });
});
