/**
 * A FileIo over MemoryFileIo that tells zero-fill writes (every byte zero) from record writes, for the
 * prefill tests: it can hold zero writes until released, fail them, and it records every write that
 * grows a file and every record write issued over a zero write still in flight (which must never happen).
 */
import type { FileIo, OpenMode } from "../src/index.js";
import { MemoryFileIo } from "../src/index.js";

interface PendingZero {
  fd: number;
  start: number;
  end: number;
}

function isAllZero(buffers: readonly Buffer[]): boolean {
  let bytes = 0;
  for (const buffer of buffers) {
    bytes += buffer.length;
    for (let i = 0; i < buffer.length; i += 1) if (buffer[i] !== 0) return false;
  }
  return bytes > 0;
}

export class ZeroWatchingIo implements FileIo {
  readonly inner: MemoryFileIo;
  /**
   * Record (non-zero) writes past a segment's header that ran past the end of their file when issued.
   * Segment headers (written at offset 0 of a new, empty file) are counted in neither.
   */
  extendingRecordWrites = 0;
  recordWrites = 0;
  zeroWrites = 0;
  /** Record writes issued while a zero write over an overlapping range was still in flight. */
  readonly overlaps: string[] = [];
  /** While true, each zero write waits in `heldZeroWrites` until `releaseZeroWrites()`. */
  holdZeroWrites = false;
  /** The next this-many zero writes fail with `failZeroCode`. */
  failZeroWrites = 0;
  failZeroCode = "ENOSPC";
  readonly #held: (() => void)[] = [];
  readonly #pending = new Set<PendingZero>();
  /** Descriptor -> file path, so that writes through the O_DSYNC descriptor compare with the same file. */
  readonly #paths = new Map<number, string>();

  constructor(inner = new MemoryFileIo()) {
    this.inner = inner;
  }

  get heldZeroWrites(): number {
    return this.#held.length;
  }

  releaseZeroWrites(): void {
    for (const release of this.#held.splice(0)) release();
  }

  async open(path: string, mode: OpenMode): Promise<number> {
    const fd = await this.inner.open(path, mode);
    this.#paths.set(fd, path);
    return fd;
  }

  async writev(fd: number, buffers: readonly Buffer[], position: number): Promise<number> {
    let length = 0;
    for (const buffer of buffers) length += buffer.length;
    const path = this.#paths.get(fd);
    if (position === 0) return this.inner.writev(fd, buffers, position);
    if (!isAllZero(buffers)) {
      this.recordWrites += 1;
      for (const zero of this.#pending) {
        if (this.#paths.get(zero.fd) === path && position < zero.end && position + length > zero.start) {
          this.overlaps.push(
            `record [${position}, ${position + length}) over zeros [${zero.start}, ${zero.end})`,
          );
        }
      }
      const sizeBytes = path === undefined ? 0 : (this.inner.fileContent(path)?.length ?? 0);
      if (position + length > sizeBytes) this.extendingRecordWrites += 1;
      return this.inner.writev(fd, buffers, position);
    }
    this.zeroWrites += 1;
    const pending: PendingZero = { fd, start: position, end: position + length };
    this.#pending.add(pending);
    try {
      if (this.holdZeroWrites) await new Promise<void>((resolve) => this.#held.push(resolve));
      if (this.failZeroWrites > 0) {
        this.failZeroWrites -= 1;
        throw Object.assign(new Error(`${this.failZeroCode}: simulated`), { code: this.failZeroCode });
      }
      return await this.inner.writev(fd, buffers, position);
    } finally {
      this.#pending.delete(pending);
    }
  }

  read(fd: number, buffer: Buffer, bufferOffset: number, length: number, position: number): Promise<number> {
    return this.inner.read(fd, buffer, bufferOffset, length, position);
  }

  fdatasync(fd: number): Promise<void> {
    return this.inner.fdatasync(fd);
  }

  ftruncate(fd: number, sizeBytes: number): Promise<void> {
    return this.inner.ftruncate(fd, sizeBytes);
  }

  fileSize(fd: number): Promise<number> {
    return this.inner.fileSize(fd);
  }

  close(fd: number): Promise<void> {
    this.#paths.delete(fd);
    return this.inner.close(fd);
  }

  unlink(path: string): Promise<void> {
    return this.inner.unlink(path);
  }

  readdir(dir: string): Promise<string[]> {
    return this.inner.readdir(dir);
  }

  mkdir(dir: string): Promise<boolean> {
    return this.inner.mkdir(dir);
  }

  syncDir(dir: string): Promise<void> {
    return this.inner.syncDir(dir);
  }
}
