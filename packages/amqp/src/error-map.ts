/**
 * The one table from the core's error codes to AMQP reply codes. The scope (channel vs connection)
 * follows the spec's hard/soft classification of the reply code, as RabbitMQ does.
 */
import { CoreError, type CoreErrorCode } from "@leveret/core";
import { AmqpError, protocolError } from "./amqp-error.js";

const REPLY_CODE_OF: Record<CoreErrorCode, number> = {
  CORE_ACCESS_REFUSED: 403,
  CORE_NOT_FOUND: 404,
  CORE_RESOURCE_LOCKED: 405,
  CORE_PRECONDITION_FAILED: 406,
  CORE_RESOURCE_ERROR: 506,
  CORE_COMMAND_INVALID: 503,
  CORE_NOT_ALLOWED: 530,
  CORE_NOT_IMPLEMENTED: 540,
  CORE_INTERNAL_ERROR: 541,
};

/** Turns anything thrown while handling a method into the AmqpError to send. */
export function toAmqpError(error: unknown, classId: number, methodId: number): AmqpError {
  if (error instanceof AmqpError) {
    if (error.classId === 0 && classId !== 0) {
      return new AmqpError(error.replyCode, error.message, error.scope, classId, methodId);
    }
    return error;
  }
  if (error instanceof CoreError) {
    return protocolError(REPLY_CODE_OF[error.code], error.message, classId, methodId);
  }
  const replyCode = (error as { replyCode?: unknown }).replyCode;
  if (typeof replyCode === "number") {
    return protocolError(replyCode, (error as Error).message, classId, methodId);
  }
  return protocolError(541, `internal error: ${(error as Error)?.message ?? String(error)}`, classId, methodId);
}
