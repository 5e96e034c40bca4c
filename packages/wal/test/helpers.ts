/**
 * Shared test helpers: temporary directories, a logger that records instead of printing, and
 * deterministic payloads whose bytes say which record they belong to.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach } from "vitest";
import type { ReplayedRecord, WalLogger } from "../src/index.js";

export interface LogEntry {
  level: "error" | "warn";
  obj: object;
  msg: string;
}

export interface RecordingLogger extends WalLogger {
  entries: LogEntry[];
}

export function recordingLogger(): RecordingLogger {
  const entries: LogEntry[] = [];
  return {
    entries,
    error: (obj, msg) => entries.push({ level: "error", obj, msg }),
    warn: (obj, msg) => entries.push({ level: "warn", obj, msg }),
  };
}

const tempDirs: string[] = [];

/** A fresh directory under the OS temp dir, removed after the test. */
export function tempDir(prefix = "leveret-wal-"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** `sizeBytes` bytes that encode `seq` and vary with it, so a swapped or shifted record shows. */
export function payloadFor(seq: number, sizeBytes: number): Buffer {
  const payload = Buffer.alloc(sizeBytes);
  for (let i = 0; i < sizeBytes; i += 1) payload[i] = (seq * 31 + i * 7) & 0xff;
  if (sizeBytes >= 4) payload.writeUInt32LE(seq >>> 0, 0);
  return payload;
}

export interface Collected {
  records: ReplayedRecord[];
  onRecord: (record: ReplayedRecord) => void;
}

export function collector(): Collected {
  const records: ReplayedRecord[] = [];
  return { records, onRecord: (record) => records.push(record) };
}

export function segmentFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((name) => name.endsWith(".wal"))
    .sort();
}
