import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { MemoryFileIo, Wal } from "../src/index.js";
import { recordingLogger, tempDir } from "./helpers.js";

describe("WAL directory", () => {
  it("creates a missing directory, with parents", async () => {
    const dir = path.join(tempDir(), "a", "b", "wal");
    const wal = await Wal.open({ dir, logger: recordingLogger() }, () => {});
    expect(fs.readdirSync(dir)).toEqual(["00000000000000000001.wal"]);
    await wal.close();
  });

  it("fails with WAL_DIR_UNUSABLE, naming the path and the cause, for a path under a regular file", async () => {
    const file = path.join(tempDir(), "regular-file");
    fs.writeFileSync(file, "not a directory");
    const dir = path.join(file, "wal");
    const failure = await Wal.open({ dir, logger: recordingLogger() }, () => {}).catch(
      (error: unknown) => error,
    );
    expect(failure).toMatchObject({ name: "WalError", code: "WAL_DIR_UNUSABLE" });
    expect((failure as Error).message).toContain(dir);
    expect((failure as Error).message).toMatch(/ENOTDIR|EEXIST/);
    expect((failure as { cause?: unknown }).cause).toBeDefined();
  });

  it("fails with WAL_DIR_UNUSABLE when the first segment cannot be created", async () => {
    const io = new MemoryFileIo();
    io.failNext("create", "EACCES");
    await expect(
      Wal.open({ dir: "/wal", fileIo: io, logger: recordingLogger() }, () => {}),
    ).rejects.toMatchObject({
      code: "WAL_DIR_UNUSABLE",
      message: expect.stringContaining("EACCES"),
    });
  });
});
