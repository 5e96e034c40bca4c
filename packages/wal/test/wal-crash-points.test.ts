/**
 * Crash simulation: a deterministic workload of appends and commits runs on MemoryFileIo and the
 * "machine" crashes during its k-th mutating I/O call, for every k, with and without a torn last
 * write. After reopening, every record whose commit resolved must be there, byte for byte and in order,
 * and what is replayed must be a prefix of what was appended: nothing torn, no gaps.
 *
 * The "overlapping" cases give MemoryFileIo a latency, so that several batches are in flight at once and
 * finish out of order: a later batch can be durable while an earlier one is still unwritten when the
 * crash comes, and recovery must then cut the later one off, whose commit must not have resolved.
 *
 * Record writes run on the calling thread (writeMode "inline", the default) except in the overlapping
 * cases and those marked "thread-pool", where they go through the asynchronous writev.
 *
 * The "prefill" cases use a prefill window much smaller than a segment, so that background zero-fills,
 * record writes held behind them, rotations and the sealing truncation of the zero tail all happen many
 * times, and each of their I/O calls is a crash point too. Recovery must never report corruption for a
 * zero tail, in the last segment or a sealed one.
 */
import { describe, expect, it } from "vitest";
import { type FsyncPolicy, MemoryFileIo, Wal, type WriteMode } from "../src/index.js";
import { collector, payloadFor, recordingLogger } from "./helpers.js";

const DIR = "/data/wal";
const SEGMENT_SIZE_BYTES = 400;
const RECORDS = 50;

interface WorkloadResult {
  appended: Buffer[];
  /** Records [0, committed) had a commit() resolve before the crash. */
  committed: number;
  /** The Wal's own counts just before close (record syncs exclude zero-fill syncs). */
  syncs: number;
  prefillWrites: number;
  /** Record and header writes, and how many of them ran on the calling thread. */
  writes: number;
  inlineWrites: number;
}

/** Deterministic pseudo-random sequence, so that every run issues the same I/O calls up to the crash. */
function sequence(seed: number): (below: number) => number {
  let state = seed;
  return (below) => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state >>> 8) % below;
  };
}

async function yieldTimes(times: number): Promise<void> {
  for (let i = 0; i < times; i += 1) await Promise.resolve();
}

/** `turnOneIn`: how often (1 in n appends) the workload waits for the next event-loop turn. */
async function runWorkload(
  io: MemoryFileIo,
  fsync: FsyncPolicy,
  turnOneIn: number,
  prefillBytes: number | undefined,
  writeMode: WriteMode,
): Promise<WorkloadResult> {
  const result: WorkloadResult = {
    appended: [],
    committed: 0,
    syncs: 0,
    prefillWrites: 0,
    writes: 0,
    inlineWrites: 0,
  };
  let wal: Wal;
  try {
    wal = await Wal.open(
      {
        dir: DIR,
        fileIo: io,
        segmentSizeBytes: SEGMENT_SIZE_BYTES,
        fsync,
        fsyncIntervalMs: 0,
        ...(prefillBytes === undefined ? {} : { prefillBytes }),
        writeMode,
        logger: recordingLogger(),
      },
      () => {},
    );
  } catch {
    return result; // crashed while creating the first segment
  }
  const next = sequence(7);
  const commits: Promise<void>[] = [];
  try {
    for (let seq = 0; seq < RECORDS; seq += 1) {
      const payload = payloadFor(seq, 4 + next(90));
      const parts = next(3) === 0 ? [payload.subarray(0, 2), payload.subarray(2)] : payload;
      wal.append(1 + (seq % 200), parts);
      result.appended.push(payload);
      const upTo = result.appended.length;
      if (next(2) === 0) {
        commits.push(
          wal.commit().then(
            () => {
              result.committed = Math.max(result.committed, upTo);
            },
            () => {},
          ),
        );
      }
      // Vary the interleaving: some appends join the forming batch, others land mid-flush, and some
      // batches hold no committed record, so they are written without a sync.
      await yieldTimes(next(6));
      if (next(turnOneIn) === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(commits);
    ({
      syncs: result.syncs,
      prefillWrites: result.prefillWrites,
      writes: result.writes,
      inlineWrites: result.inlineWrites,
    } = wal.stats());
    await wal.close();
    result.committed = result.appended.length; // close() resolved: everything is durable
  } catch {
    // The crash made the Wal fail; appends after it throw WAL_FAILED.
  }
  await Promise.all(commits);
  await wal.close().catch(() => {});
  return result;
}

async function checkRecovery(
  io: MemoryFileIo,
  workload: WorkloadResult,
  label: string,
  writeMode: WriteMode,
): Promise<void> {
  const replay = collector();
  const logger = recordingLogger();
  const wal = await Wal.open(
    { dir: DIR, fileIo: io, segmentSizeBytes: SEGMENT_SIZE_BYTES, writeMode, logger },
    replay.onRecord,
  );
  const errors = logger.entries.filter((entry) => entry.level === "error");
  expect(errors, `${label}: recovery reported damage`).toEqual([]);
  const replayed = replay.records.map((r) => r.payload);
  expect(replayed.length, `${label}: committed records lost`).toBeGreaterThanOrEqual(workload.committed);
  expect(replayed.length, `${label}: replayed more than appended`).toBeLessThanOrEqual(
    workload.appended.length,
  );
  replayed.forEach((payload, index) => {
    expect(payload.equals(workload.appended[index]!), `${label}: record ${index} differs`).toBe(true);
  });
  expect(wal.stats().corruptRecordsSkipped, `${label}: a sealed segment was damaged`).toBe(0);
  // The recovered log accepts new records and keeps them.
  wal.append(3, Buffer.from("after the crash"));
  await wal.commit();
  await wal.close();
  const again = collector();
  await (
    await Wal.open(
      { dir: DIR, fileIo: io, segmentSizeBytes: SEGMENT_SIZE_BYTES, logger: recordingLogger() },
      again.onRecord,
    )
  ).close();
  expect(again.records.length).toBe(replayed.length + 1);
  expect(again.records.at(-1)!.payload.toString()).toBe("after the crash");
}

interface CrashCase {
  fsync: FsyncPolicy;
  dsync: boolean;
  overlapping: boolean;
  /** undefined: the default window (larger than these segments, so each is zero-filled whole at once). */
  prefillBytes?: number;
  /** Forced for overlapping cases (MemoryFileIo's latency needs asynchronous writes); else "inline". */
  writeMode?: WriteMode;
}

const CASES: readonly CrashCase[] = [
  { fsync: "always", dsync: true, overlapping: false },
  { fsync: "batch", dsync: true, overlapping: false },
  { fsync: "always", dsync: false, overlapping: false },
  { fsync: "always", dsync: true, overlapping: true },
  { fsync: "always", dsync: false, overlapping: true },
  { fsync: "always", dsync: true, overlapping: false, prefillBytes: 0 },
  { fsync: "always", dsync: true, overlapping: false, prefillBytes: 64 },
  { fsync: "batch", dsync: true, overlapping: false, prefillBytes: 48 },
  { fsync: "always", dsync: false, overlapping: false, prefillBytes: 64 },
  { fsync: "always", dsync: true, overlapping: true, prefillBytes: 64 },
  { fsync: "always", dsync: false, overlapping: true, prefillBytes: 96 },
  { fsync: "always", dsync: true, overlapping: false, writeMode: "thread-pool" },
  { fsync: "batch", dsync: false, overlapping: false, prefillBytes: 64, writeMode: "thread-pool" },
];

function memoryIo(dsync: boolean, overlapping: boolean): MemoryFileIo {
  return new MemoryFileIo(overlapping ? { dsync, latency: { seed: 11, maxTurns: 6 } } : { dsync });
}

describe("crash at every I/O call", () => {
  for (const { fsync, dsync, overlapping, prefillBytes, writeMode: chosenMode } of CASES) {
    const writeMode: WriteMode = overlapping ? "thread-pool" : (chosenMode ?? "inline");
    const prefill = prefillBytes === undefined ? "" : `, prefill window ${prefillBytes} B`;
    const title = `keeps every committed record under fsync "${fsync}", ${dsync ? "with" : "without"} O_DSYNC${overlapping ? ", batches overlapping" : ""}${prefill}, ${writeMode} writes`;
    it(title, async () => {
      const reference = memoryIo(dsync, overlapping);
      const turnOneIn = overlapping ? 1 : 3;
      const full = await runWorkload(reference, fsync, turnOneIn, prefillBytes, writeMode);
      expect(full.committed).toBe(RECORDS);
      const mutations = reference.counters.mutations;
      expect(mutations).toBeGreaterThan(40);
      expect(reference.counters.dsyncWrites > 0).toBe(dsync);
      expect(full.syncs).toBeLessThan(RECORDS); // group commit happened
      if (prefillBytes === undefined || prefillBytes > 0) {
        expect(full.prefillWrites).toBeGreaterThan(8);
        expect(reference.counters.truncates).toBeGreaterThan(3); // zero tails cut at sealing
      } else expect(full.prefillWrites).toBe(0);
      if (overlapping) expect(reference.counters.peakWritesInFlight).toBeGreaterThan(1);
      // Every record write took the path the case names (headers count as writes too).
      // Inline cases write inline (all of it, unless the machine stalled the process for 100 ms and the
      // policy sent the rest to the pool: durability must hold either way).
      expect(full.writes).toBeGreaterThan(10);
      if (writeMode === "inline") expect(full.inlineWrites).toBeGreaterThan(full.writes / 2);
      else expect(full.inlineWrites).toBe(0);

      let crashesWithLoss = 0;
      for (let crashAt = 1; crashAt <= mutations + 1; crashAt += 1) {
        for (const tear of [undefined, 1, 2, 3]) {
          const io = memoryIo(dsync, overlapping);
          const options = tear === undefined ? {} : { tearLastWrite: true, seed: crashAt * 10 + tear };
          if (crashAt <= mutations) io.crashAtMutation(crashAt, options);
          const workload = await runWorkload(io, fsync, turnOneIn, prefillBytes, writeMode);
          if (crashAt > mutations) io.crash(options);
          else expect(io.counters.mutations).toBeGreaterThanOrEqual(crashAt);
          if (workload.committed < workload.appended.length) crashesWithLoss += 1;
          await checkRecovery(io, workload, `crash at call ${crashAt}, tear ${tear ?? "none"}`, writeMode);
        }
      }
      expect(crashesWithLoss).toBeGreaterThan(0); // the crashes did cut workloads short
    });
  }

  it("sees a workload's unsynced writes vanish in a crash (the simulator is not a no-op)", async () => {
    const io = new MemoryFileIo();
    const wal = await Wal.open({ dir: DIR, fileIo: io, fsync: "none", logger: recordingLogger() }, () => {});
    wal.append(1, Buffer.from("durable"));
    await wal.commit();
    await wal.close(); // close syncs even under "none"
    const second = await Wal.open(
      { dir: DIR, fileIo: io, fsync: "none", logger: recordingLogger() },
      () => {},
    );
    second.append(1, Buffer.from("written, never synced"));
    await second.commit();
    io.crash();
    const replay = collector();
    await (await Wal.open({ dir: DIR, fileIo: io, logger: recordingLogger() }, replay.onRecord)).close();
    expect(replay.records.map((r) => r.payload.toString())).toEqual(["durable"]);
  });
});

describe("a commit after an unsynced write", () => {
  for (const dsync of [true, false]) {
    it(`makes the earlier write durable too, leaving no hole (${dsync ? "with" : "without"} O_DSYNC)`, async () => {
      const io = new MemoryFileIo({ dsync });
      const wal = await Wal.open({ dir: DIR, fileIo: io, logger: recordingLogger() }, () => {});
      wal.append(1, Buffer.from("ack, appended without a commit"));
      await new Promise((resolve) => setImmediate(resolve)); // written, not synced
      expect(wal.idle).toBe(false);
      wal.append(1, Buffer.from("publish, committed"));
      await wal.commit();
      io.crash();
      const replay = collector();
      await (await Wal.open({ dir: DIR, fileIo: io, logger: recordingLogger() }, replay.onRecord)).close();
      expect(replay.records.map((r) => r.payload.toString())).toEqual([
        "ack, appended without a commit",
        "publish, committed",
      ]);
    });
  }
});
