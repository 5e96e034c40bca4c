/**
 * Pipelined group commit: several batches in flight at once, each written at its own offset, settled
 * strictly in order. MemoryFileIo's holdNext keeps one write (or sync) in flight while later batches go
 * through, which is how a slow earlier write and a fast later one look on a real disk.
 */
import { describe, expect, it } from "vitest";
import { MemoryFileIo, Wal, type WalOptions } from "../src/index.js";
import { collector, payloadFor, recordingLogger } from "./helpers.js";

const DIR = "/wal";

/** Asynchronous writes: these tests keep batches in flight (held or delayed writes). */
function options(io: MemoryFileIo, extra: Partial<WalOptions> = {}): WalOptions {
  return { dir: DIR, fileIo: io, logger: recordingLogger(), writeMode: "thread-pool", ...extra };
}

async function nextTurn(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
}

async function reopenSeqs(io: MemoryFileIo): Promise<number[]> {
  const replay = collector();
  await (await Wal.open(options(io), replay.onRecord)).close();
  return replay.records.map((r) => r.payload.readUInt32LE(0));
}

/** Tracks whether a commit settled, and how, without letting a rejection go unhandled. */
function watch(commit: Promise<void>): { state: () => string; code: () => string | undefined } {
  let state = "pending";
  let code: string | undefined;
  commit.then(
    () => {
      state = "resolved";
    },
    (error: { code?: string }) => {
      state = "rejected";
      code = error.code;
    },
  );
  return { state: () => state, code: () => code };
}

/** One append + commit per event-loop turn, so that each becomes a batch of its own. */
async function batchesOfOne(wal: Wal, seqs: readonly number[]): Promise<ReturnType<typeof watch>[]> {
  const commits: ReturnType<typeof watch>[] = [];
  for (const seq of seqs) {
    wal.append(1, payloadFor(seq, 20));
    commits.push(watch(wal.commit()));
    await nextTurn();
  }
  return commits;
}

/**
 * Three batches of one record in flight, the second one's write failing with `code`: returns the WAL,
 * its I/O and the three commits (early, failed, later), with the first write already released.
 */
async function secondBatchWriteFails(code: string) {
  const io = new MemoryFileIo();
  const wal = await Wal.open(options(io), () => {});
  const release = io.holdNext("write");
  const [early] = await batchesOfOne(wal, [0]);
  io.failNextWrite(code);
  const [failed, later] = await batchesOfOne(wal, [1, 2]);
  release();
  return { io, wal, early: early!, failed: failed!, later: later! };
}

describe("pipelined group commit", () => {
  it("writes later batches while an earlier one is in flight, but resolves them only after it", async () => {
    const io = new MemoryFileIo();
    const wal = await Wal.open(options(io), () => {});
    const before = { ...io.counters };
    const release = io.holdNext("write");
    const commits = await batchesOfOne(wal, [0, 1, 2]);
    // Batches 2 and 3 are durable already (O_DSYNC), batch 1 is still in flight: nothing resolved.
    expect(io.counters.dsyncWrites - before.dsyncWrites).toBe(2);
    expect(io.counters.peakWritesInFlight).toBeGreaterThanOrEqual(2);
    expect(commits.map((c) => c.state())).toEqual(["pending", "pending", "pending"]);
    expect(wal.idle).toBe(false);
    release();
    await wal.commit();
    expect(commits.map((c) => c.state())).toEqual(["resolved", "resolved", "resolved"]);
    await wal.close();
    expect(await reopenSeqs(io)).toEqual([0, 1, 2]);
  });

  it("loses a later batch that became durable before an earlier torn one, whose commit never resolved", async () => {
    const io = new MemoryFileIo();
    const wal = await Wal.open(options(io), () => {});
    wal.append(1, payloadFor(0, 20));
    await wal.commit();
    const release = io.holdNext("write");
    const commits = await batchesOfOne(wal, [1, 2]);
    expect(commits.map((c) => c.state())).toEqual(["pending", "pending"]);
    // Power cut: batch 2 is on disk, batch 1 never reached it, leaving a hole before batch 2.
    io.crash();
    release();
    await wal.close().catch(() => {});
    expect(commits.map((c) => c.state())).toEqual(["rejected", "rejected"]);
    const replay = collector();
    const reopened = await Wal.open(options(io), replay.onRecord);
    expect(replay.records.map((r) => r.payload.readUInt32LE(0))).toEqual([0]);
    expect(reopened.stats().tornTailBytesTruncated).toBeGreaterThan(0);
    await reopened.close();
  });

  it("keeps at most maxBatchesInFlight batches in flight; the rest wait and gather", async () => {
    for (const maxBatchesInFlight of [1, 2, 4]) {
      const io = new MemoryFileIo();
      const wal = await Wal.open(options(io, { maxBatchesInFlight }), () => {});
      const before = { ...io.counters };
      const release = io.holdNext("write");
      const commits = await batchesOfOne(wal, [0, 1, 2, 3, 4, 5]);
      // The held one plus maxBatchesInFlight - 1 behind it were issued; the rest form one batch.
      expect(io.counters.writes - before.writes, `max ${maxBatchesInFlight}`).toBe(maxBatchesInFlight - 1);
      expect(commits.every((c) => c.state() === "pending")).toBe(true);
      release();
      await wal.commit();
      expect(io.counters.writes - before.writes, `max ${maxBatchesInFlight}`).toBe(maxBatchesInFlight + 1);
      expect(commits.every((c) => c.state() === "resolved")).toBe(true);
      await wal.close();
      expect(await reopenSeqs(io)).toEqual([0, 1, 2, 3, 4, 5]);
    }
  });

  it("syncs once behind overlapping plain writes when O_DSYNC is unavailable", async () => {
    const io = new MemoryFileIo({ dsync: false });
    const wal = await Wal.open(options(io), () => {});
    const before = { ...io.counters };
    const release = io.holdNext("write");
    const commits = await batchesOfOne(wal, [0, 1, 2]);
    expect(commits.map((c) => c.state())).toEqual(["pending", "pending", "pending"]);
    release();
    await wal.commit();
    expect(io.counters.writes - before.writes).toBe(3);
    // Batch 1's sync ran once every write had returned, so it covered the later batches too.
    expect(io.counters.syncs - before.syncs).toBe(1);
    io.crash();
    expect(await reopenSeqs(io)).toEqual([0, 1, 2]);
  });

  it("serves records of batches in flight from memory, with small leading parts copied into the head", async () => {
    const io = new MemoryFileIo();
    const wal = await Wal.open(options(io), () => {});
    const release = io.holdNext("write");
    const big = payloadFor(1, 1000);
    const parts = [Buffer.from("small|"), Buffer.from("also small|"), big];
    const mixed = wal.append(1, parts);
    const inline = wal.append(2, Buffer.from("all inline"));
    const commit = wal.commit();
    await nextTurn(); // issued, held
    expect(wal.idle).toBe(false);
    expect((await wal.read(mixed)).equals(Buffer.concat(parts))).toBe(true);
    expect((await wal.read(inline)).toString()).toBe("all inline");
    release();
    await commit;
    expect((await wal.read(mixed)).equals(Buffer.concat(parts))).toBe(true); // now from the file
    await wal.close();
  });

  it("refuses an invalid maxBatchesInFlight", async () => {
    for (const maxBatchesInFlight of [0, 65, 1.5]) {
      await expect(
        Wal.open(options(new MemoryFileIo(), { maxBatchesInFlight }), () => {}),
      ).rejects.toMatchObject({
        code: "WAL_INVALID_ARGUMENT",
      });
    }
  });
});

describe("faults with several batches in flight", () => {
  it("ENOSPC on the oldest: it and every later batch reject, durable later bytes are cut back", async () => {
    const io = new MemoryFileIo();
    const wal = await Wal.open(options(io), () => {});
    wal.append(1, payloadFor(0, 20));
    await wal.commit();
    io.failNextWrite("ENOSPC");
    const release = io.holdNext("write");
    const first = wal.append(1, payloadFor(1, 20));
    const commits = await batchesOfOne(wal, [2, 3]);
    commits.unshift(watch(wal.commit())); // the record above joined the first of those batches
    wal.append(1, payloadFor(4, 20)); // still forming when the failure comes
    commits.push(watch(wal.commit()));
    release();
    await expect(wal.commit()).rejects.toMatchObject({ code: "WAL_NO_SPACE" });
    await nextTurn();
    expect(commits.map((c) => c.code())).toEqual(Array(4).fill("WAL_NO_SPACE"));
    expect(wal.blockedByDiskFull).toBe(true);
    // Positions are handed out again from where the failed batch began.
    expect(wal.append(1, payloadFor(5, 20))).toEqual(first);
    await wal.commit();
    expect(wal.blockedByDiskFull).toBe(false);
    io.crash(); // only durable state counts: batches 2 and 3 had been durable before the rollback
    expect(await reopenSeqs(io)).toEqual([0, 5]);
  });

  it("ENOSPC on a later batch: the earlier ones still resolve, the failed one and later reject", async () => {
    const { io, wal, early, failed, later } = await secondBatchWriteFails("ENOSPC");
    await expect(wal.commit()).rejects.toMatchObject({ code: "WAL_NO_SPACE" });
    await nextTurn();
    expect([early.state(), failed.code(), later.code()]).toEqual([
      "resolved",
      "WAL_NO_SPACE",
      "WAL_NO_SPACE",
    ]);
    wal.append(1, payloadFor(3, 20));
    await wal.commit();
    await wal.close();
    io.crash();
    expect(await reopenSeqs(io)).toEqual([0, 3]);
  });

  it("EIO on a sync with later batches in flight: all of them fail, nothing is retried", async () => {
    const io = new MemoryFileIo({ dsync: false });
    const wal = await Wal.open(options(io), () => {});
    wal.append(1, payloadFor(0, 20));
    await wal.commit();
    io.failNextSync("EIO");
    const release = io.holdNext("sync");
    const commits = await batchesOfOne(wal, [1, 2, 3]);
    expect(commits.map((c) => c.state())).toEqual(["pending", "pending", "pending"]);
    const syncs = io.counters.syncs;
    release();
    await expect(wal.commit()).rejects.toMatchObject({ code: "WAL_SYNC_FAILED" });
    await nextTurn();
    expect(commits.map((c) => c.code())).toEqual(Array(3).fill("WAL_SYNC_FAILED"));
    expect(wal.failed).toBe(true);
    await wal.close();
    expect(io.counters.syncs).toBe(syncs + 1); // the failed one, and no retry
    io.crash();
    expect(await reopenSeqs(io)).toEqual([0]);
  });

  it("EIO on a later batch's write: the earlier batch still resolves, the rest fail", async () => {
    const { io, wal, early, failed, later } = await secondBatchWriteFails("EIO");
    await expect(wal.close()).rejects.toMatchObject({ code: "WAL_SYNC_FAILED" });
    expect([early.state(), failed.code(), later.code()]).toEqual([
      "resolved",
      "WAL_SYNC_FAILED",
      "WAL_SYNC_FAILED",
    ]);
    expect(wal.failed).toBe(true);
    io.crash();
    expect(await reopenSeqs(io)).toEqual([0]);
  });
});
