export { AmqpError, protocolError, scopeOf } from "./amqp-error.js";
export type { ErrorScope } from "./amqp-error.js";
export { toAmqpError } from "./error-map.js";
export { GUEST_USER, isLoopback, StaticAuthenticator } from "./connection/authenticator.js";
export type { Authenticator, AuthResult, StaticUser } from "./connection/authenticator.js";
export type { ConnectionLimits, ConnectionLogger } from "./connection/server-connection.js";
export { basicPropertiesCodec } from "./properties-codec.js";
export { AmqpServer } from "./server.js";
export type { AmqpServerOptions } from "./server.js";
export {
  AmqpCodecError,
  decodeBasicProperties,
  decodeContentHeader,
  decodeMethod,
  decodeTable,
  encodeBasicProperties,
  encodeBodyFrames,
  encodeContentHeaderFrame,
  encodeFrame,
  encodeMethodFrame,
  encodeTable,
  FRAME_END,
  FrameParser,
  FrameType,
  HEARTBEAT_FRAME,
  METHOD_INFO,
  PROTOCOL_HEADER,
  ReplyCode,
  replyText,
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
