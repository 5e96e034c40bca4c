/**
 * Opening a WAL directory: replays every segment in order and repairs the end of the last one.
 *
 * Rules (docs/storage-format.md): sealed segments are scanned in "sealed" mode (a corrupt record is
 * skipped and counted, never replayed); the last segment is scanned in "tail" mode and cut back, durably,
 * to its last valid record, since whatever follows was never synced and so never confirmed. A torn or
 * missing header on the last segment is rewritten; on a sealed segment it is logged and the records
 * are still read (each carries its own checksum). A zero tail (the prefill window's zeros after the
 * last record) is no damage anywhere: on the last segment it is cut off without a warning (and the
 * writer prefills again), and a sealed segment whose sealing truncation a crash undid is reported
 * at its logical size and trimmed the same way, so that the directory again holds zeros only in the
 * last segment.
 *
 * It does not create the first segment or decide where appends go next (the Wal does). It holds at
 * most one segment's read chunk in memory; payloads go to `onRecord` as copies.
 */
import { describeError, errnoCode, WalError } from "./errors.js";
import type { FileIo } from "./file-io.js";
import type { SegmentFiles } from "./segment-files.js";
import { encodeSegmentHeader, SEGMENT_HEADER_BYTES, type SegmentHeaderCheck } from "./segment-format.js";
import { guardOwnerCallback, type SegmentScanResult, scanSegment } from "./segment-scanner.js";
import type { ReplayedRecord, WalLogger } from "./wal-types.js";

export interface RecoveredSegment {
  segment: number;
  sizeBytes: number;
}

export interface RecoveryResult {
  /** In ascending order; the last one is where appends continue. Empty for an empty directory. */
  segments: RecoveredSegment[];
  corruptRecordsSkipped: number;
  tornTailBytesTruncated: number;
  syncs: number;
}

interface RecoveryContext {
  io: FileIo;
  files: SegmentFiles;
  logger: WalLogger;
  onRecord: (record: ReplayedRecord) => void;
}

const PERMISSION_ERRORS = new Set(["EACCES", "EPERM", "EROFS"]);

/** Wraps an I/O failure during recovery: a permission problem makes the directory unusable. */
function recoveryFailure(action: string, error: unknown): unknown {
  if (error instanceof WalError) return error;
  const code = PERMISSION_ERRORS.has(errnoCode(error) ?? "") ? "WAL_DIR_UNUSABLE" : "WAL_IO_FAILED";
  return new WalError(code, `${action} failed: ${describeError(error)}`, error);
}

function headerProblem(header: SegmentHeaderCheck): string | undefined {
  switch (header.kind) {
    case "ok":
      return undefined;
    case "wrong-segment":
      return `header names segment ${header.foundSegment}`;
    default:
      return `header is ${header.kind}`;
  }
}

export async function recoverSegments(
  context: RecoveryContext,
  segmentNumbers: readonly number[],
): Promise<RecoveryResult> {
  const owner = guardOwnerCallback(context.onRecord);
  const result: RecoveryResult = {
    segments: [],
    corruptRecordsSkipped: 0,
    tornTailBytesTruncated: 0,
    syncs: 0,
  };
  for (const [index, segment] of segmentNumbers.entries()) {
    const isLast = index === segmentNumbers.length - 1;
    const path = context.files.pathOf(segment);
    let lease: Awaited<ReturnType<SegmentFiles["acquire"]>>;
    try {
      lease = await context.files.acquire(segment);
    } catch (error) {
      throw recoveryFailure(`opening segment file ${path}`, error);
    }
    try {
      const sizeBytes = await context.io.fileSize(lease.fd);
      const scan = await scanSegment({
        io: context.io,
        fd: lease.fd,
        segment,
        fileSizeBytes: sizeBytes,
        mode: isLast ? "tail" : "sealed",
        logger: context.logger,
        onRecord: owner.onRecord,
      });
      result.corruptRecordsSkipped += scan.corruptRecords;
      const finalSizeBytes = isLast
        ? await repairTail(context, lease.fd, segment, sizeBytes, scan, result)
        : await trimSealedZeroTail(context, lease.fd, segment, scan, result, sizeBytes);
      result.segments.push({ segment, sizeBytes: finalSizeBytes });
    } catch (error) {
      const ownerThrew = owner.thrown();
      if (ownerThrew !== undefined) throw ownerThrew.error;
      throw recoveryFailure(`recovering segment file ${path}`, error);
    } finally {
      lease.release();
    }
  }
  return result;
}

function reportSealedHeader(
  logger: WalLogger,
  segment: number,
  scan: SegmentScanResult,
  sizeBytes: number,
): number {
  const problem = headerProblem(scan.header);
  if (problem !== undefined) {
    logger.error(
      { segment, problem, sizeBytes },
      "wal: sealed segment has a damaged header; its records were still read",
    );
  }
  return sizeBytes;
}

/** A sealed segment's size without its zero tail, which is cut off (durably) if it has one. */
async function trimSealedZeroTail(
  context: RecoveryContext,
  fd: number,
  segment: number,
  scan: SegmentScanResult,
  result: RecoveryResult,
  sizeBytes: number,
): Promise<number> {
  reportSealedHeader(context.logger, segment, scan, sizeBytes);
  if (scan.zeroTailBytes === 0) return sizeBytes;
  const logicalBytes = sizeBytes - scan.zeroTailBytes;
  await context.io.ftruncate(fd, logicalBytes);
  result.syncs += 1;
  await context.io.fdatasync(fd);
  return logicalBytes;
}

/** Cuts the last segment back to its last valid record and rewrites a torn header. Returns its size. */
async function repairTail(
  context: RecoveryContext,
  fd: number,
  segment: number,
  sizeBytes: number,
  scan: SegmentScanResult,
  result: RecoveryResult,
): Promise<number> {
  const { io, logger } = context;
  const headerTorn = scan.header.kind !== "ok";
  const validEndOffset = scan.header.kind === "short" ? 0 : scan.validEndOffset;
  if (validEndOffset === sizeBytes && !headerTorn) return sizeBytes;
  if (validEndOffset < sizeBytes && scan.zeroTailBytes === sizeBytes - validEndOffset) {
    // Only the prefill window's zeros: nothing torn, nothing to warn about. Still counted in
    // tornTailBytesTruncated, which has always included zero-filled tails.
    await io.ftruncate(fd, validEndOffset);
    result.tornTailBytesTruncated += sizeBytes - validEndOffset;
  } else if (validEndOffset < sizeBytes) {
    const cutBytes = sizeBytes - validEndOffset;
    logger.warn(
      { segment, offset: validEndOffset, cutBytes, reason: scan.stopReason ?? "short header" },
      "wal: cut a torn or unsynced tail off the last segment (never confirmed, so nothing confirmed is lost)",
    );
    await io.ftruncate(fd, validEndOffset);
    result.tornTailBytesTruncated += cutBytes;
  }
  if (headerTorn) {
    logger.warn(
      { segment, problem: headerProblem(scan.header) },
      "wal: rewrote the torn header of the last segment",
    );
    const header = encodeSegmentHeader(segment);
    const written = await io.writev(fd, [header], 0);
    if (written !== SEGMENT_HEADER_BYTES) {
      throw new WalError(
        "WAL_IO_FAILED",
        `short write (${written} bytes) rewriting the header of segment ${segment}`,
      );
    }
  }
  result.syncs += 1;
  await io.fdatasync(fd);
  return Math.max(validEndOffset, SEGMENT_HEADER_BYTES);
}
