/**
 * The frames of one message sent to a client (basic.deliver, basic.get-ok, basic.return): the method
 * frame, the content header frame and the body in frames of at most frame-max.
 *
 * A body that fits one frame and is small goes out in a single buffer with the method and header
 * frames: one socket write per delivery instead of five (method, header, body-frame header, body,
 * frame end), each of which cost the stream a request object and a place in the writev. Copying a
 * few KiB is cheaper than that. Larger bodies are referenced, not copied: the body frames point into
 * the message's own buffer.
 *
 * Buffers: the returned parts may reference `body`, which must not change until they are written.
 */
import { ClassId, encodeContentHeaderFrameFromPropertyBytes, FRAME_END, FrameType } from "../codec/index.js";

/** Bodies up to this size are copied into the one buffer of their delivery. */
export const COPIED_BODY_MAX_BYTES = 4096;
const FRAME_HEADER_BYTES = 7;
const FRAME_END_BYTE = Buffer.from([FRAME_END]);

function bodyFrameHeader(channel: number, size: number): Buffer {
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header[0] = FrameType.Body;
  header.writeUInt16BE(channel, 1);
  header.writeUInt32BE(size, 3);
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
  const headerFrame = encodeContentHeaderFrameFromPropertyBytes(channel, ClassId.Basic, body.length, rawProperties);
  const maxPayload = frameMaxBytes - FRAME_HEADER_BYTES - 1;
  if (body.length === 0) return [methodFrame, headerFrame];
  if (body.length <= COPIED_BODY_MAX_BYTES && body.length <= maxPayload) {
    const whole = Buffer.allocUnsafe(methodFrame.length + headerFrame.length + FRAME_HEADER_BYTES + body.length + 1);
    let at = methodFrame.copy(whole, 0);
    at += headerFrame.copy(whole, at);
    whole[at] = FrameType.Body;
    whole.writeUInt16BE(channel, at + 1);
    whole.writeUInt32BE(body.length, at + 3);
    at += FRAME_HEADER_BYTES;
    at += body.copy(whole, at);
    whole[at] = FRAME_END;
    return [whole];
  }
  const parts = [methodFrame, headerFrame];
  for (let offset = 0; offset < body.length; offset += maxPayload) {
    const piece = body.subarray(offset, Math.min(body.length, offset + maxPayload));
    parts.push(bodyFrameHeader(channel, piece.length), piece, FRAME_END_BYTE);
  }
  return parts;
}
