import { describe, expect, it } from "vitest";
import { MemoryFileIo, Wal, type WalState } from "../src/index.js";
import { collector, payloadFor, recordingLogger } from "./helpers.js";

const DIR = "/wal";

async function reopenSeqs(io: MemoryFileIo, segmentSizeBytes?: number): Promise<number[]> {
  const replay = collector();
  const options = {
    dir: DIR,
    fileIo: io,
    logger: recordingLogger(),
    ...(segmentSizeBytes ? { segmentSizeBytes } : {}),
  };
  await (await Wal.open(options, replay.onRecord)).close();
  return replay.records.map((r) => r.payload.readUInt32LE(0));
}

describe("disk full (ENOSPC / EDQUOT)", () => {
  for (const code of ["ENOSPC", "EDQUOT"]) {
    it(`rejects the batch with WAL_NO_SPACE on ${code}, voids it, and recovers once space is back`, async () => {
      const io = new MemoryFileIo();
      const states: WalState[] = [];
      const wal = await Wal.open(
        { dir: DIR, fileIo: io, logger: recordingLogger(), onStateChange: (state) => states.push(state) },
        () => {},
      );
      wal.append(1, payloadFor(0, 50));
      await wal.commit();

      io.failNextWrite(code);
      const lost = wal.append(1, payloadFor(1, 50));
      wal.append(1, payloadFor(2, 50));
      await expect(wal.commit()).rejects.toMatchObject({ code: "WAL_NO_SPACE" });
      expect(wal.blockedByDiskFull).toBe(true);
      expect(states).toEqual([expect.objectContaining({ blockedByDiskFull: true, failed: false })]);

      // Positions are handed out again from where the failed batch began.
      const retried = wal.append(1, payloadFor(3, 50));
      expect(retried).toEqual(lost);
      await wal.commit();
      expect(wal.blockedByDiskFull).toBe(false);
      expect(states.at(-1)).toEqual({ blockedByDiskFull: false, failed: false });
      await wal.close();
      expect(await reopenSeqs(io)).toEqual([0, 3]);
    });
  }

  it("cuts a partly written batch back, so nothing of it is replayed", async () => {
    const io = new MemoryFileIo();
    // Without a prefill window: the batch must extend the file to run out of space part-way.
    const wal = await Wal.open(
      { dir: DIR, fileIo: io, logger: recordingLogger(), prefillBytes: 0 },
      () => {},
    );
    for (let seq = 0; seq < 3; seq += 1) wal.append(1, payloadFor(seq, 100));
    await wal.commit();
    io.capacityBytes = (io.fileContent(`${DIR}/00000000000000000001.wal`)?.length ?? 0) + 250; // room for 2 of 5
    const commits = [];
    for (let seq = 3; seq < 8; seq += 1) {
      wal.append(1, payloadFor(seq, 100));
      commits.push(wal.commit());
    }
    for (const commit of commits) await expect(commit).rejects.toMatchObject({ code: "WAL_NO_SPACE" });
    io.crash(); // only durable state counts
    expect(await reopenSeqs(io)).toEqual([0, 1, 2]);
  });

  it("voids records appended while the failing batch was in flight", async () => {
    const io = new MemoryFileIo();
    const wal = await Wal.open(
      { dir: DIR, fileIo: io, logger: recordingLogger(), writeMode: "thread-pool" },
      () => {},
    );
    io.failNextWrite("ENOSPC");
    const release = io.holdNext("write");
    wal.append(1, payloadFor(0, 10));
    const first = expect(wal.commit()).rejects.toMatchObject({ code: "WAL_NO_SPACE" });
    await new Promise((resolve) => setImmediate(resolve)); // the first batch is now being written
    wal.append(1, payloadFor(1, 10)); // forms the next batch, positioned after the first
    const second = expect(wal.commit()).rejects.toMatchObject({ code: "WAL_NO_SPACE" });
    release();
    await first;
    await second;
    wal.append(1, payloadFor(2, 10));
    await wal.commit();
    await wal.close();
    expect(await reopenSeqs(io)).toEqual([2]);
  });

  it("removes a segment created by the failed batch and rewinds into the previous one", async () => {
    const io = new MemoryFileIo();
    const wal = await Wal.open(
      { dir: DIR, fileIo: io, segmentSizeBytes: 100, logger: recordingLogger() },
      () => {},
    );
    wal.append(1, payloadFor(0, 40));
    await wal.commit();
    wal.append(1, payloadFor(1, 20)); // still fits in segment 1
    wal.append(1, payloadFor(2, 40)); // rotates to segment 2
    io.failNext("write", "ENOSPC"); // the batch's first write (to segment 1) fails
    await expect(wal.commit()).rejects.toMatchObject({ code: "WAL_NO_SPACE" });
    expect(wal.activeSegment).toBe(1);
    expect(wal.segments().map((s) => s.segment)).toEqual([1]);

    wal.append(1, payloadFor(3, 20));
    wal.append(1, payloadFor(4, 40)); // rotates to segment 2 again
    io.failNext("create", "ENOSPC"); // segment 1's write succeeds, creating segment 2 fails
    await expect(wal.commit()).rejects.toMatchObject({ code: "WAL_NO_SPACE" });
    expect(wal.activeSegment).toBe(1);
    expect(await io.readdir(DIR)).toEqual(["00000000000000000001.wal"]);

    wal.append(1, payloadFor(5, 20));
    wal.append(1, payloadFor(6, 40));
    await wal.commit();
    await wal.close();
    io.crash();
    expect(await reopenSeqs(io, 100)).toEqual([0, 5, 6]);
  });

  it("removes a segment whose header write ran out of space", async () => {
    const io = new MemoryFileIo();
    const wal = await Wal.open(
      { dir: DIR, fileIo: io, segmentSizeBytes: 100, logger: recordingLogger() },
      () => {},
    );
    wal.append(1, payloadFor(0, 60));
    await wal.commit();
    wal.append(1, payloadFor(1, 60)); // needs segment 2
    io.failNextWrite("ENOSPC"); // the header write of segment 2
    await expect(wal.commit()).rejects.toMatchObject({ code: "WAL_NO_SPACE" });
    expect(await io.readdir(DIR)).toEqual(["00000000000000000001.wal"]);
    wal.append(1, payloadFor(2, 60));
    await wal.commit();
    await wal.close();
    expect(await reopenSeqs(io, 100)).toEqual([0, 2]);
  });
});

describe("failed sync (EIO)", () => {
  it("rejects with WAL_SYNC_FAILED, then refuses everything: never retries an fsync", async () => {
    const io = new MemoryFileIo();
    const states: WalState[] = [];
    const logger = recordingLogger();
    const wal = await Wal.open(
      { dir: DIR, fileIo: io, logger, onStateChange: (s) => states.push(s) },
      () => {},
    );
    wal.append(1, payloadFor(0, 10));
    await wal.commit();
    wal.append(1, payloadFor(1, 10)); // no commit: written without a sync
    await new Promise((resolve) => setImmediate(resolve));
    io.failNextSync("EIO");
    const release = io.holdNext("sync");
    const failing = expect(wal.commit()).rejects.toMatchObject({ code: "WAL_SYNC_FAILED" });
    await new Promise((resolve) => setImmediate(resolve)); // the sync is in flight
    wal.append(1, payloadFor(2, 10)); // joins the next batch, which must fail too
    const next = expect(wal.commit()).rejects.toMatchObject({ code: "WAL_SYNC_FAILED" });
    release();
    await failing;
    await next;
    expect(wal.failed).toBe(true);
    expect(states.at(-1)).toMatchObject({ failed: true });
    expect(logger.entries.some((e) => e.level === "error")).toBe(true);
    const syncs = io.counters.syncs + io.counters.dsyncWrites;
    expect(() => wal.append(1, Buffer.alloc(1))).toThrow(expect.objectContaining({ code: "WAL_FAILED" }));
    await expect(wal.commit()).rejects.toMatchObject({ code: "WAL_FAILED" });
    await wal.close();
    expect(io.counters.syncs + io.counters.dsyncWrites).toBe(syncs); // no retry, not even on close
    io.crash();
    expect(await reopenSeqs(io)).toEqual([0]);
  });

  it("treats a write error other than a full disk as fatal too", async () => {
    const io = new MemoryFileIo();
    const wal = await Wal.open({ dir: DIR, fileIo: io, logger: recordingLogger() }, () => {});
    io.failNextWrite("EIO");
    wal.append(1, Buffer.from("x"));
    await expect(wal.commit()).rejects.toMatchObject({ code: "WAL_SYNC_FAILED" });
    expect(wal.failed).toBe(true);
    await wal.close();
  });
});
