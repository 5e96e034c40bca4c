// Method frames: decoding a method frame's payload into a typed AmqpMethod, and encoding a method
// as a complete frame. The per-method work is generated (src/generated/protocol.ts); this module
// adds the framing around it and turns decode failures into errors that name the method.
//
// Decoding is strict: unknown class/method ids are 503 COMMAND_INVALID, arguments that run short,
// carry an unknown table type or leave trailing bytes are 502 SYNTAX_ERROR, and the error carries
// the class and method ids for the connection.close that follows. It does not check whether the
// method is allowed in the current state (that is the connection and channel machines' job).
//
// Buffers: the payload may be a view with any byteOffset; decoded arguments never alias it (see
// wire-reader.ts). Encoded frames are freshly allocated and owned by the caller.

import { AmqpCodecError, CodecErrorCode, encodeError, syntaxError } from "./codec-error.js";
import {
  type AmqpMethod,
  decodeMethodArguments,
  METHOD_FRAME_ENCODERS,
  type MethodArgs,
  type MethodName,
  methodName,
} from "../generated/protocol.js";
import { WireReader } from "./wire-reader.js";

/**
 * Decodes the payload of a method frame (class id, method id, arguments). Throws AmqpCodecError:
 * 503 for an unknown method, 502 for arguments that do not parse.
 */
export function decodeMethod(payload: Buffer): AmqpMethod {
  if (payload.length < 4) {
    throw syntaxError(`a method frame payload of ${payload.length} byte(s) cannot hold class and method ids`);
  }
  const classId = (payload[0]! << 8) | payload[1]!;
  const methodId = (payload[2]! << 8) | payload[3]!;
  const r = new WireReader(payload, 4, payload.length);
  let method: AmqpMethod | undefined;
  try {
    method = decodeMethodArguments(classId, methodId, r);
    if (method !== undefined) r.expectEnd(`the arguments of ${method.name}`);
  } catch (err) {
    if (!(err instanceof AmqpCodecError)) throw err;
    const name = methodName(classId, methodId) ?? `method ${classId}/${methodId}`;
    throw new AmqpCodecError(err.code, `cannot decode ${name}: ${err.message}`, {
      classId,
      methodId,
      cause: err,
    });
  }
  if (method === undefined) {
    throw new AmqpCodecError(
      CodecErrorCode.CommandInvalid,
      `unknown method: class id ${classId}, method id ${methodId}`,
      { classId, methodId },
    );
  }
  return method;
}

/** Encodes a method as a complete frame: header, class and method ids, arguments, frame-end. */
export function encodeMethodFrame<K extends MethodName>(
  channel: number,
  name: K,
  args: MethodArgs[K],
): Buffer {
  if (!Object.hasOwn(METHOD_FRAME_ENCODERS, name)) {
    throw encodeError(`unknown method name "${String(name)}"`);
  }
  if (typeof args !== "object" || args === null) {
    throw encodeError(`the arguments of ${name} must be an object`);
  }
  return METHOD_FRAME_ENCODERS[name](channel, args);
}
