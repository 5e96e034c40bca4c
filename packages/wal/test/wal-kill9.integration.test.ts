/**
 * kill -9: a child process appends and commits records and prints each committed sequence number;
 * it is killed with SIGKILL at random moments, several rounds in a row on the same directory. After
 * each kill, every printed record must replay intact (the child's own Wal recovers the directory at
 * the start of the next round, so recovery after a kill is exercised too).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createRequire } from "node:module";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { Wal } from "../src/index.js";
import { recordingLogger, tempDir } from "./helpers.js";

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const fixture = path.join(packageDir, "test", "fixtures", "append-and-print.mjs");
const ROUNDS = 10;
const SEGMENT_SIZE_BYTES = 256 * 1024;

function sizeFor(seq: number): number {
  return seq % 17 === 0 ? 20_000 + (seq % 5000) : 16 + ((seq * 37) % 900);
}

function payloadFor(seq: number, sizeBytes: number): Buffer {
  const payload = Buffer.alloc(sizeBytes);
  for (let i = 0; i < sizeBytes; i += 1) payload[i] = (seq * 31 + i * 7) & 0xff;
  payload.writeUInt32LE(seq >>> 0, 0);
  return payload;
}

/** Runs the child until it has printed `killAfterLines` sequence numbers (plus a random moment), then SIGKILLs it. */
function runAndKill(dir: string, firstSeq: number, killAfterLines: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(
      process.execPath,
      [fixture, dir, String(firstSeq), String(SEGMENT_SIZE_BYTES)],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    const printed: number[] = [];
    let pending = "";
    let killing = false;
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => {
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) if (line !== "ready") printed.push(Number(line));
      if (!killing && printed.length >= killAfterLines) {
        killing = true;
        // A random extra moment, so the kill lands anywhere in the write/sync cycle.
        setTimeout(() => child.kill("SIGKILL"), Math.floor(Math.random() * 5));
      }
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (signal !== "SIGKILL") reject(new Error(`child exited with code ${code}, signal ${signal}`));
      else resolve(printed);
    });
  });
}

describe("kill -9", () => {
  beforeAll(() => {
    // The child runs the built package: build it so that it matches the source under test.
    const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
    execFileSync(process.execPath, [tsc, "-b", packageDir], { stdio: "inherit" });
  }, 60_000);

  it("never loses a record whose commit resolved", { timeout: 60_000 }, async () => {
    const dir = tempDir("leveret-wal-kill9-");
    const everPrinted = new Set<number>();
    for (let round = 0; round < ROUNDS; round += 1) {
      const killAfterLines = 50 + Math.floor(Math.random() * 600);
      const printed = await runAndKill(dir, round * 1_000_000, killAfterLines);
      expect(printed.length).toBeGreaterThanOrEqual(killAfterLines);
      for (const seq of printed) everPrinted.add(seq);

      const replayed = new Map<number, Buffer>();
      const logger = recordingLogger();
      const wal = await Wal.open({ dir, segmentSizeBytes: SEGMENT_SIZE_BYTES, logger }, (record) => {
        const seq = record.payload.readUInt32LE(0);
        expect(replayed.has(seq), `seq ${seq} replayed twice`).toBe(false);
        replayed.set(seq, record.payload);
      });
      await wal.close();
      for (const seq of everPrinted)
        expect(replayed.has(seq), `committed seq ${seq} lost in round ${round}`).toBe(true);
      for (const [seq, payload] of replayed) {
        expect(payload.equals(payloadFor(seq, sizeFor(seq))), `seq ${seq} damaged`).toBe(true);
      }
      expect(wal.stats().corruptRecordsSkipped).toBe(0);
      expect(logger.entries.filter((entry) => entry.level === "error")).toEqual([]);
    }
  });
});
