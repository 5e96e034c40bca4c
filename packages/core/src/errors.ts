/**
 * The errors the routing core raises. Each has a stable `code`; the AMQP adapter maps codes to reply
 * codes (and to channel vs connection close) in one table. Messages are written for the person who
 * reads them in a client's exception: they name the entity and the vhost.
 */
export type CoreErrorCode =
  | "CORE_NOT_FOUND"
  | "CORE_PRECONDITION_FAILED"
  | "CORE_RESOURCE_LOCKED"
  | "CORE_ACCESS_REFUSED"
  | "CORE_NOT_ALLOWED"
  | "CORE_NOT_IMPLEMENTED"
  | "CORE_RESOURCE_ERROR"
  | "CORE_COMMAND_INVALID"
  | "CORE_INTERNAL_ERROR";

export class CoreError extends Error {
  constructor(
    readonly code: CoreErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "CoreError";
  }
}

export const notFound = (message: string) => new CoreError("CORE_NOT_FOUND", message);
export const preconditionFailed = (message: string) => new CoreError("CORE_PRECONDITION_FAILED", message);
export const resourceLocked = (message: string) => new CoreError("CORE_RESOURCE_LOCKED", message);
export const accessRefused = (message: string) => new CoreError("CORE_ACCESS_REFUSED", message);
export const notAllowed = (message: string) => new CoreError("CORE_NOT_ALLOWED", message);
export const notImplemented = (message: string) => new CoreError("CORE_NOT_IMPLEMENTED", message);
export const resourceError = (message: string) => new CoreError("CORE_RESOURCE_ERROR", message);

/**
 * A broken invariant is a bug: fail loudly instead of limping on with corrupt state. On hot paths write
 * `if (!ok) assert(false, \`…${detail}\`)`: arguments are evaluated before the call, so a template
 * string passed directly is built on every call, even when the check passes.
 */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new CoreError("CORE_INTERNAL_ERROR", `invariant violated: ${message}`);
}
export const commandInvalid = (message: string) => new CoreError("CORE_COMMAND_INVALID", message);
