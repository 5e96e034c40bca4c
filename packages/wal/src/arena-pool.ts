/**
 * ArenaPool: fixed-size buffers ("arenas") that group-commit batches copy record headers and small
 * payloads into, so that a batch of small records goes to writev as a few large iovecs instead of two
 * per record, and handed back for reuse once a batch is written.
 *
 * Why copy at all: Node marshals every iovec of a writev on the event loop, and so does the kernel;
 * with two iovecs per 1 KiB record a batch of 256 records spent ~100 µs of the event loop in
 * fs.writev alone (node --cpu-prof, bench/README.md), while copying 1 KiB costs ~0.03 µs.
 *
 * It does no I/O. It owns the arenas it holds; an arena handed out by take() belongs to the caller
 * until given back with give(), after which the caller must keep no view of it (the next batch
 * overwrites it). It keeps at most `maxRetained` arenas; the rest are left to the garbage collector.
 */
import { Buffer } from "node:buffer";
import { assertWal } from "./errors.js";

/**
 * 64 KiB: a batch of 1 KiB records needs one arena per ~63 records, so one iovec per ~64 KiB, and a
 * half-empty arena at the end of a batch wastes nothing but memory that is reused by the next batch.
 */
export const ARENA_BYTES = 64 * 1024;

/** Enough for four batches in flight of about 256 KiB each; more is left to the garbage collector. */
export const MAX_RETAINED_ARENAS = 16;

export class ArenaPool {
  readonly #free: Buffer[] = [];
  readonly #arenaBytes: number;
  readonly #maxRetained: number;

  constructor(arenaBytes = ARENA_BYTES, maxRetained = MAX_RETAINED_ARENAS) {
    this.#arenaBytes = arenaBytes;
    this.#maxRetained = maxRetained;
  }

  get arenaBytes(): number {
    return this.#arenaBytes;
  }

  /** Arenas waiting to be reused (for tests). */
  get retained(): number {
    return this.#free.length;
  }

  /** An arena of `arenaBytes` bytes, with whatever content it had: the caller overwrites it. */
  take(): Buffer {
    // allocUnsafeSlow: an arena of its own, never a slice of Node's shared pool, so that reusing it
    // can never clobber somebody else's small Buffer.
    return this.#free.pop() ?? Buffer.allocUnsafeSlow(this.#arenaBytes);
  }

  /** Takes an arena back; no view of it may be used after this. */
  give(arena: Buffer): void {
    // Checked inline, not through assertWal, so that the message is only built when it fails.
    if (arena.length !== this.#arenaBytes) assertWal(false, `an arena of ${arena.length} bytes came back`);
    if (this.#free.length < this.#maxRetained) this.#free.push(arena);
  }
}
