/**
 * Opens the definitions log and keeps it small. Definitions churn (queues declared and deleted all day)
 * would otherwise grow the log forever, since its records are all in use until superseded. At open,
 * after replay, when the log holds more than twice the live definitions (plus a floor), the live set is
 * written to a fresh log beside it, synced, and swapped in by rename:
 *
 *   definitions.next  written and committed      (crash: .next is incomplete -> deleted at next open)
 *   definitions -> definitions.old               (crash: no definitions, .next complete -> renamed in)
 *   definitions.next -> definitions, fsync dir   (crash: .old left over -> deleted at next open)
 *
 * Only on real files: with an injected FileIo (tests) the log is opened as is.
 */
import { open, rename, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { type ReplayedRecord, Wal, type WalOptions } from "@leveret/wal";

export interface DefinitionRecordOut {
  type: number;
  payload: Buffer;
}

/** Below this many records a rewrite is not worth it. */
const MIN_RECORDS_BEFORE_REWRITE = 1000;

export async function openDefinitionsLog(
  options: WalOptions,
  apply: (record: ReplayedRecord) => void,
  liveRecords: () => DefinitionRecordOut[],
): Promise<Wal> {
  const realFiles = options.fileIo === undefined;
  if (realFiles) await settleInterruptedRewrite(options.dir);
  let replayed = 0;
  const wal = await Wal.open(options, (record) => {
    replayed++;
    apply(record);
  });
  if (!realFiles) return wal;
  const live = liveRecords();
  if (replayed <= Math.max(MIN_RECORDS_BEFORE_REWRITE, 2 * live.length)) return wal;
  await wal.close();
  await rewrite(options, live);
  return Wal.open(options, () => {});
}

async function rewrite(options: WalOptions, live: DefinitionRecordOut[]): Promise<void> {
  const next = `${options.dir}.next`;
  const old = `${options.dir}.old`;
  await rm(next, { recursive: true, force: true });
  const fresh = await Wal.open({ ...options, dir: next }, () => {});
  for (const record of live) fresh.append(record.type, record.payload);
  await fresh.commit();
  await fresh.close();
  await rename(options.dir, old);
  await rename(next, options.dir);
  await syncDirectory(dirname(options.dir));
  await rm(old, { recursive: true, force: true });
}

async function settleInterruptedRewrite(dir: string): Promise<void> {
  const next = `${dir}.next`;
  if (await exists(next)) {
    if (await exists(dir)) await rm(next, { recursive: true, force: true });
    else {
      await rename(next, dir);
      await syncDirectory(dirname(dir));
    }
  }
  await rm(`${dir}.old`, { recursive: true, force: true });
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
