/**
 * The frames of one message sent to a client (basic.deliver, basic.get-ok, basic.return): the method
 * frame, the content header frame and the body in frames of at most frame-max.
 *
 * A body that fits one frame and is small goes out in a single buffer with the method and header
 * frames (the header frame written straight into it): one socket write per delivery instead of five
 * (method, header, body-frame header, body, frame end), each of which cost the stream a request object
 * and a place in the writev. Copying a few KiB is cheaper than that. Larger bodies are referenced, not
 * copied: the body frames point into the message's own buffer.
 *
 * Buffers: the returned parts may reference `body`, which must not change until they are written.
 */
import { Buffer } from "node:buffer";
import { ClassId, encodeContentHeaderFrameFromPropertyBytes, FRAME_END, FrameType } from "../codec/index.js";

/** Bodies up to this size are copied into the one buffer of their delivery. */
export const COPIED_BODY_MAX_BYTES = 4096;
const FRAME_HEADER_BYTES = 7;
/** class-id, weight and body size, before the property list. */
const HEADER_FIXED_BYTES = 12;
const FRAME_END_BYTE = Buffer.from([FRAME_END]);

function bodyFrameHeader(channel: number, size: number): Buffer {
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  writeFrameHeader(header, 0, FrameType.Body, channel, size);
  return header;
}

/** `methodFrame` is the encoded method frame; the parts, written in order, are the whole message. */
export function contentFrames(
  channel: number,
  methodFrame: Buffer,
  rawProperties: Buffer,
  body: Buffer,
  frameMaxBytes: number,
): Buffer[] {
  const maxPayload = frameMaxBytes - FRAME_HEADER_BYTES - 1;
  // The one-buffer form writes the header frame itself; the encoder checks what it needs to (a
  // property list holds at least its two flag bytes) and frames everything else.
  if (body.length > 0 && body.length <= COPIED_BODY_MAX_BYTES && body.length <= maxPayload && rawProperties.length >= 2) {
    return [oneBuffer(channel, methodFrame, rawProperties, body)];
  }
  const parts = [methodFrame, encodeContentHeaderFrameFromPropertyBytes(channel, ClassId.Basic, body.length, rawProperties)];
  for (let offset = 0; offset < body.length; offset += maxPayload) {
    const piece = body.subarray(offset, Math.min(body.length, offset + maxPayload));
    parts.push(bodyFrameHeader(channel, piece.length), piece, FRAME_END_BYTE);
  }
  return parts;
}

/** Method frame, content header frame (class basic, weight 0) and the one body frame, back to back. */
function oneBuffer(channel: number, methodFrame: Buffer, rawProperties: Buffer, body: Buffer): Buffer {
  const headerPayloadBytes = HEADER_FIXED_BYTES + rawProperties.length;
  const whole = Buffer.allocUnsafe(
    methodFrame.length + FRAME_HEADER_BYTES + headerPayloadBytes + 1 + FRAME_HEADER_BYTES + body.length + 1,
  );
  let at = methodFrame.copy(whole, 0);
  at = writeFrameHeader(whole, at, FrameType.Header, channel, headerPayloadBytes);
  at = whole.writeUInt16BE(ClassId.Basic, at);
  at = whole.writeUInt16BE(0, at); // weight, unused in 0-9-1
  at = whole.writeUInt32BE(0, at); // body size, high half (the body is at most a few KiB)
  at = whole.writeUInt32BE(body.length, at);
  at += rawProperties.copy(whole, at);
  whole[at++] = FRAME_END;
  at = writeFrameHeader(whole, at, FrameType.Body, channel, body.length);
  at += body.copy(whole, at);
  whole[at] = FRAME_END;
  return whole;
}

function writeFrameHeader(target: Buffer, at: number, type: number, channel: number, size: number): number {
  target[at] = type;
  target.writeUInt16BE(channel, at + 1);
  target.writeUInt32BE(size, at + 3);
  return at + FRAME_HEADER_BYTES;
}
