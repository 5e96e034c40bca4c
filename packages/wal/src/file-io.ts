/**
 * The file operations the WAL needs, behind an interface so that tests can swap real files for
 * MemoryFileIo and simulate crashes and faults. NodeFileIo is the real implementation.
 *
 * It is deliberately small: positional writes and reads on numeric descriptors, data syncs, and the
 * few directory operations that make a segment's creation or deletion durable. Every call returns a
 * promise: the hot path is one writev (through an O_DSYNC descriptor) or one writev and one fdatasync
 * per group commit, and a promise per batch costs nothing next to a disk sync (measured in bench/).
 *
 * Buffer ownership: `writev` may keep no reference to the buffers after its promise settles; `read`
 * fills the caller's buffer.
 */

export type OpenMode =
  /** Create a new file for reading and writing; fail with EEXIST if it exists. */
  | "create"
  /** Open an existing file for reading and writing; fail with ENOENT if it does not exist. */
  | "read-write"
  /**
   * Like "read-write", with O_DSYNC: a write returns only once its bytes (and the file size) are
   * durable, as if followed by fdatasync, which saves the sync's own thread-pool round trip. Only the
   * written range is covered, not earlier unsynced writes. An implementation without O_DSYNC rejects,
   * and the WAL falls back to fdatasync.
   */
  | "read-write-dsync";

export interface FileIo {
  open(path: string, mode: OpenMode): Promise<number>;
  /** Writes the buffers back to back at `position`. Resolves with the bytes written, which may be short. */
  writev(fd: number, buffers: readonly Buffer[], position: number): Promise<number>;
  /**
   * Optional: the same write, done on the calling thread before it returns (and so blocking it). The
   * WAL uses it for record writes when its writeMode is "inline" (inline-write-policy.ts); without it,
   * every write goes through `writev`.
   */
  writevSync?(fd: number, buffers: readonly Buffer[], position: number): number;
  /** Reads up to `length` bytes at `position` into `buffer[bufferOffset..]`. Resolves with bytes read (0 at EOF). */
  read(fd: number, buffer: Buffer, bufferOffset: number, length: number, position: number): Promise<number>;
  /** Makes the file's data (and its size) durable. */
  fdatasync(fd: number): Promise<void>;
  ftruncate(fd: number, sizeBytes: number): Promise<void>;
  fileSize(fd: number): Promise<number>;
  close(fd: number): Promise<void>;
  unlink(path: string): Promise<void>;
  /** The names (not paths) of the entries in `dir`. */
  readdir(dir: string): Promise<string[]>;
  /** Creates `dir` and its missing parents. Resolves true if it created anything. */
  mkdir(dir: string): Promise<boolean>;
  /** Makes the creation and deletion of entries in `dir` durable (fsync of the directory). */
  syncDir(dir: string): Promise<void>;
}
