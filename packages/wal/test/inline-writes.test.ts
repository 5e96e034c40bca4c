/**
 * Inline record writes (writeMode "inline"): the policy that moves them to the thread pool after a
 * stall or a slow average and back after the cooldown (with a clock the test drives), and the Wal
 * taking either path on real files and on MemoryFileIo.
 */
import { describe, expect, it } from "vitest";
import { InlineWritePolicy } from "../src/inline-write-policy.js";
import {
  COOLDOWN_MS,
  type FileIo,
  MemoryFileIo,
  NodeFileIo,
  SLOW_AVERAGE_MS,
  STALL_MS,
  Wal,
} from "../src/index.js";
import { collector, payloadFor, recordingLogger, tempDir } from "./helpers.js";

function manualClock(): { now: () => number; advance: (ms: number) => void } {
  let time = 1000;
  return { now: () => time, advance: (ms) => (time += ms) };
}

describe("InlineWritePolicy", () => {
  it("keeps writes inline while they are fast", () => {
    const clock = manualClock();
    const logger = recordingLogger();
    const policy = new InlineWritePolicy("inline", logger, clock.now);
    for (let i = 0; i < 1000; i += 1) {
      expect(policy.inline).toBe(true);
      policy.noteInlineWrite(0.3);
    }
    expect(policy.inlineWrites).toBe(1000);
    expect(logger.entries).toEqual([]);
  });

  it("sends writes to the thread pool for the cooldown after one stalled write, then inline again", () => {
    const clock = manualClock();
    const logger = recordingLogger();
    const policy = new InlineWritePolicy("inline", logger, clock.now);
    policy.noteInlineWrite(0.3);
    policy.noteInlineWrite(STALL_MS);
    expect(policy.inline).toBe(false);
    expect(logger.entries).toHaveLength(1);
    expect(logger.entries[0]).toMatchObject({
      level: "warn",
      obj: { writeMs: STALL_MS, cooldownMs: COOLDOWN_MS },
    });
    expect(logger.entries[0]!.msg).toContain("stalled");
    clock.advance(COOLDOWN_MS - 1);
    expect(policy.inline).toBe(false);
    clock.advance(1);
    expect(policy.inline).toBe(true);
    // The average starts afresh: fast writes stay inline.
    policy.noteInlineWrite(0.3);
    expect(policy.inline).toBe(true);
  });

  it("sends writes to the thread pool when they are slow on average, not for one outlier", () => {
    const clock = manualClock();
    const logger = recordingLogger();
    const policy = new InlineWritePolicy("inline", logger, clock.now);
    for (let i = 0; i < 100; i += 1) policy.noteInlineWrite(0.3);
    policy.noteInlineWrite(30); // an outlier below the stall limit: the average moves by ~1 ms
    expect(policy.inline).toBe(true);
    let writes = 0;
    while (policy.inline) {
      policy.noteInlineWrite(SLOW_AVERAGE_MS * 2);
      writes += 1;
      expect(writes).toBeLessThan(200);
    }
    expect(writes).toBeGreaterThan(1);
    expect(logger.entries).toHaveLength(1);
    expect(logger.entries[0]!.msg).toContain("slow on average");
  });

  it('never writes inline in "thread-pool" mode', () => {
    const policy = new InlineWritePolicy("thread-pool", recordingLogger(), manualClock().now);
    expect(policy.inline).toBe(false);
  });
});

/** A FileIo over MemoryFileIo whose next inline write blocks the thread for `blockMs` (Atomics.wait). */
class StallingIo implements FileIo {
  asyncWrites = 0;
  stallNextMs = 0;
  constructor(readonly inner: MemoryFileIo) {}
  open: FileIo["open"] = (p, m) => this.inner.open(p, m);
  writev: FileIo["writev"] = (fd, buffers, position) => {
    this.asyncWrites += 1;
    return this.inner.writev(fd, buffers, position);
  };
  writevSync(fd: number, buffers: readonly Buffer[], position: number): number {
    if (this.stallNextMs > 0) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, this.stallNextMs);
      this.stallNextMs = 0;
    }
    return this.inner.writevSync(fd, buffers, position);
  }
  read: FileIo["read"] = (fd, b, o, l, p) => this.inner.read(fd, b, o, l, p);
  fdatasync: FileIo["fdatasync"] = (fd) => this.inner.fdatasync(fd);
  ftruncate: FileIo["ftruncate"] = (fd, size) => this.inner.ftruncate(fd, size);
  fileSize: FileIo["fileSize"] = (fd) => this.inner.fileSize(fd);
  close: FileIo["close"] = (fd) => this.inner.close(fd);
  unlink: FileIo["unlink"] = (p) => this.inner.unlink(p);
  readdir: FileIo["readdir"] = (d) => this.inner.readdir(d);
  mkdir: FileIo["mkdir"] = (d) => this.inner.mkdir(d);
  syncDir: FileIo["syncDir"] = (d) => this.inner.syncDir(d);
}

describe("Wal record writes", () => {
  it("run on the calling thread by default, on real files, and replay intact", async () => {
    const dir = tempDir();
    const wal = await Wal.open({ dir, logger: recordingLogger() }, () => {});
    for (let seq = 0; seq < 50; seq += 1) {
      wal.append(1, payloadFor(seq, 1024));
      if (seq % 5 === 4) await wal.commit();
    }
    const stats = wal.stats();
    // Not all of them necessarily: a write of 100 ms on a busy test machine sends the rest to the pool.
    expect(stats.writes).toBeGreaterThanOrEqual(10);
    expect(stats.inlineWrites).toBeGreaterThan(0);
    await wal.close();
    const replay = collector();
    await (
      await Wal.open({ dir, fileIo: new NodeFileIo(), logger: recordingLogger() }, replay.onRecord)
    ).close();
    expect(replay.records.map((r) => r.payload)).toEqual(
      Array.from({ length: 50 }, (_, seq) => payloadFor(seq, 1024)),
    );
  });

  it('go through the thread pool with writeMode "thread-pool"', async () => {
    const dir = tempDir();
    const wal = await Wal.open({ dir, logger: recordingLogger(), writeMode: "thread-pool" }, () => {});
    wal.append(1, payloadFor(0, 100));
    await wal.commit();
    expect(wal.stats().writes).toBeGreaterThan(0);
    expect(wal.stats().inlineWrites).toBe(0);
    await wal.close();
  });

  it("move to the thread pool after an inline write stalls, with a warning, and lose nothing", async () => {
    const io = new StallingIo(new MemoryFileIo());
    const logger = recordingLogger();
    const wal = await Wal.open({ dir: "/wal", fileIo: io, logger }, () => {});
    wal.append(1, payloadFor(0, 100));
    await wal.commit();
    const asyncBefore = io.asyncWrites; // zero-fills only
    expect(wal.stats().inlineWrites).toBe(wal.stats().writes);
    io.stallNextMs = STALL_MS + 20;
    wal.append(1, payloadFor(1, 100));
    await wal.commit();
    const inlineAfterStall = wal.stats().inlineWrites;
    for (let seq = 2; seq < 12; seq += 1) {
      wal.append(1, payloadFor(seq, 100));
      await wal.commit();
    }
    expect(wal.stats().inlineWrites).toBe(inlineAfterStall);
    expect(io.asyncWrites - asyncBefore).toBeGreaterThanOrEqual(10);
    expect(logger.entries.filter((e) => e.level === "warn").map((e) => e.msg)).toEqual([
      "wal: a write on the event loop stalled; record writes go to the thread pool for a while",
    ]);
    await wal.close();
    const replay = collector();
    await (
      await Wal.open({ dir: "/wal", fileIo: io.inner, logger: recordingLogger() }, replay.onRecord)
    ).close();
    expect(replay.records.map((r) => r.payload)).toEqual(
      Array.from({ length: 12 }, (_, seq) => payloadFor(seq, 100)),
    );
  });

  it("reject an invalid writeMode", async () => {
    await expect(
      Wal.open({ dir: "/wal", fileIo: new MemoryFileIo(), writeMode: "sometimes" as never }, () => {}),
    ).rejects.toMatchObject({ code: "WAL_INVALID_ARGUMENT", message: expect.stringContaining("writeMode") });
  });

  it("refuse to run inline on a MemoryFileIo that must hold or delay writes", () => {
    const io = new MemoryFileIo({ latency: { seed: 1, maxTurns: 2 } });
    expect(() => io.writevSync(3, [Buffer.from("x")], 0)).toThrow(/thread-pool/);
  });
});
