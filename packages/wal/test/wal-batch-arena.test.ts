/**
 * The batch layout of 0.3: record headers and payload parts of up to 4 KiB are copied into arenas that
 * are reused from batch to batch; larger parts are referenced. These tests guard what that could
 * break: an arena reused while the write holding it is still running (the kernel reads the buffers
 * only when the thread pool gets to the write), records spanning arena runs and referenced parts, and
 * recovery after a crash at every I/O call of a workload whose batches span several arenas.
 */
import { describe, expect, it } from "vitest";
import { ARENA_BYTES, ArenaPool } from "../src/arena-pool.js";
import { MemoryFileIo, type RecordPosition, Wal, type WalOptions } from "../src/index.js";
import { MAX_COPIED_PART_BYTES } from "../src/pending-batch.js";
import { collector, payloadFor, recordingLogger } from "./helpers.js";

const DIR = "/wal";

/**
 * Like a real disk behind a thread pool: the bytes are read from the caller's buffers only when the
 * write completes, some turns after writev was called. A buffer reused before then shows up on disk.
 */
class LateCopyFileIo extends MemoryFileIo {
  #turn = 0;
  #inFlight = 0;
  peakInFlight = 0;

  override async writev(fd: number, buffers: readonly Buffer[], position: number): Promise<number> {
    this.#turn += 1;
    this.#inFlight += 1;
    this.peakInFlight = Math.max(this.peakInFlight, this.#inFlight);
    const turns = 1 + (this.#turn % 3);
    try {
      for (let i = 0; i < turns; i += 1) await new Promise((resolve) => setImmediate(resolve));
      return await super.writev(fd, buffers, position);
    } finally {
      this.#inFlight -= 1;
    }
  }
}

/** Asynchronous writes: these tests keep batches in flight (held or delayed writes). */
function options(io: MemoryFileIo, extra: Partial<WalOptions> = {}): WalOptions {
  return { dir: DIR, fileIo: io, logger: recordingLogger(), writeMode: "thread-pool", ...extra };
}

async function replayPayloads(io: MemoryFileIo, extra: Partial<WalOptions> = {}): Promise<Buffer[]> {
  const replay = collector();
  await (await Wal.open(options(io, extra), replay.onRecord)).close();
  return replay.records.map((record) => record.payload);
}

/** Parts around the copy threshold: copied small ones, referenced large ones, and empty ones. */
function partsFor(seq: number, payload: Buffer): Buffer | Buffer[] {
  switch (seq % 4) {
    case 0:
      return payload;
    case 1:
      return [payload.subarray(0, 3), payload.subarray(3)];
    case 2:
      return [Buffer.alloc(0), payload, Buffer.alloc(0)];
    default: {
      const cut = Math.min(payload.length, MAX_COPIED_PART_BYTES + 1);
      return [payload.subarray(0, cut), payload.subarray(cut)];
    }
  }
}

describe("batch arenas", () => {
  it("never reuses an arena whose write has not returned, with batches pipelined", async () => {
    const io = new LateCopyFileIo();
    const wal = await Wal.open(options(io, { maxBatchesInFlight: 4 }), () => {});
    const appended: Buffer[] = [];
    const commits: Promise<void>[] = [];
    for (let round = 0; round < 40; round += 1) {
      // ~20 KiB per round, several rounds in flight at once: arenas are taken and given back all along.
      for (let i = 0; i < 20; i += 1) {
        const seq = appended.length;
        const payload = payloadFor(seq, 200 + ((seq * 389) % 1800));
        wal.append(1, partsFor(seq, payload));
        appended.push(payload);
      }
      commits.push(wal.commit());
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(commits);
    expect(io.peakInFlight).toBeGreaterThan(1);
    await wal.close();
    io.crash();
    const replayed = await replayPayloads(io);
    expect(replayed).toHaveLength(appended.length);
    replayed.forEach((payload, index) => {
      expect(payload.equals(appended[index]!), `record ${index}`).toBe(true);
    });
  });

  it("serves reads of records spanning arena runs and referenced parts while their batch forms and flies", async () => {
    const io = new MemoryFileIo();
    const wal = await Wal.open(options(io), () => {});
    const release = io.holdNext("write");
    const positions: RecordPosition[] = [];
    const appended: Buffer[] = [];
    // More than one arena of small records, with large referenced parts in between.
    for (let seq = 0; appended.reduce((sum, p) => sum + p.length, 0) < 2 * ARENA_BYTES; seq += 1) {
      const payload = payloadFor(seq, seq % 7 === 0 ? 3 * MAX_COPIED_PART_BYTES : 100 + ((seq * 97) % 3000));
      positions.push(wal.append(1 + (seq % 255), partsFor(seq, payload)));
      appended.push(payload);
    }
    const commit = wal.commit();
    for (const [index, position] of positions.entries()) {
      expect((await wal.read(position)).equals(appended[index]!), `forming ${index}`).toBe(true);
    }
    await new Promise((resolve) => setImmediate(resolve)); // issued, and held
    expect(wal.idle).toBe(false);
    for (const [index, position] of positions.entries()) {
      expect((await wal.read(position)).equals(appended[index]!), `in flight ${index}`).toBe(true);
    }
    // Inside the batch but not a record start: still refused.
    await expect(wal.read({ ...positions[1]!, offset: positions[1]!.offset + 1 })).rejects.toMatchObject({
      code: "WAL_INVALID_ARGUMENT",
    });
    release();
    await commit;
    for (const [index, position] of positions.entries()) {
      expect((await wal.read(position)).equals(appended[index]!), `on disk ${index}`).toBe(true);
    }
    await wal.close();
  });

  it("keeps every committed record when the machine crashes at any I/O call of multi-arena batches", async () => {
    const segmentSizeBytes = 3 * ARENA_BYTES;
    const workload = async (io: MemoryFileIo): Promise<{ appended: Buffer[]; committed: number }> => {
      const result = { appended: [] as Buffer[], committed: 0 };
      let wal: Wal;
      try {
        wal = await Wal.open(options(io, { segmentSizeBytes }), () => {});
      } catch {
        return result;
      }
      const commits: Promise<void>[] = [];
      try {
        for (let burst = 0; burst < 12; burst += 1) {
          for (let i = 0; i < 12; i += 1) {
            const seq = result.appended.length;
            const payload = payloadFor(seq, (seq * 2477) % (2 * MAX_COPIED_PART_BYTES));
            wal.append(1, partsFor(seq, payload));
            result.appended.push(payload);
          }
          const upTo = result.appended.length;
          commits.push(
            wal.commit().then(
              () => {
                result.committed = Math.max(result.committed, upTo);
              },
              () => {},
            ),
          );
          if (burst % 2 === 0) await new Promise((resolve) => setImmediate(resolve));
        }
        await Promise.all(commits);
        await wal.close();
        result.committed = result.appended.length;
      } catch {
        // The crash made the Wal fail.
      }
      await Promise.all(commits);
      await wal.close().catch(() => {});
      return result;
    };

    const reference = new MemoryFileIo({ latency: { seed: 5, maxTurns: 3 } });
    const full = await workload(reference);
    expect(full.committed).toBe(full.appended.length);
    const mutations = reference.counters.mutations;
    expect(mutations).toBeGreaterThan(10);
    for (let crashAt = 1; crashAt <= mutations; crashAt += 1) {
      for (const tear of [undefined, 1]) {
        const io = new MemoryFileIo({ latency: { seed: 5, maxTurns: 3 } });
        io.crashAtMutation(crashAt, tear === undefined ? {} : { tearLastWrite: true, seed: crashAt });
        const { appended, committed } = await workload(io);
        const replayed = await replayPayloads(io, { segmentSizeBytes });
        const label = `crash at ${crashAt}, tear ${tear ?? "none"}`;
        expect(replayed.length, label).toBeGreaterThanOrEqual(committed);
        expect(replayed.length, label).toBeLessThanOrEqual(appended.length);
        replayed.forEach((payload, index) => {
          expect(payload.equals(appended[index]!), `${label}: record ${index}`).toBe(true);
        });
      }
    }
  });
});

describe("ArenaPool", () => {
  it("hands back given arenas, keeps at most maxRetained, and refuses a foreign buffer", () => {
    const pool = new ArenaPool(1024, 2);
    const taken = [pool.take(), pool.take(), pool.take()];
    expect(taken.every((arena) => arena.length === 1024)).toBe(true);
    for (const arena of taken) pool.give(arena);
    expect(pool.retained).toBe(2);
    const again = pool.take();
    expect(taken).toContain(again);
    expect(() => pool.give(Buffer.alloc(10))).toThrow(/invariant/);
  });
});
