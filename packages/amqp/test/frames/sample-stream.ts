// A sample connection stream for the parser tests (protocol header, then method, content header,
// body, heartbeat and edge-case frames), and an independent one-shot reference parser that the
// incremental parser must agree with.

import {
  encodeBodyFrames,
  encodeContentHeaderFrame,
  encodeFrame,
  encodeMethodFrame,
  type Frame,
  FrameParser,
  FrameType,
  HEARTBEAT_FRAME,
  PROTOCOL_HEADER,
} from "../../src/codec/index.js";

export function sampleFrames(): Buffer[] {
  const body = Buffer.alloc(300);
  for (let i = 0; i < body.length; i++) body[i] = (i * 7) & 0xff;
  return [
    encodeMethodFrame(0, "connection.start-ok", {
      clientProperties: { product: "test", capabilities: { publisher_confirms: true } },
      mechanism: "PLAIN",
      response: Buffer.from("\0guest\0guest"),
      locale: "en_US",
    }),
    encodeMethodFrame(1, "basic.publish", {
      exchange: "",
      routingKey: "q",
      mandatory: true,
      immediate: false,
    }),
    encodeContentHeaderFrame(1, 60, body.length, {
      contentType: "application/octet-stream",
      deliveryMode: 2,
      headers: { "x-trace": "abc", n: 1 },
    }),
    ...encodeBodyFrames(1, body, 128),
    HEARTBEAT_FRAME,
    encodeFrame(FrameType.Body, 65535, Buffer.alloc(0)),
    encodeMethodFrame(65535, "basic.ack", { deliveryTag: 2 ** 40, multiple: true }),
  ];
}

export function sampleStream(withProtocolHeader = true): Buffer {
  const frames = sampleFrames();
  return Buffer.concat(withProtocolHeader ? [PROTOCOL_HEADER, ...frames] : frames);
}

/** Splits a whole stream of frames the simple way, for comparison. */
export function referenceFrames(stream: Buffer, skipProtocolHeader = true): Frame[] {
  const frames: Frame[] = [];
  let pos = skipProtocolHeader ? 8 : 0;
  while (pos < stream.length) {
    const size = stream.readUInt32BE(pos + 3);
    frames.push({
      type: stream[pos]!,
      channel: stream.readUInt16BE(pos + 1),
      payload: Buffer.from(stream.subarray(pos + 7, pos + 7 + size)),
    });
    pos += 8 + size;
  }
  return frames;
}

export interface ParseResult {
  frames: Frame[];
  headers: { header: Buffer; ok: boolean }[];
}

/** Feeds chunks to a fresh server-side parser and collects what it reports. */
export function parseChunks(chunks: Buffer[], frameMaxBytes = 4096): ParseResult {
  const parser = new FrameParser({ frameMaxBytes, expectProtocolHeader: true });
  const result: ParseResult = { frames: [], headers: [] };
  const onFrame = (frame: Frame) => result.frames.push(frame);
  const onHeader = (header: Buffer, ok: boolean) => result.headers.push({ header, ok });
  for (const chunk of chunks) parser.feed(chunk, onFrame, onHeader);
  return result;
}

/** Cuts `data` at the given offsets (any order, duplicates allowed). */
export function splitAt(data: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts)].filter((c) => c > 0 && c < data.length).sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of [...points, data.length]) {
    chunks.push(data.subarray(start, point));
    start = point;
  }
  return chunks;
}

/**
 * Copies a chunk into the middle of a larger ArrayBuffer filled with bytes that look like frame
 * data (0xce, frame types), and returns a Buffer view of it with a non-zero byteOffset.
 */
export function asOffsetView(chunk: Buffer, padBefore: number, padAfter = 11): Buffer {
  const backing = new ArrayBuffer(padBefore + chunk.length + padAfter);
  const all = new Uint8Array(backing);
  for (let i = 0; i < all.length; i++) all[i] = i % 3 === 0 ? 0xce : i % 3 === 1 ? 0x01 : 0x08;
  all.set(chunk, padBefore);
  return Buffer.from(backing, padBefore, chunk.length);
}

/** Frames as plain comparable data (payloads copied into hex). */
export function comparable(frames: Frame[]): { type: number; channel: number; payload: string }[] {
  return frames.map((f) => ({ type: f.type, channel: f.channel, payload: f.payload.toString("hex") }));
}
