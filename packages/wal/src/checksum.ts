/**
 * CRC-32 of a record's type byte and payload, computed with `zlib.crc32` (built into Node since
 * v20.15 and v22.2). On an older Node this module refuses to load with a clear error instead of
 * falling back to a slow JavaScript CRC.
 *
 * It does not know where records live. It reads the caller's buffers and keeps none.
 */
import * as zlib from "node:zlib";
import { WalError } from "./errors.js";

type Crc32 = (data: NodeJS.ArrayBufferView, value?: number) => number;

const maybeCrc32 = (zlib as { crc32?: Crc32 }).crc32;
if (typeof maybeCrc32 !== "function") {
  throw new WalError(
    "WAL_UNSUPPORTED_RUNTIME",
    `@leveret/wal needs zlib.crc32 (Node >= 20.15 or >= 22.2); this is Node ${process.version}`,
  );
}
const crc32: Crc32 = maybeCrc32;

/** crc32 of the single type byte, one per type, so a record checksum starts without an allocation. */
const typeSeeds: readonly number[] = Array.from({ length: 256 }, (_, type) => crc32(Uint8Array.of(type)));

/**
 * CRC-32 of `type` followed by every part of the payload, as if they were one contiguous buffer.
 *
 * Empty parts are skipped, not passed on: an empty view of a zero-length ArrayBuffer reaches zlib as a
 * NULL pointer, and zlib's crc32(crc, NULL, 0) returns 0 (its "initial value" convention) instead of
 * `crc`, which wrote checksum 0 for empty payloads (found by the rotation property test).
 */
export function recordChecksum(type: number, payload: Uint8Array | readonly Uint8Array[]): number {
  let crc = typeSeeds[type]!;
  if (payload instanceof Uint8Array) return payload.length === 0 ? crc : crc32(payload, crc);
  for (const part of payload) if (part.length > 0) crc = crc32(part, crc);
  return crc;
}
