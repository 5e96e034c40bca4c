// AmqpCodecError: the one error type that the codec and the frame parser throw.
//
// It carries the AMQP reply code that the connection layer should close with (501 for a broken
// frame, 502 for method arguments that do not parse, 503 for an unknown method, 505 for a content
// header of a class that has no content) plus the class and method ids of the offending method,
// so the caller can build `connection.close` from the error alone. It does not close anything
// itself. Encoding problems (a value that does not fit its wire type) are the caller's bug, not
// the peer's: they carry code AMQP_ENCODE_ERROR and reply code 541 INTERNAL_ERROR.
//
// The reply code numbers are repeated here instead of imported from generated/protocol.ts, so
// that the generated file (which imports the reader and writer, which throw these errors) and
// this module do not import each other. A test checks that the numbers agree with the spec.

/** Stable codes of AmqpCodecError; one per reply code the codec can produce. */
export const CodecErrorCode = {
  FrameError: "AMQP_FRAME_ERROR",
  SyntaxError: "AMQP_SYNTAX_ERROR",
  CommandInvalid: "AMQP_COMMAND_INVALID",
  UnexpectedFrame: "AMQP_UNEXPECTED_FRAME",
  EncodeError: "AMQP_ENCODE_ERROR",
} as const;
export type CodecErrorCode = (typeof CodecErrorCode)[keyof typeof CodecErrorCode];

/** The reply code that goes with each error code (values from the spec's constants). */
export const CODEC_ERROR_REPLY_CODES: { readonly [K in CodecErrorCode]: number } = {
  AMQP_FRAME_ERROR: 501,
  AMQP_SYNTAX_ERROR: 502,
  AMQP_COMMAND_INVALID: 503,
  AMQP_UNEXPECTED_FRAME: 505,
  AMQP_ENCODE_ERROR: 541,
};

export interface AmqpCodecErrorOptions {
  /** Class id of the method being decoded, 0 when the error is not about a method. */
  classId?: number;
  /** Method id of the method being decoded, 0 when the error is not about a method. */
  methodId?: number;
  cause?: unknown;
}

export class AmqpCodecError extends Error {
  override readonly name = "AmqpCodecError";
  readonly code: CodecErrorCode;
  readonly replyCode: number;
  readonly classId: number;
  readonly methodId: number;

  constructor(code: CodecErrorCode, message: string, options: AmqpCodecErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.replyCode = CODEC_ERROR_REPLY_CODES[code];
    this.classId = options.classId ?? 0;
    this.methodId = options.methodId ?? 0;
  }
}

export function frameError(message: string): AmqpCodecError {
  return new AmqpCodecError(CodecErrorCode.FrameError, message);
}

export function syntaxError(message: string): AmqpCodecError {
  return new AmqpCodecError(CodecErrorCode.SyntaxError, message);
}

export function encodeError(message: string): AmqpCodecError {
  return new AmqpCodecError(CodecErrorCode.EncodeError, message);
}
