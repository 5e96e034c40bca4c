// Content headers: the frame between a content-carrying method (basic.publish, basic.deliver,
// basic.get-ok, basic.return) and its body frames, and the basic property list inside it.
//
//   content header payload:
//   +----------+-----------+-------------------+----------------+----------------------------+
//   | class-id | weight    | body size         | property flags | present properties, in     |
//   | u16 (60) | u16 (0)   | u64               | u16, bit 15 =  | flag order (shortstr,      |
//   |          |           |                   | content-type   | table, octet, timestamp)   |
//   +----------+-----------+-------------------+----------------+----------------------------+
//
// Only class basic (60) carries content in 0-9-1, so a header for any other class is refused with
// 505 UNEXPECTED_FRAME (RabbitMQ's answer to a header that does not belong to the method before
// it). The weight is ignored on decode and written as 0. A body size beyond 2^53 - 1 cannot be a
// JS number and is refused with 502; so is anything that does not parse or leaves trailing bytes.
// The property list alone (flags + properties) is what the broker stores with a message, so that
// a delivery can reuse the bytes a publisher sent (encodeContentHeaderFrameFromPropertyBytes).
//
// Buffers: decoded properties never alias the payload; encoders return fresh buffers.

import { AmqpCodecError, CodecErrorCode, encodeError } from "./codec-error.js";
import {
  type BasicProperties,
  ClassId,
  decodeBasicPropertiesList,
  encodeBasicPropertiesList,
  FrameType,
} from "../generated/protocol.js";
import { WireReader } from "./wire-reader.js";
import { WireWriter } from "./wire-writer.js";

export interface ContentHeader {
  classId: number;
  bodySize: number;
  properties: BasicProperties;
}

/** Bytes of a content header payload before its property list. */
const HEADER_FIXED_BYTES = 12;

function checkContentClass(classId: number): void {
  if (classId !== ClassId.Basic) {
    throw new AmqpCodecError(
      CodecErrorCode.UnexpectedFrame,
      `content header for class ${classId}; only class basic (${ClassId.Basic}) carries content`,
      { classId },
    );
  }
}

/** Decodes a content header frame's payload. */
export function decodeContentHeader(payload: Buffer): ContentHeader {
  const r = new WireReader(payload, 0, payload.length);
  const classId = r.u16();
  r.u16(); // weight: unused by 0-9-1
  const bodySize = r.u64Exact("the content body size");
  checkContentClass(classId);
  const properties = decodeBasicPropertiesList(r);
  r.expectEnd("the content header");
  return { classId, bodySize, properties };
}

/** Encodes a content header frame from properties. */
export function encodeContentHeaderFrame(
  channel: number,
  classId: number,
  bodySize: number,
  properties: BasicProperties,
): Buffer {
  return encodeContentHeaderFrameFromPropertyBytes(
    channel,
    classId,
    bodySize,
    encodeBasicPropertiesList(properties),
  );
}

/**
 * Encodes a content header frame around a property list that is already encoded (from
 * encodeBasicProperties, or stored as received), without decoding and re-encoding it.
 */
export function encodeContentHeaderFrameFromPropertyBytes(
  channel: number,
  classId: number,
  bodySize: number,
  propertyBytes: Uint8Array,
): Buffer {
  if (classId !== ClassId.Basic) {
    throw encodeError(
      `content header for class ${classId}; only class basic (${ClassId.Basic}) carries content`,
    );
  }
  if (propertyBytes.length < 2) {
    throw encodeError(`a property list holds at least its 2 flag bytes, got ${propertyBytes.length}`);
  }
  const w = WireWriter.frame(FrameType.Header, channel, HEADER_FIXED_BYTES + propertyBytes.length);
  w.u16(classId, "content header class-id");
  w.u16(0, "content header weight");
  w.u64(bodySize, "content body size");
  w.raw(propertyBytes);
  return w.finishFrame();
}

/** Encodes basic properties as a property list (flags + present properties), for storage. */
export function encodeBasicProperties(properties: BasicProperties): Buffer {
  return encodeBasicPropertiesList(properties);
}

/** Decodes a property list that fills `buf` exactly (the inverse of encodeBasicProperties). */
export function decodeBasicProperties(buf: Buffer): BasicProperties {
  const r = new WireReader(buf, 0, buf.length);
  const properties = decodeBasicPropertiesList(r);
  r.expectEnd("the basic property list");
  return properties;
}
