export { AmqpError, protocolError, scopeOf } from "./amqp-error.js";
export type { ErrorScope } from "./amqp-error.js";
export { toAmqpError } from "./error-map.js";
export { AccessControlAuthenticator } from "./connection/access-control-authenticator.js";
export type { AccessControlAuthenticatorOptions } from "./connection/access-control-authenticator.js";
export { GUEST_USER, isLoopback, StaticAuthenticator } from "./connection/authenticator.js";
export type { Authenticator, AuthResult, StaticUser } from "./connection/authenticator.js";
export type { ConnectionLimits, ConnectionLogger } from "./connection/server-connection.js";
export { REPLY_TO_QUEUE, ReplyToRegistry } from "./channel/reply-to-registry.js";
export { basicPropertiesCodec } from "./properties-codec.js";
export { AmqpServer } from "./server.js";
export type { AmqpServerOptions } from "./server.js";
export {
  AmqpCodecError,
  ClassId,
  Decimal,
  decodeBasicProperties,
  decodeContentHeader,
  decodeMethod,
  decodeTable,
  encodeBasicProperties,
  encodeBodyFrames,
  encodeContentHeaderFrame,
  encodeContentHeaderFrameFromPropertyBytes,
  encodeFrame,
  encodeMethodFrame,
  encodeTable,
  FRAME_END,
  FRAME_HEADER_SIZE,
  fieldValueToJs,
  FrameParser,
  FrameType,
  HEARTBEAT_FRAME,
  isHardError,
  METHOD_INFO,
  methodName,
  PROTOCOL_HEADER,
  RawLongString,
  ReplyCode,
  replyText,
  tableToJs,
  TypedNumber,
} from "./codec/index.js";
export type {
  AmqpMethod,
  BasicProperties,
  FieldTable,
  FieldValue,
  Frame,
  MethodArgs,
  MethodName,
} from "./codec/index.js";
