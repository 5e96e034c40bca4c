/**
 * Decides whether the next record write runs on the calling thread (`FileIo.writevSync`) or goes to
 * libuv's thread pool (`FileIo.writev`).
 *
 * Why on the calling thread: an asynchronous write costs two thread hand-offs per group commit, one to
 * wake a pool thread and one to wake the event loop when it is done. On the 2-vCPU VM of bench/README.md
 * each hand-off to an idle vCPU cost tens of µs, as much as a fifth of a 64 KiB O_DSYNC write, and the
 * event loop had nothing to do meanwhile when the writers were waiting for that very commit. Written
 * inline, the WAL bench's 64-records-per-sync case went from 69-76 % to 75-85 % of the raw loop.
 *
 * Why not always: while an inline write runs, the event loop runs nothing else. That is fine for a
 * write of a few hundred µs, but a disk that stalls (a sync that takes seconds) would freeze every
 * connection of the process with it, and a disk whose syncs take several milliseconds on average would
 * leave the process little time for its other work. So an inline write slower than STALL_MS, or an
 * average above SLOW_AVERAGE_MS, sends record writes to the thread pool for COOLDOWN_MS, then inline
 * writes are tried again.
 *
 * It keeps no state about files; the SegmentWriter asks it per write and reports how long each took.
 */
import type { WalLogger, WriteMode } from "./wal-types.js";

/** One inline write this slow is a stall: the event loop was frozen that long. */
export const STALL_MS = 100;
/**
 * Inline writes this slow on average come from a spinning disk or a slow network volume: there the
 * event loop would spend most of its time blocked, and the hand-offs saved are worth little next to a
 * write. A local SSD or this VM's virtio disk took 0.2-0.9 ms per group commit (16-256 KiB), with
 * outliers of 10-26 ms that the average must absorb.
 */
export const SLOW_AVERAGE_MS = 5;
/** How long record writes stay on the thread pool after a stall or a slow average. */
export const COOLDOWN_MS = 10_000;
/** Weight of the newest write in the moving average: one outlier moves it by 1/64 of its duration. */
const AVERAGE_WEIGHT = 1 / 64;

export class InlineWritePolicy {
  /** Record writes done on the calling thread since open, for stats. */
  inlineWrites = 0;
  readonly #mode: WriteMode;
  readonly #logger: WalLogger;
  readonly #now: () => number;
  #averageMs = 0;
  /** While set, writes go to the thread pool until this time (ms, from `now`). */
  #poolUntilMs: number | null = null;

  constructor(mode: WriteMode, logger: WalLogger, now: () => number = () => performance.now()) {
    this.#mode = mode;
    this.#logger = logger;
    this.#now = now;
  }

  /** True when the next record write should run on the calling thread. */
  get inline(): boolean {
    if (this.#mode !== "inline") return false;
    if (this.#poolUntilMs === null) return true;
    if (this.#now() < this.#poolUntilMs) return false;
    this.#poolUntilMs = null;
    this.#averageMs = 0;
    return true;
  }

  /** The current time, for the caller to time an inline write with. */
  now(): number {
    return this.#now();
  }

  /** Reports an inline write that took `durationMs`; may move writes to the thread pool for a while. */
  noteInlineWrite(durationMs: number): void {
    this.inlineWrites += 1;
    this.#averageMs += (durationMs - this.#averageMs) * AVERAGE_WEIGHT;
    const stalled = durationMs >= STALL_MS;
    if (!stalled && this.#averageMs < SLOW_AVERAGE_MS) return;
    this.#poolUntilMs = this.#now() + COOLDOWN_MS;
    this.#logger.warn(
      {
        writeMs: Math.round(durationMs * 10) / 10,
        averageMs: Math.round(this.#averageMs * 100) / 100,
        cooldownMs: COOLDOWN_MS,
      },
      stalled
        ? "wal: a write on the event loop stalled; record writes go to the thread pool for a while"
        : "wal: writes on the event loop are slow on average; record writes go to the thread pool for a while",
    );
  }
}
