import { writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { makeTempDir, removeTempDir, startBroker } from "@leveret/testkit";
import { describe, expect, it } from "vitest";
import { connect, connectionClosed } from "./support/amqp.js";
import { runLeveret as run } from "./support/security.js";

describe("the leveret command", () => {
  it("prints 'listening on amqp://HOST:PORT' when ready and honours LEVERET_* variables", async () => {
    const dataDir = await makeTempDir();
    const broker = await startBroker({ dataDir, env: { LEVERET_FSYNC: "batch" } });
    expect(broker.output()).toMatch(/listening on amqp:\/\/127\.0\.0\.1:\d+/);
    await broker.stop();
    await removeTempDir(dataDir);
  });

  it("rejects an unknown flag with a one-line error and a non-zero exit", async () => {
    const result = await run(["--no-such-flag"]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/unknown option '--no-such-flag'/);
  });

  it("rejects a bad value naming the setting", async () => {
    const result = await run(["--port", "99999", "--data-dir", "/tmp/unused"]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe("leveret: --port must be between 0 and 65535, got 99999");
    const fromEnv = await run([], { LEVERET_FSYNC: "sometimes" });
    expect(fromEnv.code).toBe(1);
    expect(fromEnv.stderr).toMatch(/LEVERET_FSYNC must be one of always, batch, none/);
    const writeMode = await run(["--wal-write-mode", "async", "--data-dir", "/tmp/unused"]);
    expect(writeMode.code).toBe(1);
    expect(writeMode.stderr.trim()).toBe("leveret: --wal-write-mode must be one of inline, thread-pool; got 'async'");
  });

  it("stops at once when the port is in use", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as { port: number }).port;
    const dataDir = await makeTempDir();
    const result = await run(["--host", "127.0.0.1", "--port", String(port), "--data-dir", dataDir]);
    blocker.close();
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`port ${port} on 127.0.0.1 is already in use`));
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    await removeTempDir(dataDir);
  });

  it("stops at once when the data dir is not writable", async () => {
    const dir = await makeTempDir();
    const file = join(dir, "plain-file");
    await writeFile(file, "not a directory");
    const result = await run(["--port", "0", "--data-dir", join(file, "data")]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/data dir '.*plain-file\/data' is not writable/);
    await removeTempDir(dir);
  });

  it("refuses a data dir that another running broker holds", async () => {
    const dataDir = await makeTempDir();
    const broker = await startBroker({ dataDir });
    const result = await run(["--port", "0", "--data-dir", dataDir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/in use by another broker/);
    await broker.stop();
    await removeTempDir(dataDir);
  });

  it("on SIGTERM closes client connections with 320 CONNECTION_FORCED and exits 0", async () => {
    const broker = await startBroker();
    const connection = await connect(broker.url);
    const closed = connectionClosed(connection);
    const code = await broker.stop("SIGTERM");
    expect(String(await closed)).toMatch(/320|CONNECTION_FORCED/);
    expect(code).toBe(0);
  });
});
