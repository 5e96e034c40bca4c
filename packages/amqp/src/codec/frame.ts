// Encoding of whole frames that carry no method: raw frames, the heartbeat, and body frames.
//
//   frame:  +------+---------+--------------+-----------------+------+
//           | type | channel | payload size | payload         | end  |
//           | u8   | u16     | u32          | size bytes      | 0xCE |
//           +------+---------+--------------+-----------------+------+
//
// A frame-max (negotiated in connection.tune) counts the whole frame, so a body frame carries at
// most frameMax - 8 payload bytes. It does not parse frames (frames/frame-parser.ts does).
//
// Buffers: every returned frame is a fresh buffer that copies the payload (the API returns whole
// frames); HEARTBEAT_FRAME is shared and must not be written to.

import { Buffer } from "node:buffer";
import { encodeError } from "./codec-error.js";
import { FRAME_END, FrameType } from "../generated/protocol.js";
import { checkUint, FRAME_HEADER_SIZE, WireWriter } from "./wire-writer.js";

/** Header plus frame-end: what a frame costs on top of its payload. */
export const FRAME_OVERHEAD_BYTES = FRAME_HEADER_SIZE + 1;

const KNOWN_FRAME_TYPES: ReadonlySet<number> = new Set(Object.values(FrameType));

/** Encodes one frame of a known type around `payload` (copied). */
export function encodeFrame(type: number, channel: number, payload: Uint8Array): Buffer {
  if (!KNOWN_FRAME_TYPES.has(type)) throw encodeError(`unknown frame type ${type}`);
  const w = WireWriter.frame(type, channel, payload.length);
  w.raw(payload);
  return w.finishFrame();
}

/** The heartbeat frame: type 8, channel 0, empty payload. */
export const HEARTBEAT_FRAME: Buffer = Buffer.from([FrameType.Heartbeat, 0, 0, 0, 0, 0, 0, FRAME_END]);

/**
 * Splits a body into body frames of at most `frameMaxBytes` each (header and frame-end
 * included). An empty body gives no frames: the content header's body size of 0 says it all.
 */
export function encodeBodyFrames(channel: number, body: Uint8Array, frameMaxBytes: number): Buffer[] {
  checkUint(frameMaxBytes, 0xffff_ffff, "frameMaxBytes");
  if (frameMaxBytes <= FRAME_OVERHEAD_BYTES) {
    throw encodeError(`frameMaxBytes ${frameMaxBytes} leaves no room for a payload`);
  }
  const maxPayloadBytes = frameMaxBytes - FRAME_OVERHEAD_BYTES;
  const frames: Buffer[] = [];
  for (let start = 0; start < body.length; start += maxPayloadBytes) {
    const end = Math.min(start + maxPayloadBytes, body.length);
    const w = WireWriter.frame(FrameType.Body, channel, end - start);
    w.raw(body.subarray(start, end));
    frames.push(w.finishFrame());
  }
  return frames;
}
