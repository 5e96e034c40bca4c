import { describe, expect, it } from "vitest";
import { MemoryFileIo, Wal } from "../src/index.js";
import { collector, payloadFor, recordingLogger, tempDir } from "./helpers.js";

describe("group commit", () => {
  it("costs a lone append+commit one O_DSYNC write: a single system call", async () => {
    const io = new MemoryFileIo();
    const wal = await Wal.open({ dir: "/wal", fileIo: io, logger: recordingLogger() }, () => {});
    const before = { ...io.counters };
    const statsBefore = wal.stats();
    wal.append(1, Buffer.from("alone"));
    await wal.commit();
    expect(io.counters.writes - before.writes).toBe(1);
    expect(io.counters.dsyncWrites - before.dsyncWrites).toBe(1);
    expect(io.counters.syncs - before.syncs).toBe(0);
    expect(wal.stats().syncs - statsBefore.syncs).toBe(1);
    await wal.close();
  });

  it("costs a lone append+commit one write and one fdatasync without O_DSYNC", async () => {
    const io = new MemoryFileIo({ dsync: false });
    const wal = await Wal.open({ dir: "/wal", fileIo: io, logger: recordingLogger() }, () => {});
    const before = { ...io.counters };
    wal.append(1, Buffer.from("alone"));
    await wal.commit();
    expect(io.counters.writes - before.writes).toBe(1);
    expect(io.counters.syncs - before.syncs).toBe(1);
    await wal.close();
  });

  it("writes an append without a commit plainly, and syncs it when a commit comes", async () => {
    const io = new MemoryFileIo();
    const wal = await Wal.open({ dir: "/wal", fileIo: io, logger: recordingLogger() }, () => {});
    const before = { ...io.counters };
    wal.append(1, Buffer.from("an ack: no commit needed"));
    await new Promise((resolve) => setImmediate(resolve));
    expect(io.counters.writes - before.writes).toBe(1);
    expect(io.counters.dsyncWrites - before.dsyncWrites).toBe(0);
    expect(wal.idle).toBe(false);
    wal.append(1, Buffer.from("a publish"));
    await wal.commit();
    // The second write cannot use O_DSYNC (the first is not durable yet): write + fdatasync.
    expect(io.counters.writes - before.writes).toBe(2);
    expect(io.counters.syncs - before.syncs).toBe(1);
    expect(wal.idle).toBe(true);
    await wal.close();
  });

  it("writes and syncs a thousand appends of one tick once, sharing one commit promise", async () => {
    const io = new MemoryFileIo();
    const wal = await Wal.open({ dir: "/wal", fileIo: io, logger: recordingLogger() }, () => {});
    const before = { ...io.counters };
    const commits: Promise<void>[] = [];
    for (let seq = 0; seq < 1000; seq += 1) {
      wal.append(1, payloadFor(seq, 100));
      commits.push(wal.commit());
    }
    expect(new Set(commits).size).toBe(1);
    await Promise.all(commits);
    expect(io.counters.writes - before.writes).toBe(1);
    expect(io.counters.dsyncWrites - before.dsyncWrites).toBe(1);
    await wal.close();
  });

  it("puts appends that arrive during a sync into the next batch, started right after", async () => {
    const io = new MemoryFileIo();
    const wal = await Wal.open(
      { dir: "/wal", fileIo: io, logger: recordingLogger(), writeMode: "thread-pool" },
      () => {},
    );
    const before = { ...io.counters };
    const release = io.holdNext("write");
    wal.append(1, payloadFor(0, 10));
    let firstDone = false;
    const first = wal.commit().then(() => {
      firstDone = true;
    });
    await new Promise((resolve) => setImmediate(resolve)); // batch 1's durable write is held
    const late: Promise<void>[] = [];
    for (let seq = 1; seq <= 50; seq += 1) {
      wal.append(1, payloadFor(seq, 10));
      late.push(wal.commit());
    }
    expect(new Set(late).size).toBe(1);
    expect(firstDone).toBe(false);
    expect(wal.idle).toBe(false);
    // A record of the batch still in flight, and one of the forming batch, read from memory.
    expect((await wal.read({ segment: 1, offset: 16, length: 19 })).readUInt32LE(0)).toBe(0);
    expect((await wal.read({ segment: 1, offset: 16 + 19 * 50, length: 19 })).readUInt32LE(0)).toBe(50);
    release();
    await first;
    await Promise.all(late);
    expect(io.counters.dsyncWrites - before.dsyncWrites).toBe(2);
    expect(io.counters.writes - before.writes).toBe(2);
    await wal.close();
  });

  it("syncs far less often than it appends with many concurrent producers on a real disk", async () => {
    const dir = tempDir();
    const wal = await Wal.open({ dir, logger: recordingLogger() }, () => {});
    const producers = 64;
    const rounds = 8;
    const syncsBefore = wal.stats().syncs;
    await Promise.all(
      Array.from({ length: producers }, async (_, producer) => {
        for (let round = 0; round < rounds; round += 1) {
          wal.append(1, payloadFor(producer * rounds + round, 256));
          await wal.commit();
        }
      }),
    );
    const stats = wal.stats();
    expect(stats.appendedRecords).toBe(producers * rounds);
    expect(stats.syncs - syncsBefore).toBeLessThanOrEqual(rounds * 2);
    await wal.close();
    const replay = collector();
    await (await Wal.open({ dir, logger: recordingLogger() }, replay.onRecord)).close();
    expect(replay.records).toHaveLength(producers * rounds);
  });

  it('under fsync "batch" still makes commits wait for a sync', async () => {
    const io = new MemoryFileIo();
    const wal = await Wal.open(
      { dir: "/wal", fileIo: io, fsync: "batch", fsyncIntervalMs: 5, logger: recordingLogger() },
      () => {},
    );
    for (let round = 0; round < 5; round += 1) {
      const durable = io.counters.syncs + io.counters.dsyncWrites;
      wal.append(1, payloadFor(round, 10));
      await wal.commit();
      expect(io.counters.syncs + io.counters.dsyncWrites).toBe(durable + 1);
    }
    await wal.close();
  });
});
