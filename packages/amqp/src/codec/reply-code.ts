// Reply-code helpers over the generated table: the spec name of a code and whether it is a hard
// (connection) error. Deciding what to close is the connection layer's job, not this module's.

import { HARD_ERROR_REPLY_CODES, REPLY_CODE_NAMES } from "../generated/protocol.js";

const HARD_ERRORS: ReadonlySet<number> = new Set(HARD_ERROR_REPLY_CODES);

/** The spec's name of a reply code (404 -> "NOT_FOUND"); unknown codes get "UNKNOWN_REPLY_CODE_<n>". */
export function replyText(code: number): string {
  return REPLY_CODE_NAMES[code] ?? `UNKNOWN_REPLY_CODE_${code}`;
}

/** True for reply codes that the spec classes as hard errors (they close the whole connection). */
export function isHardError(code: number): boolean {
  return HARD_ERRORS.has(code);
}
