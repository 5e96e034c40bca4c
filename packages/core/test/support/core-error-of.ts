/** The CoreError a call throws, as {code, message}; undefined if it does not throw (other errors rethrown). */
import { CoreError } from "../../src/errors.js";

export function coreErrorOf(fn: () => unknown): { code: string; message: string } | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof CoreError) return { code: error.code, message: error.message };
    throw error;
  }
  return undefined;
}
