/**
 * A protocol error to report to the peer: a reply code, a text, the method that caused it, and whether
 * it closes the channel or the whole connection. Thrown anywhere inside method handling and caught in
 * exactly one place per scope (Channel.handleFrame / ServerConnection.handleFrame), which sends
 * channel.close or connection.close.
 */
import { isHardError, replyText } from "./codec/index.js";

export type ErrorScope = "channel" | "connection";

export class AmqpError extends Error {
  readonly code: string;
  constructor(
    readonly replyCode: number,
    message: string,
    readonly scope: ErrorScope,
    readonly classId = 0,
    readonly methodId = 0,
  ) {
    super(message);
    this.name = "AmqpError";
    this.code = `AMQP_${replyText(replyCode)}`;
  }
}

/** The spec's hard errors close the connection; all others close only the channel. */
export function scopeOf(replyCode: number): ErrorScope {
  return isHardError(replyCode) ? "connection" : "channel";
}

export function protocolError(replyCode: number, message: string, classId = 0, methodId = 0): AmqpError {
  return new AmqpError(replyCode, message, scopeOf(replyCode), classId, methodId);
}
