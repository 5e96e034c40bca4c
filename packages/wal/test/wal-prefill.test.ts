/**
 * The prefill window: zeros written and synced ahead of the records of the active segment, so that
 * group-commit writes overwrite allocated blocks. What must hold: a record write is never issued over
 * a zero write still in flight; steady-state record writes do not grow the file; sealed segments and
 * a closed WAL carry no zeros; zero tails anywhere recover cleanly; a full disk during a zero-fill is
 * not an error, any other zero-fill failure is fatal.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { MemoryFileIo, segmentFileName, Wal, WalError } from "../src/index.js";
import { collector, payloadFor, recordingLogger, tempDir } from "./helpers.js";
import { ZeroWatchingIo } from "./zero-watching-io.js";

const DIR = "/data/wal";

function segmentPath(segment: number): string {
  return `${DIR}/${segmentFileName(segment)}`;
}

async function turns(count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

/** A real directory whose segment 1 is sealed: 20 records in 512-byte segments, the WAL closed. */
async function sealedFirstSegment(): Promise<{ dir: string; sealed: string }> {
  const dir = tempDir();
  const wal = await Wal.open({ dir, segmentSizeBytes: 512, logger: recordingLogger() }, () => {});
  for (let seq = 0; seq < 20; seq += 1) wal.append(1, payloadFor(seq, 60));
  await wal.close();
  return { dir, sealed: path.join(dir, segmentFileName(1)) };
}

describe("prefillBytes option", () => {
  for (const bad of [-1, 1.5, 2 * 1024 * 1024 * 1024, Number.NaN]) {
    it(`rejects ${bad} with WAL_INVALID_ARGUMENT naming the option`, async () => {
      const error = await Wal.open(
        { dir: DIR, fileIo: new MemoryFileIo(), prefillBytes: bad },
        () => {},
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WalError);
      expect(error).toMatchObject({ code: "WAL_INVALID_ARGUMENT" });
      expect((error as Error).message).toContain("prefillBytes");
    });
  }

  it("with 0, writes no zeros and every record write extends the file (today's behaviour)", async () => {
    const io = new ZeroWatchingIo();
    const wal = await Wal.open(
      { dir: DIR, fileIo: io, prefillBytes: 0, logger: recordingLogger() },
      () => {},
    );
    for (let seq = 0; seq < 20; seq += 1) {
      wal.append(1, payloadFor(seq, 100));
      await wal.commit();
    }
    expect(io.zeroWrites).toBe(0);
    expect(io.extendingRecordWrites).toBe(io.recordWrites);
    expect(wal.stats()).toMatchObject({ prefillWrites: 0, prefillBytes: 0 });
    await wal.close();
  });
});

describe("prefill window", () => {
  it("keeps steady-state record writes from growing the file, across rotations", async () => {
    const io = new ZeroWatchingIo();
    const wal = await Wal.open(
      {
        dir: DIR,
        fileIo: io,
        segmentSizeBytes: 64 * 1024,
        prefillBytes: 16 * 1024,
        logger: recordingLogger(),
      },
      () => {},
    );
    for (let seq = 0; seq < 600; seq += 1) {
      wal.append(1, payloadFor(seq, 1000));
      await wal.commit();
    }
    expect(wal.segments().length).toBeGreaterThan(5);
    expect(io.recordWrites).toBeGreaterThanOrEqual(600);
    expect(io.extendingRecordWrites).toBe(0);
    expect(io.overlaps).toEqual([]);
    const stats = wal.stats();
    expect(stats.prefillWrites).toBe(io.zeroWrites);
    expect(stats.prefillBytes).toBeGreaterThan(600 * 1000);
    await wal.close();
  });

  it("keeps the active file within a window of its records, and sealed and closed files without zeros", async () => {
    const io = new MemoryFileIo();
    const windowBytes = 8192;
    const wal = await Wal.open(
      {
        dir: DIR,
        fileIo: io,
        segmentSizeBytes: 32 * 1024,
        prefillBytes: windowBytes,
        logger: recordingLogger(),
      },
      () => {},
    );
    for (let seq = 0; seq < 200; seq += 1) {
      wal.append(1, payloadFor(seq, 300 + (seq % 7) * 50));
      if (seq % 3 !== 0) continue;
      await wal.commit(); // segments() counts records not yet written: compare once they are
      for (const info of wal.segments()) {
        const physical = io.fileContent(segmentPath(info.segment))?.length ?? 0;
        if (info.sealed) expect(physical, `sealed segment ${info.segment}`).toBe(info.sizeBytes);
        else expect(physical).toBeLessThanOrEqual(Math.max(info.sizeBytes, 0) + windowBytes);
      }
    }
    await wal.commit();
    const active = wal.segments().at(-1)!;
    expect(io.fileContent(segmentPath(active.segment))!.length).toBeGreaterThan(active.sizeBytes);
    await wal.close();
    expect(io.fileContent(segmentPath(active.segment))!.length).toBe(active.sizeBytes);
    const replay = collector();
    const again = await Wal.open({ dir: DIR, fileIo: io, logger: recordingLogger() }, replay.onRecord);
    expect(replay.records.length).toBe(200);
    expect(again.stats().tornTailBytesTruncated).toBe(0);
    await again.close();
  });

  it("lays no zeros ahead of large record writes, where they would cost more bandwidth than they save", async () => {
    const io = new ZeroWatchingIo();
    const wal = await Wal.open({ dir: DIR, fileIo: io, prefillBytes: 1024 * 1024, logger: recordingLogger() }, () => {});
    const commitLarge = async (seq: number) => {
      for (let i = 0; i < 200; i += 1) wal.append(1, payloadFor(seq * 200 + i, 1024)); // ~200 KiB per write
      await wal.commit();
    };
    for (let seq = 0; seq < 12; seq += 1) await commitLarge(seq);
    await turns(5);
    const zeroWritesBefore = io.zeroWrites;
    for (let seq = 12; seq < 40; seq += 1) await commitLarge(seq);
    await turns(5);
    expect(io.zeroWrites).toBe(zeroWritesBefore);
    expect(io.extendingRecordWrites).toBeGreaterThan(10);
    // Small writes again: the zeros come back.
    for (let seq = 0; seq < 200; seq += 1) {
      wal.append(1, payloadFor(seq, 100));
      await wal.commit();
    }
    await turns(5);
    expect(io.zeroWrites).toBeGreaterThan(zeroWritesBefore);
    await wal.close();
  });

  it("holds a record write whose range reaches into a zero write in flight until that zero write returns", async () => {
    const io = new ZeroWatchingIo();
    // A 64-byte window refilled 16 bytes at a time: the second record reaches into the next zero chunk.
    const wal = await Wal.open(
      { dir: DIR, fileIo: io, prefillBytes: 64, segmentSizeBytes: 4096, logger: recordingLogger() },
      () => {},
    );
    io.holdZeroWrites = true;
    wal.append(1, payloadFor(0, 31)); // [16, 56): clear of the zeros it sets off at [80, 96)
    const first = wal.commit();
    await turns(3);
    expect(io.heldZeroWrites).toBe(1);
    await first; // the first record did not overlap the held zero write: it went through
    const recordWritesBefore = io.recordWrites;
    wal.append(1, payloadFor(1, 41)); // [56, 106): overlaps the zero write held at [80, 96)
    let settled = false;
    const second = wal.commit().then(() => {
      settled = true;
    });
    await turns(10);
    expect(io.recordWrites, "the record write was issued over a zero write in flight").toBe(
      recordWritesBefore,
    );
    expect(settled).toBe(false);
    io.holdZeroWrites = false;
    io.releaseZeroWrites();
    await second;
    expect(io.overlaps).toEqual([]);
    expect(io.recordWrites).toBe(recordWritesBefore + 1);
    await wal.close();
    const replay = collector();
    await (await Wal.open({ dir: DIR, fileIo: io, logger: recordingLogger() }, replay.onRecord)).close();
    expect(replay.records.map((r) => r.payload.readUInt32LE(0))).toEqual([0, 1]);
  });

  it("never issues a record write over a zero write in flight under a heavy overlapping workload", async () => {
    const io = new ZeroWatchingIo(new MemoryFileIo({ latency: { seed: 5, maxTurns: 8 } }));
    const wal = await Wal.open(
      { dir: DIR, fileIo: io, prefillBytes: 256, segmentSizeBytes: 2048, logger: recordingLogger() },
      () => {},
    );
    const commits: Promise<void>[] = [];
    for (let seq = 0; seq < 400; seq += 1) {
      wal.append(1, payloadFor(seq, 10 + ((seq * 37) % 120)));
      if (seq % 2 === 0) commits.push(wal.commit());
      if (seq % 5 === 0) await turns(1);
    }
    await Promise.all(commits);
    await wal.close();
    expect(io.zeroWrites).toBeGreaterThan(20);
    expect(io.overlaps).toEqual([]);
    const replay = collector();
    await (await Wal.open({ dir: DIR, fileIo: io, logger: recordingLogger() }, replay.onRecord)).close();
    expect(replay.records.map((r) => r.payload.readUInt32LE(0))).toEqual(
      Array.from({ length: 400 }, (_, i) => i),
    );
  });
});

describe("zero tails at recovery", () => {
  it("recovers the last segment's zero tail after a crash without a warning, keeping every record", async () => {
    const io = new MemoryFileIo();
    const logger = recordingLogger();
    const wal = await Wal.open({ dir: DIR, fileIo: io, prefillBytes: 4096, logger }, () => {});
    for (let seq = 0; seq < 10; seq += 1) wal.append(1, payloadFor(seq, 50));
    await wal.commit();
    const end = wal.segments()[0]!.sizeBytes;
    io.crash();
    expect(io.fileContent(segmentPath(1))!.length).toBeGreaterThan(end); // the synced zeros survived
    const replay = collector();
    const reopened = await Wal.open({ dir: DIR, fileIo: io, prefillBytes: 0, logger }, replay.onRecord);
    expect(replay.records.length).toBe(10);
    expect(reopened.stats().corruptRecordsSkipped).toBe(0);
    expect(logger.entries).toEqual([]);
    expect(io.fileContent(segmentPath(1))!.length).toBe(end);
    await reopened.close();
  });

  it("reads a sealed segment with a zero tail as complete, not corrupt, and trims it", async () => {
    const { dir, sealed } = await sealedFirstSegment();
    const logicalBytes = fs.statSync(sealed).size;
    fs.appendFileSync(sealed, Buffer.alloc(10_000)); // as if a crash undid the sealing truncation
    const logger = recordingLogger();
    const replay = collector();
    const reopened = await Wal.open({ dir, segmentSizeBytes: 512, logger }, replay.onRecord);
    expect(replay.records.map((r) => r.payload.readUInt32LE(0))).toEqual(
      Array.from({ length: 20 }, (_, i) => i),
    );
    expect(reopened.stats().corruptRecordsSkipped).toBe(0);
    expect(logger.entries).toEqual([]);
    expect(fs.statSync(sealed).size).toBe(logicalBytes);
    expect(reopened.segments()[0]).toMatchObject({ segment: 1, sizeBytes: logicalBytes, sealed: true });
    await reopened.close();
  });

  it("still reports damage when the zeros in a sealed segment are followed by other bytes", async () => {
    const { dir, sealed } = await sealedFirstSegment();
    fs.appendFileSync(sealed, Buffer.concat([Buffer.alloc(100), Buffer.from([1, 2, 3])]));
    const reopened = await Wal.open({ dir, segmentSizeBytes: 512, logger: recordingLogger() }, () => {});
    expect(reopened.stats().corruptRecordsSkipped).toBe(1);
    await reopened.close();
  });
});

describe("zero-fill failures", () => {
  it("on a full disk, stops prefilling with a warning, keeps accepting records, and tries again in the next segment", async () => {
    const io = new ZeroWatchingIo();
    const logger = recordingLogger();
    const wal = await Wal.open(
      { dir: DIR, fileIo: io, prefillBytes: 8192, segmentSizeBytes: 32 * 1024, logger },
      () => {},
    );
    io.failZeroWrites = 1;
    let seq = 0;
    while (wal.activeSegment === 1) {
      wal.append(1, payloadFor(seq, 200));
      seq += 1;
      await wal.commit();
    }
    expect(wal.failed).toBe(false);
    expect(wal.blockedByDiskFull).toBe(false);
    expect(logger.entries).toEqual([
      expect.objectContaining({ level: "warn", msg: expect.stringContaining("zero-filling") }),
    ]);
    expect(io.extendingRecordWrites).toBeGreaterThan(0); // segment 1 fell back to extending writes
    const extendingBefore = io.extendingRecordWrites;
    const zeroWritesBefore = io.zeroWrites;
    for (let i = 0; i < 40; i += 1) {
      wal.append(1, payloadFor(seq, 200));
      seq += 1;
      await wal.commit();
    }
    expect(io.zeroWrites).toBeGreaterThan(zeroWritesBefore); // segment 2 prefills again
    expect(io.extendingRecordWrites).toBe(extendingBefore);
    await wal.close();
    const replay = collector();
    await (await Wal.open({ dir: DIR, fileIo: io, logger: recordingLogger() }, replay.onRecord)).close();
    expect(replay.records.length).toBe(seq);
  });

  it("treats any other zero-fill failure as fatal (WAL_SYNC_FAILED), like a failed fsync", async () => {
    const io = new ZeroWatchingIo();
    const logger = recordingLogger();
    const wal = await Wal.open(
      { dir: DIR, fileIo: io, prefillBytes: 1024, segmentSizeBytes: 1 << 20, logger },
      () => {},
    );
    io.failZeroWrites = 1;
    io.failZeroCode = "EIO";
    const outcome = async (): Promise<unknown> => {
      for (let seq = 0; seq < 50; seq += 1) {
        wal.append(1, payloadFor(seq, 100));
        await wal.commit();
      }
      return undefined;
    };
    const error = await outcome().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "WAL_SYNC_FAILED" });
    expect(wal.failed).toBe(true);
    expect(() => wal.append(1, Buffer.from("x"))).toThrow(expect.objectContaining({ code: "WAL_FAILED" }));
    expect(logger.entries.some((e) => e.level === "error")).toBe(true);
    await wal.close().catch(() => {});
  });

  it("a failed zero-fill sync is fatal too", async () => {
    const io = new MemoryFileIo();
    const wal = await Wal.open(
      { dir: DIR, fileIo: io, prefillBytes: 1024, segmentSizeBytes: 1 << 20, logger: recordingLogger() },
      () => {},
    );
    const before = io.counters.syncs;
    // With O_DSYNC record writes, the next fdatasync is the one of the background zero-fill.
    io.failNextSync("EIO");
    const error = await (async () => {
      for (let seq = 0; seq < 50; seq += 1) {
        wal.append(1, payloadFor(seq, 100));
        await wal.commit();
      }
    })().catch((e: unknown) => e);
    expect(io.counters.syncs).toBeGreaterThanOrEqual(before);
    expect(error).toMatchObject({ code: "WAL_SYNC_FAILED" });
    expect(wal.failed).toBe(true);
    await wal.close().catch(() => {});
  });
});
