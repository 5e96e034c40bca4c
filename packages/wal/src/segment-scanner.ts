/**
 * Reads one segment file front to back and hands every valid record to a callback, in chunks, so a
 * segment is never held in memory whole (a record larger than a chunk is read in one piece).
 *
 * Two modes, because a bad record means different things in different places:
 *  - "tail" (the last segment, at open): the first invalid record marks where the unsynced, torn part
 *    of the log begins; scanning stops there and the caller cuts the file.
 *  - "sealed" (every other segment): the segment was synced before the next one was created, so a bad
 *    record is damage. A record with a plausible length is skipped and counted; otherwise the rest of
 *    the segment is abandoned. Both are logged with segment and offset.
 *
 * In both modes, all-zero space from a record boundary to the end of the file is the prefill window's
 * zero tail (prefill-window.ts), not damage: the scan ends there cleanly and reports its size. Zeros
 * followed by anything else are a hole: the torn tail in "tail" mode, damage in "sealed" mode.
 *
 * It never returns bad bytes as a record. It throws WAL_UNSUPPORTED_FORMAT for a segment written by a
 * newer format version, rather than guessing. The chunk buffer is its own; payloads handed out are
 * copies that the callback may keep.
 */
import { Buffer } from "node:buffer";
import { WalError } from "./errors.js";
import type { FileIo } from "./file-io.js";
import { type DecodedRecord, decodeRecord, RECORD_HEADER_BYTES } from "./record-format.js";
import { checkSegmentHeader, SEGMENT_HEADER_BYTES, type SegmentHeaderCheck } from "./segment-format.js";
import type { ReplayedRecord, WalLogger } from "./wal-types.js";

/** 1 MiB: a 64 MiB segment is 64 reads, and the buffer is small next to the records it replays. */
const READ_CHUNK_BYTES = 1024 * 1024;

export type ScanMode = "tail" | "sealed";

export interface SegmentScan {
  io: FileIo;
  fd: number;
  segment: number;
  fileSizeBytes: number;
  mode: ScanMode;
  logger: WalLogger;
  onRecord: (record: ReplayedRecord) => void;
}

export interface SegmentScanResult {
  header: SegmentHeaderCheck;
  /** Offset just past the last record accepted (tail mode: where the file should be cut). */
  validEndOffset: number;
  corruptRecords: number;
  /** Tail mode: why the scan stopped before the end of the file (not set for a clean zero tail). */
  stopReason?: string;
  /** Bytes of all-zero tail after the last record (the prefill window's zeros), 0 if none. */
  zeroTailBytes: number;
}

/** A window of the file kept in one reusable buffer. */
class ChunkedReader {
  buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
  #windowStart = 0;
  #windowEnd = 0;

  constructor(
    private readonly io: FileIo,
    private readonly fd: number,
    private readonly fileSizeBytes: number,
  ) {}

  /** Index in `buffer` where the window ends. */
  get endIndex(): number {
    return this.#windowEnd - this.#windowStart;
  }

  /** Makes file bytes [offset, offset + length) available; returns the index of `offset` in `buffer`. */
  async load(offset: number, length: number): Promise<number> {
    if (offset >= this.#windowStart && offset + length <= this.#windowEnd) return offset - this.#windowStart;
    const wanted = Math.min(Math.max(READ_CHUNK_BYTES, length), this.fileSizeBytes - offset);
    if (this.buffer.length < wanted) this.buffer = Buffer.allocUnsafe(wanted);
    let filled = 0;
    while (filled < wanted) {
      const bytesRead = await this.io.read(this.fd, this.buffer, filled, wanted - filled, offset + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    this.#windowStart = offset;
    this.#windowEnd = offset + filled;
    if (filled < length) {
      throw new WalError(
        "WAL_IO_FAILED",
        `segment file shrank while being read (wanted ${length} bytes at ${offset})`,
      );
    }
    return 0;
  }
}

function describeInvalid(decoded: Exclude<DecodedRecord, { kind: "record" }>): string {
  switch (decoded.kind) {
    case "incomplete":
      return `record runs past the end of the file (needs ${decoded.neededBytes} bytes)`;
    case "zero-fill":
      return "zero-filled space";
    case "bad-length":
      return `implausible payload length ${decoded.payloadBytes}`;
    case "bad-checksum":
      return "crc32 mismatch";
    case "bad-type":
      return "record type 0 (reserved)";
  }
}

async function decodeAt(
  reader: ChunkedReader,
  offset: number,
  availableBytes: number,
): Promise<DecodedRecord> {
  let index = await reader.load(offset, Math.min(RECORD_HEADER_BYTES, availableBytes));
  let decoded = decodeRecord(reader.buffer, index, reader.endIndex);
  if (decoded.kind === "incomplete" && decoded.neededBytes <= availableBytes) {
    index = await reader.load(offset, decoded.neededBytes);
    decoded = decodeRecord(reader.buffer, index, reader.endIndex);
  }
  return decoded;
}

/**
 * Wraps the owner's callback so that a caller can tell the owner's own exception (which must reach the
 * owner unchanged) from an I/O failure (which it wraps in a WalError).
 */
export function guardOwnerCallback(onRecord: (record: ReplayedRecord) => void): {
  onRecord: (record: ReplayedRecord) => void;
  thrown: () => { error: unknown } | undefined;
} {
  let thrown: { error: unknown } | undefined;
  return {
    onRecord: (record) => {
      try {
        onRecord(record);
      } catch (error) {
        thrown = { error };
        throw error;
      }
    },
    thrown: () => thrown,
  };
}

export async function scanSegment(scan: SegmentScan): Promise<SegmentScanResult> {
  const { segment, fileSizeBytes, logger } = scan;
  const reader = new ChunkedReader(scan.io, scan.fd, fileSizeBytes);
  const headerBytes = Math.min(SEGMENT_HEADER_BYTES, fileSizeBytes);
  const headerIndex = await reader.load(0, headerBytes);
  const header = checkSegmentHeader(reader.buffer.subarray(headerIndex, headerIndex + headerBytes), segment);
  if (header.kind === "unsupported-version") {
    throw new WalError(
      "WAL_UNSUPPORTED_FORMAT",
      `segment ${segment} has format version ${header.version}; this @leveret/wal reads version 1 only`,
    );
  }
  if (header.kind === "short") return { header, validEndOffset: 0, corruptRecords: 0, zeroTailBytes: 0 };
  let offset = SEGMENT_HEADER_BYTES;
  let corruptRecords = 0;
  while (offset < fileSizeBytes) {
    const decoded = await decodeAt(reader, offset, fileSizeBytes - offset);
    if (decoded.kind === "record") {
      // payloadOffset indexes the reusable chunk buffer: copy, so the callee may keep the payload.
      const payload = Buffer.from(
        reader.buffer.subarray(decoded.payloadOffset, decoded.payloadOffset + decoded.payloadBytes),
      );
      scan.onRecord({
        type: decoded.type,
        payload,
        position: { segment, offset, length: decoded.totalBytes },
      });
      offset += decoded.totalBytes;
      continue;
    }
    if (decoded.kind === "zero-fill" && (await allZero(reader, offset, fileSizeBytes))) {
      return { header, validEndOffset: offset, corruptRecords, zeroTailBytes: fileSizeBytes - offset };
    }
    const reason = describeInvalid(decoded);
    if (scan.mode === "tail") {
      return { header, validEndOffset: offset, corruptRecords, stopReason: reason, zeroTailBytes: 0 };
    }
    corruptRecords += 1;
    if (decoded.kind === "bad-checksum" || decoded.kind === "bad-type") {
      logger.error({ segment, offset, reason }, "wal: skipped a corrupt record in a sealed segment");
      offset += decoded.totalBytes;
      continue;
    }
    logger.error(
      { segment, offset, reason, abandonedBytes: fileSizeBytes - offset },
      "wal: abandoned the rest of a sealed segment (no plausible record length to resync on)",
    );
    return { header, validEndOffset: offset, corruptRecords, zeroTailBytes: 0 };
  }
  return { header, validEndOffset: offset, corruptRecords, zeroTailBytes: 0 };
}

/** True when every byte of the file from `offset` to `end` is zero (read a chunk at a time). */
async function allZero(reader: ChunkedReader, offset: number, end: number): Promise<boolean> {
  for (let at = offset; at < end; ) {
    const length = Math.min(READ_CHUNK_BYTES, end - at);
    const index = await reader.load(at, length);
    const chunk = reader.buffer.subarray(index, index + length);
    for (let i = 0; i < chunk.length; i += 1) if (chunk[i] !== 0) return false;
    at += length;
  }
  return true;
}
