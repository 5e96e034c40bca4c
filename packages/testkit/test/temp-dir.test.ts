import { stat } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { makeTempDir, removeTempDir } from "../src/temp-dir.js";

describe("temp dirs", () => {
  it("creates a fresh directory and removes it", async () => {
    const dir = await makeTempDir("leveret-testkit-");
    expect((await stat(dir)).isDirectory()).toBe(true);
    await removeTempDir(dir);
    await expect(stat(dir)).rejects.toThrow();
  });
});
