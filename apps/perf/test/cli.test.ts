import { describe, expect, it } from "vitest";
import { main } from "../src/cli.js";

/** Runs the CLI with flags that fail before any connection is made; returns exit code and output. */
async function run(...flags: string[]) {
  let stdout = "";
  let stderr = "";
  const io = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  };
  const code = await main(["node", "leveret-perf", ...flags], io);
  return { code, stdout, stderr };
}

describe("leveret-perf command line", () => {
  it("documents every flag in --help and exits 0", async () => {
    const { code, stdout } = await run("--help");
    expect(code).toBe(0);
    for (const flag of [
      "--url",
      "--producers",
      "--consumers",
      "--size",
      "--persistent",
      "--confirm",
      "--prefetch",
      "--autoack",
      "--queues",
      "--queue-prefix",
      "--queue-args",
      "--exchange-type",
      "--duration",
      "--count",
      "--rate",
      "--grace",
      "--keep",
      "--json",
    ]) {
      expect(stdout).toContain(flag);
    }
  });

  it("exits 2 on a malformed number", async () => {
    const { code, stderr } = await run("--producers", "two");
    expect(code).toBe(2);
    expect(stderr).toMatch(/--producers/);
  });

  it("exits 2 on queue args that are not a JSON object", async () => {
    expect((await run("--queue-args", "[1]")).code).toBe(2);
    expect((await run("--queue-args", "{oops")).code).toBe(2);
  });

  it("exits 2 on an unknown exchange type", async () => {
    expect((await run("--exchange-type", "headers")).code).toBe(2);
  });

  it("exits 2 with the error code when the values do not make a run", async () => {
    const { code, stderr } = await run("--size", "8");
    expect(code).toBe(2);
    expect(stderr).toMatch(/PERF_USAGE: --size must be an integer from 16/);
  });
});
