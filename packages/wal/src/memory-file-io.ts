/**
 * FileIo in memory, for tests that need crashes and faults a real disk will not produce on demand.
 *
 * Each file keeps two states: the volatile content every read sees, and the durable content as of its
 * last fdatasync (a write through an O_DSYNC descriptor makes just its own range durable at once). Directory entries work the same way: a created or deleted file only survives a
 * crash once its directory has been synced. `crash()` throws away everything that is not durable
 * (optionally keeping part of the last unsynced writes, torn, with garbage or zeros after them), closes
 * every descriptor, and leaves the store ready for a new `Wal.open`. Faults can be injected into the
 * next write, sync, create or truncate, and a crash can be armed to strike just before the n-th mutating
 * call, so a test can walk through every crash point of a workload. With `latency`, writes and syncs
 * take effect a pseudo-random number of event-loop turns after they are called, so several can be in
 * flight at once and finish out of order, as on a real disk.
 *
 * It does not model directories' own durability (mkdir is durable at once), file permissions, or the
 * page cache's behaviour after a failed sync (the WAL never syncs again after one). It copies every
 * buffer it is given; callers keep ownership of theirs.
 */
import { Buffer } from "node:buffer";
import * as path from "node:path";
import type { FileIo, OpenMode } from "./file-io.js";

export interface MemoryCrashOptions {
  /** Keep a random part of the unsynced writes of the file written last (a torn write). Default false. */
  tearLastWrite?: boolean;
  /** Seed of the random choices made when tearing. Default 1. */
  seed?: number;
}

export type MemoryFaultOperation = "write" | "sync" | "create" | "truncate";

export interface MemoryFileIoOptions {
  /** Whether opening with "read-write-dsync" works (default true); false acts like a platform without O_DSYNC. */
  dsync?: boolean;
  /**
   * Each writev and fdatasync waits 0..maxTurns event-loop turns (setImmediate), chosen by a generator
   * seeded with `seed`, before it takes effect. Default: none (they take effect at once).
   */
  latency?: { seed: number; maxTurns: number };
}

export interface MemoryFileIoCounters {
  /** Every call that changes state and so is a crash point: create, writev, fdatasync, ftruncate, unlink, syncDir. */
  mutations: number;
  creates: number;
  /** Every writev, including those through O_DSYNC descriptors (also counted in dsyncWrites). */
  writes: number;
  dsyncWrites: number;
  syncs: number;
  truncates: number;
  unlinks: number;
  dirSyncs: number;
  /** The most writev calls that were in flight (called, not yet finished) at the same time. */
  peakWritesInFlight: number;
}

type UnsyncedOperation =
  | { kind: "write"; position: number; data: Buffer }
  | { kind: "truncate"; sizeBytes: number };

interface MemoryInode {
  content: Buffer;
  sizeBytes: number;
  durable: Buffer;
  unsynced: UnsyncedOperation[];
}

function errnoError(code: string, message: string): Error {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

/** mulberry32: a tiny seeded generator, so a torn crash is reproducible from its seed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function writeInto(inode: MemoryInode, position: number, data: Uint8Array): void {
  const end = position + data.length;
  if (end > inode.content.length) {
    const grown = Buffer.alloc(Math.max(end, inode.content.length * 2, 256));
    inode.content.copy(grown, 0, 0, inode.sizeBytes);
    inode.content = grown;
  }
  if (position > inode.sizeBytes) inode.content.fill(0, inode.sizeBytes, position);
  inode.content.set(data, position);
  inode.sizeBytes = Math.max(inode.sizeBytes, end);
}

function truncateTo(inode: MemoryInode, sizeBytes: number): void {
  // Growing zero-fills, like ftruncate(2); shrinking just forgets the bytes past the new end.
  if (sizeBytes > inode.sizeBytes) writeInto(inode, sizeBytes, new Uint8Array(0));
  else inode.sizeBytes = sizeBytes;
}

export class MemoryFileIo implements FileIo {
  readonly counters: MemoryFileIoCounters = {
    mutations: 0,
    creates: 0,
    writes: 0,
    dsyncWrites: 0,
    syncs: 0,
    truncates: 0,
    unlinks: 0,
    dirSyncs: 0,
    peakWritesInFlight: 0,
  };
  /** When set, a write that would grow the files past this many bytes in total is short or fails with ENOSPC. */
  capacityBytes: number | undefined;

  readonly #dirs = new Set<string>(["/"]);
  #names = new Map<string, MemoryInode>();
  readonly #durableNames = new Map<string, MemoryInode>();
  readonly #fds = new Map<number, { inode: MemoryInode; dsync: boolean }>();
  #nextFd = 3;
  #lastWritten: MemoryInode | null = null;
  readonly #faults = new Map<MemoryFaultOperation, string>();
  readonly #holds = new Map<MemoryFaultOperation, Promise<void>>();
  #armedCrash: { atMutation: number; options: MemoryCrashOptions } | null = null;
  readonly #dsyncSupported: boolean;
  readonly #latency: { random: () => number; maxTurns: number } | null;
  #writesInFlight = 0;

  constructor(options: MemoryFileIoOptions = {}) {
    this.#dsyncSupported = options.dsync ?? true;
    const latency = options.latency;
    this.#latency =
      latency === undefined ? null : { random: seededRandom(latency.seed), maxTurns: latency.maxTurns };
  }

  /**
   * The next writev fails with `code` (default ENOSPC) and writes nothing. The fault belongs to the next
   * call, even if that call is then held or delayed while later ones go through.
   */
  failNextWrite(code = "ENOSPC"): void {
    this.#faults.set("write", code);
  }

  /** The next fdatasync fails with `code` (default EIO) and makes nothing durable. */
  failNextSync(code = "EIO"): void {
    this.#faults.set("sync", code);
  }

  failNext(operation: MemoryFaultOperation, code: string): void {
    this.#faults.set(operation, code);
  }

  /**
   * The next call of `operation` waits until the returned function is called, so that a test can act
   * while a write or a sync is in flight (memory I/O otherwise completes within the same tick).
   */
  holdNext(operation: "write" | "sync"): () => void {
    let release: () => void = () => {};
    this.#holds.set(operation, new Promise<void>((resolve) => (release = resolve)));
    return () => release();
  }

  /**
   * Crash during the `atMutation`-th mutating call since this store was made (see counters): the call
   * fails with ECRASHED, every descriptor is closed, and only durable state is left; with
   * `tearLastWrite`, part of that call's data (if it is a write) or of the last unsynced write may survive.
   */
  crashAtMutation(atMutation: number, options: MemoryCrashOptions = {}): void {
    this.#armedCrash = { atMutation, options };
  }

  /** Forgets everything not made durable, closes every descriptor. */
  crash(options: MemoryCrashOptions = {}): void {
    const torn = options.tearLastWrite === true ? this.#lastWritten : null;
    const random = seededRandom(options.seed ?? 1);
    this.#names = new Map(this.#durableNames);
    for (const inode of new Set(this.#names.values())) {
      const unsynced = inode.unsynced;
      inode.content = Buffer.from(inode.durable);
      inode.sizeBytes = inode.durable.length;
      inode.unsynced = [];
      if (inode === torn && unsynced.length > 0) this.#tear(inode, unsynced, random);
    }
    this.#fds.clear();
    this.#lastWritten = null;
    this.#armedCrash = null;
  }

  /** The current (volatile) content of a file, or undefined if it does not exist. */
  fileContent(filePath: string): Buffer | undefined {
    const inode = this.#names.get(path.resolve(filePath));
    return inode === undefined ? undefined : Buffer.from(inode.content.subarray(0, inode.sizeBytes));
  }

  /** Replaces (or creates) a file with `content`, durable at once: for tests that damage a segment. */
  setFileContent(filePath: string, content: Uint8Array): void {
    const resolved = path.resolve(filePath);
    this.#assertParentExists(resolved);
    const existing = this.#names.get(resolved);
    const inode = existing ?? {
      content: Buffer.alloc(0),
      sizeBytes: 0,
      durable: Buffer.alloc(0),
      unsynced: [],
    };
    inode.content = Buffer.from(content);
    inode.sizeBytes = content.length;
    inode.durable = Buffer.from(content);
    inode.unsynced = [];
    this.#names.set(resolved, inode);
    this.#durableNames.set(resolved, inode);
  }

  async open(filePath: string, mode: OpenMode): Promise<number> {
    const resolved = path.resolve(filePath);
    if (mode === "create") {
      this.#mutation("creates", this.#claimFault("create"));
      this.#assertParentExists(resolved);
      if (this.#names.has(resolved) || this.#dirs.has(resolved))
        throw errnoError("EEXIST", `open '${resolved}'`);
      const inode: MemoryInode = {
        content: Buffer.alloc(0),
        sizeBytes: 0,
        durable: Buffer.alloc(0),
        unsynced: [],
      };
      this.#names.set(resolved, inode);
      return this.#allocateFd(inode, false);
    }
    const inode = this.#names.get(resolved);
    if (inode === undefined) throw errnoError("ENOENT", `open '${resolved}'`);
    if (mode === "read-write-dsync" && !this.#dsyncSupported)
      throw errnoError("ENOTSUP", "no O_DSYNC (simulated)");
    return this.#allocateFd(inode, mode === "read-write-dsync");
  }

  async writev(fd: number, buffers: readonly Buffer[], position: number): Promise<number> {
    const fault = this.#claimFault("write");
    const data = Buffer.concat(buffers); // copied now: the caller may reuse its buffers once we return
    this.#writesInFlight += 1;
    this.counters.peakWritesInFlight = Math.max(this.counters.peakWritesInFlight, this.#writesInFlight);
    try {
      await this.#waitIfHeld("write");
      await this.#delay();
      return this.#applyWrite(fd, data, position, fault);
    } finally {
      this.#writesInFlight -= 1;
    }
  }

  /**
   * writev done at once, for the WAL's inline writes. It cannot wait, so it refuses to run while a
   * write is held or with `latency`: a test that needs writes in flight opens its Wal with writeMode
   * "thread-pool".
   */
  writevSync(fd: number, buffers: readonly Buffer[], position: number): number {
    if (this.#holds.has("write") || this.#latency !== null) {
      throw errnoError(
        "EINVAL",
        "MemoryFileIo.writevSync cannot hold or delay a write: use the Wal's writeMode \"thread-pool\"",
      );
    }
    const fault = this.#claimFault("write");
    return this.#applyWrite(fd, Buffer.concat(buffers), position, fault);
  }

  #applyWrite(fd: number, data: Buffer, position: number, fault: string | undefined): number {
    const open = this.#fds.get(fd);
    // A crash during this call may leave part of its data behind (when tearing).
    const interrupted = open === undefined ? undefined : { inode: open.inode, position, data };
    this.#mutation("writes", fault, interrupted);
    const { inode, dsync } = this.#open(fd);
    const writable = Math.min(data.length, this.#writableBytesAt(inode, position));
    if (writable <= 0 && data.length > 0) throw errnoError("ENOSPC", "no space left on device (simulated)");
    const written = data.subarray(0, writable);
    writeInto(inode, position, written);
    if (dsync) {
      // O_DSYNC: this range and the new size are durable now; earlier unsynced writes are not.
      this.counters.dsyncWrites += 1;
      const durable: MemoryInode = { ...inode, content: inode.durable, sizeBytes: inode.durable.length };
      writeInto(durable, position, written);
      inode.durable = Buffer.from(durable.content.subarray(0, durable.sizeBytes));
    } else {
      inode.unsynced.push({ kind: "write", position, data: Buffer.from(written) });
      this.#lastWritten = inode;
    }
    return writable;
  }

  async read(
    fd: number,
    buffer: Buffer,
    bufferOffset: number,
    length: number,
    position: number,
  ): Promise<number> {
    const inode = this.#inode(fd);
    const end = Math.min(inode.sizeBytes, position + length);
    if (end <= position) return 0;
    inode.content.copy(buffer, bufferOffset, position, end);
    return end - position;
  }

  async fdatasync(fd: number): Promise<void> {
    const fault = this.#claimFault("sync");
    await this.#waitIfHeld("sync");
    await this.#delay();
    this.#mutation("syncs", fault);
    const inode = this.#inode(fd);
    inode.durable = Buffer.from(inode.content.subarray(0, inode.sizeBytes));
    inode.unsynced = [];
    if (this.#lastWritten === inode) this.#lastWritten = null;
  }

  async ftruncate(fd: number, sizeBytes: number): Promise<void> {
    this.#mutation("truncates", this.#claimFault("truncate"));
    const inode = this.#inode(fd);
    truncateTo(inode, sizeBytes);
    inode.unsynced.push({ kind: "truncate", sizeBytes });
  }

  async fileSize(fd: number): Promise<number> {
    return this.#inode(fd).sizeBytes;
  }

  async close(fd: number): Promise<void> {
    if (!this.#fds.delete(fd)) throw errnoError("EBADF", `close ${fd}`);
  }

  async unlink(filePath: string): Promise<void> {
    this.#mutation("unlinks", undefined);
    const resolved = path.resolve(filePath);
    if (!this.#names.delete(resolved)) throw errnoError("ENOENT", `unlink '${resolved}'`);
  }

  async readdir(dir: string): Promise<string[]> {
    const resolved = path.resolve(dir);
    if (!this.#dirs.has(resolved)) {
      throw errnoError(this.#names.has(resolved) ? "ENOTDIR" : "ENOENT", `scandir '${resolved}'`);
    }
    const names: string[] = [];
    for (const entry of [...this.#names.keys(), ...this.#dirs]) {
      if (entry !== resolved && path.dirname(entry) === resolved) names.push(path.basename(entry));
    }
    return names.sort();
  }

  async mkdir(dir: string): Promise<boolean> {
    const resolved = path.resolve(dir);
    const missing: string[] = [];
    for (let current = resolved; !this.#dirs.has(current); current = path.dirname(current)) {
      if (this.#names.has(current)) throw errnoError("ENOTDIR", `mkdir '${resolved}'`);
      missing.push(current);
    }
    for (const created of missing) this.#dirs.add(created);
    return missing.length > 0;
  }

  async syncDir(dir: string): Promise<void> {
    this.#mutation("dirSyncs", undefined);
    const resolved = path.resolve(dir);
    if (!this.#dirs.has(resolved)) throw errnoError("ENOENT", `open '${resolved}'`);
    for (const name of [...this.#durableNames.keys()]) {
      if (path.dirname(name) === resolved && !this.#names.has(name)) this.#durableNames.delete(name);
    }
    for (const [name, inode] of this.#names) {
      if (path.dirname(name) === resolved) this.#durableNames.set(name, inode);
    }
  }

  #mutation(
    counter: Exclude<keyof MemoryFileIoCounters, "mutations" | "dsyncWrites" | "peakWritesInFlight">,
    faultCode: string | undefined,
    interrupted?: { inode: MemoryInode; position: number; data: Buffer },
  ): void {
    this.counters.mutations += 1;
    this.counters[counter] += 1;
    if (this.#armedCrash !== null && this.counters.mutations >= this.#armedCrash.atMutation) {
      if (interrupted !== undefined) {
        interrupted.inode.unsynced.push({
          kind: "write",
          position: interrupted.position,
          data: interrupted.data,
        });
        this.#lastWritten = interrupted.inode;
      }
      this.crash(this.#armedCrash.options);
      throw errnoError("ECRASHED", "simulated crash");
    }
    if (faultCode !== undefined) throw errnoError(faultCode, `simulated ${counter} failure`);
  }

  #claimFault(operation: MemoryFaultOperation): string | undefined {
    const code = this.#faults.get(operation);
    if (code !== undefined) this.#faults.delete(operation);
    return code;
  }

  async #delay(): Promise<void> {
    if (this.#latency === null) return;
    const turns = Math.floor(this.#latency.random() * (this.#latency.maxTurns + 1));
    for (let turn = 0; turn < turns; turn += 1) await new Promise((resolve) => setImmediate(resolve));
  }

  async #waitIfHeld(operation: MemoryFaultOperation): Promise<void> {
    const hold = this.#holds.get(operation);
    if (hold === undefined) return;
    this.#holds.delete(operation);
    await hold;
  }

  /** Keeps some whole unsynced operations, then a prefix of the next write, maybe followed by junk. */
  #tear(inode: MemoryInode, unsynced: readonly UnsyncedOperation[], random: () => number): void {
    const keptWhole = Math.floor(random() * unsynced.length);
    for (const operation of unsynced.slice(0, keptWhole)) {
      if (operation.kind === "write") writeInto(inode, operation.position, operation.data);
      else truncateTo(inode, operation.sizeBytes);
    }
    const next = unsynced[keptWhole];
    if (next === undefined || next.kind !== "write" || next.data.length === 0) return;
    const prefixBytes = Math.floor(random() * next.data.length);
    writeInto(inode, next.position, next.data.subarray(0, prefixBytes));
    const junkBytes = Math.floor(random() * (next.data.length - prefixBytes + 1));
    const junkKind = random();
    if (junkBytes === 0 || junkKind < 1 / 3) return;
    const junk = Buffer.alloc(junkBytes);
    if (junkKind < 2 / 3) for (let i = 0; i < junkBytes; i += 1) junk[i] = Math.floor(random() * 256);
    writeInto(inode, next.position + prefixBytes, junk);
  }

  #writableBytesAt(inode: MemoryInode, position: number): number {
    if (this.capacityBytes === undefined) return Number.POSITIVE_INFINITY;
    let usedBytes = 0;
    for (const other of new Set(this.#names.values())) usedBytes += other.sizeBytes;
    const maxEnd = Math.max(inode.sizeBytes, position) + (this.capacityBytes - usedBytes);
    return maxEnd - position;
  }

  #assertParentExists(resolved: string): void {
    const parent = path.dirname(resolved);
    if (this.#dirs.has(parent)) return;
    throw errnoError(this.#names.has(parent) ? "ENOTDIR" : "ENOENT", `open '${resolved}'`);
  }

  #allocateFd(inode: MemoryInode, dsync: boolean): number {
    const fd = this.#nextFd;
    this.#nextFd += 1;
    this.#fds.set(fd, { inode, dsync });
    return fd;
  }

  #open(fd: number): { inode: MemoryInode; dsync: boolean } {
    const open = this.#fds.get(fd);
    if (open === undefined) throw errnoError("EBADF", `bad file descriptor ${fd}`);
    return open;
  }

  #inode(fd: number): MemoryInode {
    return this.#open(fd).inode;
  }
}
