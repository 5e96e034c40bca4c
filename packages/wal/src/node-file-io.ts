/**
 * FileIo over real files with Node's callback `fs` API (one libuv thread-pool hop per call, no
 * FileHandle objects to allocate or garbage-collect), plus `writevSync` for the WAL's inline writes.
 *
 * It does not retry, buffer or cache anything: errors reach the caller with their errno `code`
 * (ENOSPC, EIO…) intact, which the Wal relies on to tell a full disk from a failed sync. Buffers passed
 * to `writev` are not kept after the promise settles.
 */
import * as fs from "node:fs";
import type { FileIo, OpenMode } from "./file-io.js";

const { O_RDWR, O_DSYNC } = fs.constants;
const OPEN_FLAGS: Record<Exclude<OpenMode, "read-write-dsync">, string> = {
  create: "wx+",
  "read-write": "r+",
};

export class NodeFileIo implements FileIo {
  open(path: string, mode: OpenMode): Promise<number> {
    if (mode === "read-write-dsync" && O_DSYNC === undefined) {
      return Promise.reject(
        Object.assign(new Error("ENOTSUP: O_DSYNC is not available"), { code: "ENOTSUP" }),
      );
    }
    const flags = mode === "read-write-dsync" ? O_RDWR | O_DSYNC : OPEN_FLAGS[mode];
    return new Promise((resolve, reject) => {
      fs.open(path, flags, 0o644, (error, fd) => (error ? reject(error) : resolve(fd)));
    });
  }

  writev(fd: number, buffers: readonly Buffer[], position: number): Promise<number> {
    return new Promise((resolve, reject) => {
      fs.writev(fd, buffers, position, (error, bytesWritten) =>
        error ? reject(error) : resolve(bytesWritten),
      );
    });
  }

  writevSync(fd: number, buffers: readonly Buffer[], position: number): number {
    return fs.writevSync(fd, buffers, position);
  }

  read(fd: number, buffer: Buffer, bufferOffset: number, length: number, position: number): Promise<number> {
    return new Promise((resolve, reject) => {
      fs.read(fd, buffer, bufferOffset, length, position, (error, bytesRead) =>
        error ? reject(error) : resolve(bytesRead),
      );
    });
  }

  fdatasync(fd: number): Promise<void> {
    return new Promise((resolve, reject) => {
      fs.fdatasync(fd, (error) => (error ? reject(error) : resolve()));
    });
  }

  ftruncate(fd: number, sizeBytes: number): Promise<void> {
    return new Promise((resolve, reject) => {
      fs.ftruncate(fd, sizeBytes, (error) => (error ? reject(error) : resolve()));
    });
  }

  fileSize(fd: number): Promise<number> {
    return new Promise((resolve, reject) => {
      fs.fstat(fd, (error, stats) => (error ? reject(error) : resolve(stats.size)));
    });
  }

  close(fd: number): Promise<void> {
    return new Promise((resolve, reject) => {
      fs.close(fd, (error) => (error ? reject(error) : resolve()));
    });
  }

  unlink(path: string): Promise<void> {
    return fs.promises.unlink(path);
  }

  readdir(dir: string): Promise<string[]> {
    return fs.promises.readdir(dir);
  }

  async mkdir(dir: string): Promise<boolean> {
    const firstCreated = await fs.promises.mkdir(dir, { recursive: true });
    return firstCreated !== undefined;
  }

  async syncDir(dir: string): Promise<void> {
    // A directory cannot be opened for writing; fsync on a read-only descriptor still commits its
    // entries on Linux, which is what makes a new or deleted segment file survive a power cut.
    const fd = await this.#openDirectory(dir);
    try {
      await new Promise<void>((resolve, reject) => {
        fs.fsync(fd, (error) => (error ? reject(error) : resolve()));
      });
    } finally {
      await this.close(fd);
    }
  }

  #openDirectory(dir: string): Promise<number> {
    return new Promise((resolve, reject) => {
      fs.open(dir, "r", (error, fd) => (error ? reject(error) : resolve(fd)));
    });
  }
}
