/**
 * CRC-32 (the IEEE polynomial of zlib and gzip) of a record's type byte and payload.
 *
 * Two implementations compute the same function: `@node-rs/crc32` (native, carry-less multiply on
 * x86-64 and ARMv8: ~0.17 µs for 1 KiB on the bench machine) when its prebuilt binary loads on this
 * platform, else `zlib.crc32` (built into Node since v20.15 and v22.2: ~0.31 µs for 1 KiB). The
 * checksum was over half of the event loop's work per appended 1 KiB record (bench/README.md). On a
 * Node with neither, this module refuses to load with a clear error rather than fall back to a slow
 * JavaScript CRC.
 *
 * It does not know where records live. It reads the caller's buffers and keeps none.
 */
import { createRequire } from "node:module";
import * as zlib from "node:zlib";
import { WalError } from "./errors.js";

/** CRC-32 of `data` continuing from `value` (0 to start): the zlib convention. */
export type Crc32 = (data: Uint8Array, value: number) => number;

export type Crc32Implementation = "@node-rs/crc32" | "zlib";

/** zlib's crc32, or undefined on a Node without it. */
export function zlibCrc32(): Crc32 | undefined {
  const crc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
  return typeof crc32 === "function" ? crc32 : undefined;
}

/** The native crc32 of @node-rs/crc32, or undefined when no binary of it loads on this platform. */
export function nativeCrc32(): Crc32 | undefined {
  try {
    const loaded = createRequire(import.meta.url)("@node-rs/crc32") as { crc32?: unknown };
    return typeof loaded.crc32 === "function" ? (loaded.crc32 as Crc32) : undefined;
  } catch {
    // No prebuilt binary for this platform (or the package is missing): zlib's is just as correct.
    return undefined;
  }
}

function unsupportedRuntime(): never {
  throw new WalError(
    "WAL_UNSUPPORTED_RUNTIME",
    `@leveret/wal needs @node-rs/crc32 for this platform or zlib.crc32 (Node >= 20.15 or >= 22.2); this is Node ${process.version}`,
  );
}

const native = nativeCrc32();
const crc32: Crc32 = native ?? zlibCrc32() ?? unsupportedRuntime();

/** Which implementation this process computes checksums with (for logs and benchmarks). */
export const crc32Implementation: Crc32Implementation = native !== undefined ? "@node-rs/crc32" : "zlib";

/** crc32 of the single type byte, one per type, so a record checksum starts without an allocation. */
const typeSeeds: readonly number[] = Array.from({ length: 256 }, (_, type) => crc32(Uint8Array.of(type), 0));

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
