/**
 * The package as users get it: the built ESM and CommonJS entry points loaded by tiny consumer
 * projects (and type-checked as .mts and .cts), and `npm pack` installed into an empty directory
 * where the README's quick start runs against the broker. Needs `pnpm build` first.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BrokerCleanup, type TestBroker, uniqueName, useBroker } from "./support/broker.js";

const run = promisify(execFile);
const packageDir = fileURLToPath(new URL("..", import.meta.url));
const repoRoot = join(packageDir, "..", "..");

let broker: TestBroker;
let workDir: string;
const cleanup = new BrokerCleanup();

beforeAll(async () => {
  for (const entry of [
    "dist/index.js",
    "dist/index.d.ts",
    "dist/cjs/index.js",
    "dist/cjs/index.d.ts",
    "dist/cjs/package.json",
  ]) {
    if (!existsSync(join(packageDir, entry)))
      throw new Error(`${entry} is missing: run \`pnpm build\` first`);
  }
  broker = await useBroker();
  workDir = await mkdtemp(join(tmpdir(), "leveret-client-pkg-"));
});

afterAll(async () => {
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
  await cleanup.run(broker.url);
  await broker?.stop();
});

/** A project whose node_modules/@leveret/client is this package, as a workspace link would be. */
async function linkedProject(name: string): Promise<string> {
  const dir = join(workDir, name);
  await mkdir(join(dir, "node_modules", "@leveret"), { recursive: true });
  await symlink(packageDir, join(dir, "node_modules", "@leveret", "client"), "dir");
  return dir;
}

const consumerBody = (queue: string) => `
  const client = await connect(process.env.AMQP_URL);
  await client.declare({ queues: [{ name: ${JSON.stringify(queue)}, durable: false }] });
  let got;
  const received = new Promise((resolve) => { got = resolve; });
  await client.consume(${JSON.stringify(queue)}, (message) => got(message.body));
  await client.publish("", ${JSON.stringify(queue)}, { from: "consumer project" }, { contentType: "application/msgpack" });
  const body = await received;
  await client.close();
  console.log(JSON.stringify({ body, code: ClientErrorCode.PublishNacked, isClass: typeof Client === "function" }));
`;

describe("packaging", () => {
  it("works from an ES module project (import)", async () => {
    const dir = await linkedProject("esm");
    const queue = cleanup.queue(uniqueName("pkg-esm"));
    await writeFile(join(dir, "package.json"), JSON.stringify({ type: "module" }));
    await writeFile(
      join(dir, "main.js"),
      `import { Client, ClientErrorCode, connect } from "@leveret/client";\n${consumerBody(queue)}`,
    );
    const { stdout } = await run(process.execPath, ["main.js"], {
      cwd: dir,
      env: { ...process.env, AMQP_URL: broker.url },
    });
    expect(JSON.parse(stdout)).toEqual({
      body: { from: "consumer project" },
      code: "CLIENT_PUBLISH_NACKED",
      isClass: true,
    });
  });

  it("works from a CommonJS project (require)", async () => {
    const dir = await linkedProject("cjs");
    const queue = cleanup.queue(uniqueName("pkg-cjs"));
    await writeFile(join(dir, "package.json"), JSON.stringify({ type: "commonjs" }));
    await writeFile(
      join(dir, "main.js"),
      `const { Client, ClientErrorCode, connect } = require("@leveret/client");\n(async () => {${consumerBody(queue)}})();`,
    );
    const { stdout } = await run(process.execPath, ["main.js"], {
      cwd: dir,
      env: { ...process.env, AMQP_URL: broker.url },
    });
    expect(JSON.parse(stdout)).toEqual({
      body: { from: "consumer project" },
      code: "CLIENT_PUBLISH_NACKED",
      isClass: true,
    });
  });

  it("ships types that check from both .mts and .cts files", async () => {
    const dir = await linkedProject("types");
    const source = (importLine: string) => `${importLine}
interface Order { id: number }
export async function main(url: string): Promise<number> {
  const client: Client = await connect({ urls: [url], connectionName: "typed" });
  const consumer = await client.consume<Order>("orders", async (message) => {
    const id: number = message.body.id;
    void id;
  }, { prefetch: 10, concurrency: 2, retry: { maxAttempts: 3, delayMs: 1000 } });
  await client.publish<Order>("", "orders", { id: 1 }, { mandatory: true });
  const reply = await client.rpc<{ ok: boolean }>("", "rpc", { id: 2 }, { timeoutMs: 5000 });
  await consumer.cancel();
  await client.close();
  return reply.body.ok ? 1 : 0;
}
`;
    await writeFile(join(dir, "esm.mts"), source(`import { type Client, connect } from "@leveret/client";`));
    await writeFile(join(dir, "cjs.cts"), source(`import { type Client, connect } from "@leveret/client";`));
    await writeFile(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "node16",
          moduleResolution: "node16",
          target: "es2022",
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          typeRoots: [join(repoRoot, "node_modules", "@types")],
          types: ["node"],
        },
        files: ["esm.mts", "cjs.cts"],
      }),
    );
    const tsc = join(repoRoot, "node_modules", "typescript", "bin", "tsc");
    await expect(run(process.execPath, [tsc, "-p", "."], { cwd: dir })).resolves.toBeDefined();
  });

  it("npm pack installs into an empty directory and the README quick start runs", async () => {
    const packDir = join(workDir, "pack");
    await mkdir(packDir);
    await run("npm", ["pack", "--pack-destination", packDir], { cwd: packageDir });
    const tarball = (await readdir(packDir)).find((file) => file.endsWith(".tgz"));
    expect(tarball).toBeDefined();

    const appDir = join(workDir, "app");
    await mkdir(appDir);
    await writeFile(
      join(appDir, "package.json"),
      JSON.stringify({ name: "quick-start-app", private: true, type: "module" }),
    );
    await run("npm", ["install", "--no-audit", "--no-fund", join(packDir, tarball!)], {
      cwd: appDir,
      timeout: 240_000,
    });

    const installed = join(appDir, "node_modules", "@leveret", "client");
    const manifest = JSON.parse(await readFile(join(installed, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    expect(Object.keys(manifest.dependencies).sort()).toEqual(["amqplib", "msgpackr"]);
    expect(JSON.stringify(manifest.dependencies)).not.toContain("workspace:");
    expect(existsSync(join(installed, "dist", ".tsbuildinfo"))).toBe(false);
    expect(existsSync(join(installed, "src"))).toBe(false);

    const readme = await readFile(join(installed, "README.md"), "utf8");
    const quickStart = /## Quick start[\s\S]*?```js\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(quickStart).toBeDefined();
    const queue = cleanup.queue(uniqueName("quick-start"));
    await writeFile(
      join(appDir, "quick-start.js"),
      quickStart!.replaceAll('"greetings"', JSON.stringify(queue)),
    );
    const { stdout } = await run(process.execPath, ["quick-start.js"], {
      cwd: appDir,
      env: { ...process.env, AMQP_URL: broker.url },
    });
    expect(stdout).toContain("received { hello: 'world' }");
  }, 300_000);
});
