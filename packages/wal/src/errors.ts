/**
 * WalError, the one error class of @leveret/wal, and the helpers that turn an errno from the file
 * system into the right WalError.
 *
 * It does not decide what to do about a failure (the Wal does: roll back on a full disk, enter the
 * failed state on a failed sync). It owns no buffers.
 */

/** Stable strings: callers switch on them, so never rename one. */
export type WalErrorCode =
  | "WAL_CLOSED"
  | "WAL_FAILED"
  | "WAL_NO_SPACE"
  | "WAL_SYNC_FAILED"
  | "WAL_CORRUPT_RECORD"
  | "WAL_DIR_UNUSABLE"
  | "WAL_SEGMENT_ACTIVE"
  | "WAL_INVALID_ARGUMENT"
  | "WAL_IO_FAILED"
  | "WAL_UNSUPPORTED_FORMAT"
  | "WAL_UNSUPPORTED_RUNTIME"
  | "WAL_ASSERTION_FAILED";

export class WalError extends Error {
  readonly code: WalErrorCode;
  override readonly cause?: unknown;

  constructor(code: WalErrorCode, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "WalError";
    this.code = code;
    if (cause !== undefined) this.cause = cause;
  }
}

/** The errno name (`ENOSPC`, `EIO`…) of a file-system error, if it has one. */
export function errnoCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

/**
 * A full disk or an exhausted quota: the write did not happen, nothing else is wrong, and a later
 * write may succeed once space is freed. Every other write error is treated as fatal.
 */
export function isNoSpaceError(error: unknown): boolean {
  const code = errnoCode(error);
  return code === "ENOSPC" || code === "EDQUOT";
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/**
 * TigerBeetle-style assertion: a broken invariant on the storage path is a bug, and carrying on could
 * write garbage over good data, so fail loudly instead.
 */
export function assertWal(condition: unknown, message: string): asserts condition {
  if (!condition) throw walAssertionError(message);
}

/** The error assertWal throws, as a value, for invariants checked where a callback reports failures. */
export function walAssertionError(message: string): WalError {
  return new WalError("WAL_ASSERTION_FAILED", `@leveret/wal invariant violated: ${message}`);
}
