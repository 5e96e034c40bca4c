/**
 * Interop with clients other than amqplib: the seed's pika programs (Debian's python3-pika, run with
 * /usr/bin/python3) and amqp-tools (amqp-publish / amqp-get / amqp-declare-queue). When those are not
 * installed the tests say so and skip, unless LEVERET_REQUIRE_INTEROP=1 (set by .ci/run after it
 * installs them), in which case their absence is a failure.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { makeTempDir, removeTempDir, type RunningBroker, startBroker } from "@leveret/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const exec = promisify(execFile);
const PYTHON = "/usr/bin/python3";
const FIXTURES = join(import.meta.dirname, "fixtures", "pika");
const INTEROP = join(import.meta.dirname, "fixtures", "interop");
const required = process.env.LEVERET_REQUIRE_INTEROP === "1";

async function hasModule(name: string): Promise<boolean> {
  if (!existsSync(PYTHON)) return false;
  try {
    await exec(PYTHON, ["-c", `import ${name}`]);
    return true;
  } catch {
    return false;
  }
}

const pikaAvailable = await hasModule("pika");
const kombuAvailable = await hasModule("kombu");
const amqpToolsAvailable = existsSync("/usr/bin/amqp-publish") && existsSync("/usr/bin/amqp-get");

if (required) {
  it("has the interop tools installed (LEVERET_REQUIRE_INTEROP=1)", () => {
    expect({ pika: pikaAvailable, kombu: kombuAvailable, amqpTools: amqpToolsAvailable }).toEqual({
      pika: true,
      kombu: true,
      amqpTools: true,
    });
  });
} else if (!pikaAvailable || !kombuAvailable || !amqpToolsAvailable) {
  console.warn(
    `some interop tests skipped: python3-pika ${pikaAvailable ? "found" : "missing"}, python3-kombu ${kombuAvailable ? "found" : "missing"}, amqp-tools ${amqpToolsAvailable ? "found" : "missing"} (apt-get install -y python3-pika python3-kombu amqp-tools)`,
  );
}

async function runFixture(name: string): Promise<string> {
  const { stdout } = await exec(PYTHON, [join(INTEROP, name), String(broker.port)], { timeout: 30_000 });
  return stdout.trim();
}

let broker: RunningBroker;
let workDir: string;

beforeAll(async () => {
  broker = await startBroker();
  workDir = await makeTempDir("leveret-interop-");
});

afterAll(async () => {
  await broker?.stop();
  await removeTempDir(workDir);
});

/** The seed program, unchanged but for the port. */
async function seedProgram(name: string): Promise<string> {
  const source = await readFile(join(FIXTURES, name), "utf8");
  const patched = source.replace(
    "pika.ConnectionParameters('localhost')",
    `pika.ConnectionParameters('localhost', ${broker.port})`,
  );
  expect(patched).not.toBe(source);
  const path = join(workDir, name);
  await writeFile(path, patched);
  return path;
}

describe.runIf(pikaAvailable)("the seed's pika programs", () => {
  it("send a persistent message and receive it with basic_get", async () => {
    await exec(PYTHON, [await seedProgram("seed_send.py")]);
    const { stdout } = await exec(PYTHON, [await seedProgram("seed_receive.py")]);
    expect(stdout.trim()).toBe("b'Hello World!'");
  });

  it("the persistent message survives a broker kill -9 between send and receive", async () => {
    await exec(PYTHON, [await seedProgram("seed_send.py")]);
    await broker.kill();
    broker = await broker.restart();
    const { stdout } = await exec(PYTHON, [await seedProgram("seed_receive.py")]);
    expect(stdout.trim()).toBe("b'Hello World!'");
  });

  it("pika publisher confirms and consume with manual ack work", async () => {
    const script = `
import pika, sys
params = pika.ConnectionParameters('127.0.0.1', ${broker.port})
connection = pika.BlockingConnection(params)
channel = connection.channel()
channel.confirm_delivery()
channel.queue_declare(queue='pika-confirm', durable=True)
for i in range(50):
    channel.basic_publish(exchange='', routing_key='pika-confirm', body=str(i).encode(), properties=pika.BasicProperties(delivery_mode=2), mandatory=True)
got = []
for method, properties, body in channel.consume('pika-confirm', inactivity_timeout=2):
    if method is None:
        break
    got.append(int(body))
    channel.basic_ack(method.delivery_tag)
    if len(got) == 50:
        break
channel.cancel()
channel.queue_delete('pika-confirm')
connection.close()
print(sum(got), len(got))
`;
    const path = join(workDir, "confirm.py");
    await writeFile(path, script);
    const { stdout } = await exec(PYTHON, [path]);
    expect(stdout.trim()).toBe(`${(49 * 50) / 2} 50`);
  });
});

describe.runIf(pikaAvailable)("pika beyond the seed", () => {
  it("SelectConnection (the asynchronous adapter) with confirms and manual acks", async () => {
    expect(await runFixture("pika_select_confirms.py")).toBe("acked 200 consumed 200");
  });

  it("transactions: rollback discards, commit keeps", async () => {
    expect(await runFixture("pika_tx.py")).toBe("0 1");
  });

  it("dead-lettering by TTL expiry and by rejection, with x-death reasons", async () => {
    expect(await runFixture("pika_dead_letter.py")).toBe("expires:expired,rejected:rejected");
  });
});

describe.runIf(kombuAvailable)("kombu", () => {
  it("publishes with confirms through a direct exchange and consumes with acks", async () => {
    expect(await runFixture("kombu_roundtrip.py")).toBe("[0, 1, 2, 3, 4]");
  });
});

describe.runIf(amqpToolsAvailable)("amqp-tools", () => {
  it("amqp-declare-queue, amqp-publish and amqp-get round-trip a persistent message", async () => {
    const url = broker.url;
    await exec("amqp-declare-queue", ["--url", url, "-d", "-q", "tools-q"]);
    await exec("amqp-publish", ["--url", url, "-r", "tools-q", "-p", "-b", "from amqp-tools"]);
    const { stdout } = await exec("amqp-get", ["--url", url, "-q", "tools-q"]);
    expect(stdout).toBe("from amqp-tools");
    await expect(exec("amqp-get", ["--url", url, "-q", "tools-q"])).rejects.toThrow();
  });
});
