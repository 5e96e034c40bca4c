/**
 * Prepares the data directory before anything is stored in it: creates it, proves it writable, and
 * takes a lock file so that two brokers never write the same log (which would corrupt it). A lock left
 * by a killed broker is taken over once its process is gone.
 */
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { ConfigError } from "./config-error.js";

const LOCK_FILE = "leveret.lock";

export interface DataDirLock {
  readonly path: string;
  release(): Promise<void>;
}

/** `inUseHint` ends the message when another process holds the dir (what the user should do). */
export async function prepareDataDir(dataDir: string, inUseHint = "set --data-dir / LEVERET_DATA_DIR"): Promise<DataDirLock> {
  const dir = resolve(dataDir);
  try {
    await mkdir(dir, { recursive: true });
    const probe = join(dir, `.write-test-${process.pid}`);
    await writeFile(probe, "ok");
    await rm(probe);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "unknown error";
    throw new ConfigError(`data dir '${dir}' is not writable (${code}); set --data-dir / LEVERET_DATA_DIR to a writable directory`);
  }
  const lockPath = join(dir, LOCK_FILE);
  const holder = await readLockHolder(lockPath);
  if (holder !== undefined && holder !== process.pid && isAlive(holder)) {
    throw new ConfigError(`data dir '${dir}' is in use by another broker (pid ${holder}); ${inUseHint}`);
  }
  await writeFile(lockPath, String(process.pid));
  return {
    path: dir,
    release: async () => {
      if ((await readLockHolder(lockPath)) === process.pid) await rm(lockPath, { force: true });
    },
  };
}

async function readLockHolder(lockPath: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(lockPath, "utf8")).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
