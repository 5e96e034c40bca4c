import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AccessControl } from "../src/access-control.js";
import { SecurityFile } from "../src/security-file.js";

describe("SecurityFile", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "leveret-security-file-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("has nothing on a fresh data dir, and gives back what was saved", async () => {
    const file = new SecurityFile(dir);
    expect(await file.load()).toBeUndefined();
    const control = AccessControl.withDefaults();
    control.addVhost("app");
    control.addUser("bob", "pw", ["monitoring"]);
    control.setPermissions("bob", "app", { configure: "^b-", write: "", read: ".*" });
    control.deleteVhost("app");
    await file.save(control.snapshot());
    expect(await file.load()).toEqual(control.snapshot());
    // Replaced, not appended to; no temporary file left; readable by the owner only (password hashes).
    await file.save(AccessControl.withDefaults().snapshot());
    expect((await file.load())?.users.map((u) => u.name)).toEqual(["guest"]);
    expect(await readdir(dir)).toEqual(["security.json"]);
    expect((await stat(file.path)).mode & 0o777).toBe(0o600);
  });

  it("writes RabbitMQ's vocabulary, readable by a person", async () => {
    const file = new SecurityFile(dir);
    await file.save(AccessControl.withDefaults().snapshot());
    const json = JSON.parse(await readFile(file.path, "utf8"));
    expect(json.format).toBe("leveret-security/1");
    expect(json.users[0]).toMatchObject({
      name: "guest",
      hashing_algorithm: "rabbit_password_hashing_sha256",
      tags: ["administrator"],
    });
    expect(json.permissions[0]).toEqual({
      user: "guest",
      vhost: "/",
      configure: ".*",
      write: ".*",
      read: ".*",
    });
  });

  it("ignores a temporary file left by a crash before the rename", async () => {
    const file = new SecurityFile(dir);
    await file.save(AccessControl.withDefaults().snapshot());
    await writeFile(`${file.path}.tmp`, '{"format":"leveret-secu'); // torn write of the next save
    expect((await file.load())?.vhosts).toEqual(["/"]);
    await file.save(AccessControl.withDefaults().snapshot());
    expect(await readdir(dir)).toEqual(["security.json"]);
  });

  it("refuses a damaged file, naming it and the problem", async () => {
    const file = new SecurityFile(dir);
    const refusal = async (content: string) => {
      await writeFile(file.path, content);
      return file.load().then(
        () => "loaded",
        (error: Error & { code?: string }) => `${error.code}: ${error.message}`,
      );
    };
    const prefix = `CORE_PRECONDITION_FAILED: security file '${file.path}'`;
    expect(await refusal("{")).toMatch(new RegExp(`^${escapeRegExp(prefix)} is not valid JSON`));
    expect(await refusal('{"format":"other"}')).toBe(
      `${prefix} has format "other", expected "leveret-security/1"`,
    );
    const valid = {
      format: "leveret-security/1",
      users: [],
      vhosts: [{ name: "/" }],
      permissions: [],
      pending_vhost_purges: [],
    };
    expect(await refusal(JSON.stringify({ ...valid, vhosts: "/" }))).toBe(
      `${prefix} vhosts must be an array`,
    );
    expect(
      await refusal(
        JSON.stringify({
          ...valid,
          permissions: [{ user: "x", vhost: "/", configure: "", write: "", read: "" }],
        }),
      ),
    ).toBe(`${prefix} no user 'x'`);
    expect(await refusal(JSON.stringify(valid))).toBe("loaded");
  });

  it("never writes a snapshot that load() would refuse", async () => {
    const file = new SecurityFile(dir);
    const snapshot = AccessControl.withDefaults().snapshot();
    snapshot.permissions.push({ user: "ghost", vhost: "/", configure: "", write: "", read: "" });
    await expect(file.save(snapshot)).rejects.toThrow("no user 'ghost'");
    expect(await file.load()).toBeUndefined();
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
