/**
 * The open descriptors of segment files, shared by the writer (which holds a lease on the active
 * segment for as long as it appends to it) and by readers (body reads, compaction scans). Idle
 * descriptors of sealed segments are kept for reuse, up to a limit, and closed least recently used
 * first, so a long backlog of segments cannot exhaust the process's file-descriptor limit.
 *
 * A descriptor is closed only once no lease on it is left: closing under an in-flight read could let
 * the kernel reuse the number for another file and the read land there.
 *
 * It does not read, write or sync. It owns no buffers.
 */
import { Buffer } from "node:buffer";
import * as path from "node:path";
import { assertWal } from "./errors.js";
import type { FileIo } from "./file-io.js";
import { segmentFileName } from "./segment-format.js";

/** Well under the common `ulimit -n` of 1024, which the broker's sockets need far more than we do. */
export const MAX_OPEN_SEGMENT_FILES = 64;

export interface SegmentFileLease {
  readonly fd: number;
  release(): void;
}

interface OpenSegmentFile {
  readonly segment: number;
  readonly fd: Promise<number>;
  leases: number;
  lastUseTick: number;
  whenUnused: (() => void)[];
}

type CloseErrorReporter = (segment: number, error: unknown) => void;

export class SegmentFiles {
  readonly dir: string;
  readonly #io: FileIo;
  readonly #maxOpenFiles: number;
  readonly #reportCloseError: CloseErrorReporter;
  readonly #open = new Map<number, OpenSegmentFile>();
  #tick = 0;

  constructor(
    io: FileIo,
    dir: string,
    reportCloseError: CloseErrorReporter,
    maxOpenFiles = MAX_OPEN_SEGMENT_FILES,
  ) {
    this.#io = io;
    this.dir = dir;
    this.#reportCloseError = reportCloseError;
    this.#maxOpenFiles = maxOpenFiles;
  }

  pathOf(segment: number): string {
    return path.join(this.dir, segmentFileName(segment));
  }

  /** Registers the descriptor of a segment file the caller has just created. */
  adopt(segment: number, fd: number): void {
    assertWal(!this.#open.has(segment), `segment ${segment} already has an open descriptor`);
    this.#open.set(segment, { segment, fd: Promise.resolve(fd), leases: 0, lastUseTick: 0, whenUnused: [] });
  }

  /** A lease on a descriptor of `segment`, opening the file if needed. Release it when done. */
  async acquire(segment: number): Promise<SegmentFileLease> {
    let file = this.#open.get(segment);
    if (file === undefined) {
      const opened: OpenSegmentFile = {
        segment,
        fd: this.#io.open(this.pathOf(segment), "read-write"),
        leases: 0,
        lastUseTick: 0,
        whenUnused: [],
      };
      opened.fd.catch(() => {
        if (this.#open.get(segment) === opened) this.#open.delete(segment);
      });
      this.#open.set(segment, opened);
      file = opened;
    }
    file.leases += 1;
    this.#tick += 1;
    file.lastUseTick = this.#tick;
    this.#evictIdle();
    let fd: number;
    try {
      fd = await file.fd;
    } catch (error) {
      this.#unlease(file);
      throw error;
    }
    const leased = file;
    let released = false;
    return {
      fd,
      release: () => {
        if (released) return;
        released = true;
        this.#unlease(leased);
      },
    };
  }

  /** Forgets the descriptor of `segment` and closes it once every lease on it is released. */
  async close(segment: number): Promise<void> {
    const file = this.#open.get(segment);
    if (file === undefined) return;
    this.#open.delete(segment);
    await this.#closeWhenUnused(file);
  }

  async closeAll(): Promise<void> {
    const files = [...this.#open.values()];
    this.#open.clear();
    await Promise.all(files.map((file) => this.#closeWhenUnused(file)));
  }

  #unlease(file: OpenSegmentFile): void {
    file.leases -= 1;
    if (file.leases > 0) return;
    const waiters = file.whenUnused;
    file.whenUnused = [];
    for (const wake of waiters) wake();
    this.#evictIdle();
  }

  async #closeWhenUnused(file: OpenSegmentFile): Promise<void> {
    if (file.leases > 0) await new Promise<void>((resolve) => file.whenUnused.push(resolve));
    let fd: number;
    try {
      fd = await file.fd;
    } catch {
      return; // never opened: nothing to close
    }
    await this.#io.close(fd);
  }

  #evictIdle(): void {
    while (this.#open.size > this.#maxOpenFiles) {
      let oldest: OpenSegmentFile | undefined;
      for (const file of this.#open.values()) {
        if (file.leases === 0 && (oldest === undefined || file.lastUseTick < oldest.lastUseTick))
          oldest = file;
      }
      if (oldest === undefined) return;
      this.#open.delete(oldest.segment);
      const evicted = oldest;
      // Only idle descriptors of sealed, already synced segments are evicted, so a failed close
      // loses no data; it is still reported, since it may mean the disk is failing.
      this.#closeWhenUnused(evicted).catch((error: unknown) =>
        this.#reportCloseError(evicted.segment, error),
      );
    }
  }
}

/** Reads up to `length` bytes at `position` into a new buffer; shorter only at end of file. */
export async function readAt(io: FileIo, fd: number, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const bytesRead = await io.read(fd, buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled === length ? buffer : buffer.subarray(0, filled);
}
