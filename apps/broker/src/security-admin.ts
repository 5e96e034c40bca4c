/**
 * What `leveret users …` and `leveret vhosts …` share: find the data dir (flag > LEVERET_DATA_DIR >
 * ./data, as the broker does), take its lock so that no broker runs on it meanwhile (a running broker
 * would not see the change, and would overwrite it when it saves), change the security file, and report.
 *
 * Not here: the commands themselves (users-command.ts, vhosts-command.ts) and the file format
 * (SecurityFile in the core).
 */
import { AccessControl, CoreError, SecurityFile } from "@leveret/core";
import type { Command } from "commander";
import { resolveConfig } from "./config.js";
import { ConfigError } from "./config-error.js";
import { prepareDataDir } from "./data-dir.js";

/** A command's work: returns the lines to print on success. */
export type AdminTask = () => Promise<string[]>;

const IN_USE_HINT =
  "stop it first: users, vhosts and permissions are changed while no broker runs on the data dir";

/** The data dir a subcommand works on (its own or the program's --data-dir, else the environment). */
export function dataDirOf(command: Command): string {
  const { dataDir } = command.optsWithGlobals<{ dataDir?: string }>();
  return resolveConfig({ dataDir }, process.env).dataDir;
}

/** Loads, changes and saves the security file under the data dir's lock. */
export async function changeAccessControl(
  dataDir: string,
  change: (control: AccessControl) => string[],
): Promise<string[]> {
  const lock = await prepareDataDir(dataDir, IN_USE_HINT);
  try {
    const file = new SecurityFile(lock.path);
    const saved = await file.load();
    const control = saved ? AccessControl.fromSnapshot(saved) : AccessControl.withDefaults();
    const report = change(control);
    await file.save(control.snapshot());
    return report;
  } finally {
    await lock.release();
  }
}

/** Reads without the lock (the file is replaced atomically, so a reader never sees half of it). */
export async function readAccessControl(dataDir: string): Promise<AccessControl> {
  const saved = await new SecurityFile(dataDir).load();
  return saved ? AccessControl.fromSnapshot(saved) : AccessControl.withDefaults();
}

/** Runs a task: its lines on stdout and exit code 0, or one line on stderr and exit code 1. */
export async function runAdminTask(task: AdminTask): Promise<number> {
  try {
    const lines = await task();
    if (lines.length > 0) process.stdout.write(`${lines.join("\n")}\n`);
    return 0;
  } catch (error) {
    if (error instanceof ConfigError || error instanceof CoreError) {
      process.stderr.write(`leveret: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
