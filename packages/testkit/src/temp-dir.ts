/**
 * Temporary directories for tests: each test gets its own data dir under the OS temp dir, removed by
 * the caller (or left behind for post-mortem when LEVERET_KEEP_TEST_DATA=1).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export async function makeTempDir(prefix = "leveret-test-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function removeTempDir(dir: string): Promise<void> {
  if (process.env.LEVERET_KEEP_TEST_DATA === "1") return;
  await rm(dir, { recursive: true, force: true });
}
