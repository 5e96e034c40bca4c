/**
 * Users, vhosts and permissions end to end: users made with `leveret users …` before the broker starts,
 * amqplib over TCP against the real broker, and the exact answers RabbitMQ 3.10.8 gives in the same
 * situations (observed on a real RabbitMQ with the same user, permissions and names).
 */
import { access, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir, removeTempDir, type RunningBroker, startBroker } from "@leveret/testkit";
import type { Channel, ChannelModel } from "amqplib";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { connect, delay, openChannel } from "./support/amqp.js";
import { admin, leveret, rawOpen, refusalOf } from "./support/security.js";

const FIXTURE = new URL("./fixtures/definitions/rabbitmq-3.10.8-export.json", import.meta.url).pathname;
const url = (broker: RunningBroker, user: string, password: string, vhost = "/") =>
  `amqp://${user}:${password}@127.0.0.1:${broker.port}/${encodeURIComponent(vhost)}`;

/**
 * The user `restricted` may configure names containing "cfg", write to names containing "wr" and read
 * from names containing "rd" in "/"; "cfg-wr-rd…" matches all three (regexes are not anchored).
 */
async function prepareDataDir(dataDir: string): Promise<void> {
  await admin(dataDir, "users", "add", "restricted", "restricted-pw");
  await admin(
    dataDir,
    "users",
    "set-permissions",
    "restricted",
    "--vhost",
    "/",
    "--configure",
    "cfg",
    "--write",
    "wr",
    "--read",
    "rd",
  );
  await admin(dataDir, "vhosts", "add", "app");
  await admin(dataDir, "users", "add", "outsider", "outsider-pw", "--tags", "management");
  await admin(
    dataDir,
    "users",
    "set-permissions",
    "outsider",
    "--vhost",
    "app",
    "--configure",
    ".*",
    "--write",
    ".*",
    "--read",
    ".*",
  );
}

describe("access control", () => {
  let dataDir: string;
  let broker: RunningBroker;
  let guest: ChannelModel;
  let setup: Channel;
  let restricted: ChannelModel;

  beforeAll(async () => {
    dataDir = await makeTempDir("leveret-security-");
    await prepareDataDir(dataDir);
    broker = await startBroker({ dataDir });
    guest = await connect(broker.url);
    setup = await guest.createChannel();
    await setup.assertQueue("cfg-wr-rd");
    await setup.assertQueue("plainq");
    await setup.assertExchange("cfg-wr-rd-x", "direct");
    await setup.assertExchange("plainx", "direct");
    await setup.bindQueue("cfg-wr-rd", "cfg-wr-rd-x", "k");
    restricted = await connect(url(broker, "restricted", "restricted-pw"));
  });

  afterAll(async () => {
    await restricted?.close().catch(() => {});
    await guest?.close().catch(() => {});
    await broker?.stop();
    await removeTempDir(dataDir);
  });

  it("logs in users made with `leveret users add`; a wrong password or unknown user gets 403 ACCESS_REFUSED", async () => {
    const ok = await rawOpen(broker.port, "restricted", "restricted-pw", "/");
    expect(ok.name).toBe("connection.open-ok");
    const loginRefused = {
      name: "connection.close",
      replyCode: 403,
      replyText:
        "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see the broker logfile.",
    };
    expect(await rawOpen(broker.port, "restricted", "wrong", "/")).toEqual(loginRefused);
    expect(await rawOpen(broker.port, "nobody", "restricted-pw", "/")).toEqual(loginRefused);
  });

  it("connection.open answers 530 NOT_ALLOWED for an unknown vhost and for a vhost without permissions", async () => {
    expect(await rawOpen(broker.port, "restricted", "restricted-pw", "nope")).toEqual({
      name: "connection.close",
      replyCode: 530,
      replyText: "NOT_ALLOWED - vhost nope not found",
    });
    expect(await rawOpen(broker.port, "restricted", "restricted-pw", "app")).toEqual({
      name: "connection.close",
      replyCode: 530,
      replyText: "NOT_ALLOWED - access to vhost 'app' refused for user 'restricted'",
    });
    expect(await rawOpen(broker.port, "outsider", "outsider-pw", "/")).toMatchObject({ replyCode: 530 });
    const inApp = await connect(url(broker, "outsider", "outsider-pw", "app"));
    const channel = await inApp.createChannel();
    expect((await channel.assertQueue("app-q")).queue).toBe("app-q");
    await inApp.close();
  });

  it("allows what the regexes match, unanchored, and passive declares without any permission", async () => {
    const channel = await openChannel(restricted);
    await channel.assertQueue("cfg-wr-rd");
    await channel.assertQueue("xcfgx", { autoDelete: true, exclusive: true });
    await channel.checkQueue("plainq");
    await channel.checkExchange("plainx");
    await channel.bindQueue("cfg-wr-rd", "cfg-wr-rd-x", "k2");
    await channel.unbindQueue("cfg-wr-rd", "cfg-wr-rd-x", "k2");
    channel.publish("cfg-wr-rd-x", "k", Buffer.from("allowed"));
    let message: Awaited<ReturnType<Channel["get"]>> = false;
    for (let attempt = 0; attempt < 100 && !message; attempt++) {
      message = await channel.get("cfg-wr-rd", { noAck: true });
      if (!message) await delay(10);
    }
    expect(message ? message.content.toString() : undefined).toBe("allowed");
    await channel.purgeQueue("cfg-wr-rd");
    await channel.close();
  });

  // [what, operation, reply code, reply text] — the texts are RabbitMQ 3.10.8's for the same user.
  const refused = (kind: "queue" | "exchange", name: string) =>
    `ACCESS_REFUSED - access to ${kind} '${name}' in vhost '/' refused for user 'restricted'`;
  const cases: [string, (channel: Channel) => unknown, number, string | RegExp][] = [
    [
      "queue.declare needs configure on the queue",
      (c) => c.assertQueue("plainq"),
      403,
      refused("queue", "plainq"),
    ],
    [
      "queue.declare of a server-named queue checks its amq.gen- name",
      (c) => c.assertQueue(""),
      403,
      /^ACCESS_REFUSED - access to queue 'amq\.gen-[A-Za-z0-9_-]{22}' in vhost '\/' refused for user 'restricted'$/,
    ],
    [
      "queue.declare of an amq.* name is refused for the name first",
      (c) => c.assertQueue("amq.foo"),
      403,
      "ACCESS_REFUSED - queue name 'amq.foo' contains reserved prefix 'amq.*'",
    ],
    [
      "queue.declare with a DLX needs write on the DLX",
      (c) => c.assertQueue("cfg-wr-rd-dlx", { deadLetterExchange: "plainx" }),
      403,
      refused("exchange", "plainx"),
    ],
    ["queue.delete needs configure", (c) => c.deleteQueue("plainq"), 403, refused("queue", "plainq")],
    [
      "queue.delete of a missing queue is still checked",
      (c) => c.deleteQueue("missing"),
      403,
      refused("queue", "missing"),
    ],
    ["queue.purge needs read", (c) => c.purgeQueue("plainq"), 403, refused("queue", "plainq")],
    ["basic.get needs read", (c) => c.get("plainq"), 403, refused("queue", "plainq")],
    ["basic.consume needs read", (c) => c.consume("plainq", () => {}), 403, refused("queue", "plainq")],
    [
      "queue.bind needs write on the queue",
      (c) => c.bindQueue("plainq", "cfg-wr-rd-x", "k"),
      403,
      refused("queue", "plainq"),
    ],
    [
      "queue.bind needs read on the exchange",
      (c) => c.bindQueue("cfg-wr-rd", "plainx", "k"),
      403,
      refused("exchange", "plainx"),
    ],
    [
      "queue.bind to the default exchange",
      (c) => c.bindQueue("cfg-wr-rd", "", "k"),
      403,
      "ACCESS_REFUSED - operation not permitted on the default exchange",
    ],
    [
      "queue.bind to a missing readable exchange is 404",
      (c) => c.bindQueue("cfg-wr-rd", "missing-rd", "k"),
      404,
      "NOT_FOUND - no exchange 'missing-rd' in vhost '/'",
    ],
    [
      "queue.unbind needs write on the queue",
      (c) => c.unbindQueue("plainq", "cfg-wr-rd-x", "k"),
      403,
      refused("queue", "plainq"),
    ],
    [
      "exchange.declare needs configure",
      (c) => c.assertExchange("plainx", "direct"),
      403,
      refused("exchange", "plainx"),
    ],
    [
      "exchange.declare with an alternate exchange needs write on it",
      (c) => c.assertExchange("cfg-wr-rd-ae", "direct", { alternateExchange: "plainx" }),
      403,
      refused("exchange", "plainx"),
    ],
    [
      "exchange.delete needs configure",
      (c) => c.deleteExchange("plainx"),
      403,
      refused("exchange", "plainx"),
    ],
    [
      "exchange.bind needs write on the destination",
      (c) => c.bindExchange("plainx", "cfg-wr-rd-x", "k"),
      403,
      refused("exchange", "plainx"),
    ],
    [
      "exchange.bind needs read on the source",
      (c) => c.bindExchange("cfg-wr-rd-x", "plainx", "k"),
      403,
      refused("exchange", "plainx"),
    ],
    [
      "basic.publish needs write on the exchange",
      (c) => c.publish("plainx", "k", Buffer.from("x")),
      403,
      refused("exchange", "plainx"),
    ],
    [
      "basic.publish to the default exchange checks amq.default",
      (c) => c.sendToQueue("cfg-wr-rd", Buffer.from("x")),
      403,
      refused("exchange", "amq.default"),
    ],
    [
      "basic.publish is checked before the exchange is looked up",
      (c) => c.publish("missing-x", "k", Buffer.from("x")),
      403,
      refused("exchange", "missing-x"),
    ],
    [
      "basic.publish to a missing writable exchange is 404",
      (c) => c.publish("missing-wr", "k", Buffer.from("x")),
      404,
      "NOT_FOUND - no exchange 'missing-wr' in vhost '/'",
    ],
    [
      "user_id must be the user's own without the impersonator tag",
      (c) => c.publish("cfg-wr-rd-x", "k", Buffer.from("x"), { userId: "guest" }),
      406,
      "PRECONDITION_FAILED - user_id property set to 'guest' but authenticated user was 'restricted'",
    ],
  ];

  it.each(cases)("%s", async (_what, operation, code, text) => {
    const refusal = await refusalOf(restricted, operation);
    expect(refusal.code).toBe(code);
    if (typeof text === "string") expect(refusal.text).toBe(text);
    else expect(refusal.text).toMatch(text);
  });

  it("refuses to change users while a broker runs on the data dir", async () => {
    const result = await leveret(["users", "add", "late", "pw", "--data-dir", dataDir]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toMatch(
      /^leveret: data dir '.*' is in use by another broker \(pid \d+\); stop it first/,
    );
    const listed = await leveret(["users", "list", "--data-dir", dataDir]);
    expect(listed.stdout).not.toMatch(/late/);
  });
});

describe("durability of users, vhosts and permissions", () => {
  let broker: RunningBroker | undefined;
  afterEach(async () => {
    await broker?.stop(); // a failed test must not leave a broker running
    broker = undefined;
  });

  it("keeps them across restarts; a deleted vhost loses its durable queues and a deleted user cannot log in", async () => {
    const dataDir = await makeTempDir("leveret-security-restart-");
    await admin(dataDir, "vhosts", "add", "tmp");
    await admin(dataDir, "users", "add", "worker", "worker-pw", "--tags", "monitoring");
    // Publishing through the default exchange needs write on "amq.default".
    const write = "^w-|^amq\\.default$";
    await admin(
      dataDir,
      "users",
      "set-permissions",
      "worker",
      "--vhost",
      "tmp",
      "--configure",
      "^w-",
      "--write",
      write,
      "--read",
      "^w-",
    );
    broker = await startBroker({ dataDir });
    const first = await connect(url(broker, "worker", "worker-pw", "tmp"));
    const channel = await first.createConfirmChannel();
    await channel.assertQueue("w-durable", { durable: true });
    channel.sendToQueue("w-durable", Buffer.from("kept"), { persistent: true });
    await channel.waitForConfirms();
    await first.close();

    broker = await broker.restart(); // SIGKILL, then start again on the same data dir
    const again = await connect(url(broker, "worker", "worker-pw", "tmp"));
    const check = await again.createChannel();
    expect(await check.checkQueue("w-durable")).toMatchObject({ messageCount: 1 });
    expect((await refusalOf(again, (c) => c.assertQueue("other"))).text).toBe(
      "ACCESS_REFUSED - access to queue 'other' in vhost 'tmp' refused for user 'worker'",
    );
    await again.close();
    await broker.stop();

    expect(await admin(dataDir, "users", "list")).toBe(
      "user\ttags\nguest\t[administrator]\nworker\t[monitoring]\n",
    );
    await admin(dataDir, "vhosts", "delete", "tmp");
    await admin(dataDir, "users", "delete", "guest");
    broker = await broker.restart();
    expect(await rawOpen(broker.port, "worker", "worker-pw", "tmp")).toMatchObject({
      replyText: "NOT_ALLOWED - vhost tmp not found",
    });
    expect(await rawOpen(broker.port, "guest", "guest", "/")).toMatchObject({ replyCode: 403 });
    await broker.stop();

    // Re-created under the same name, the vhost is empty: its old queue was purged from the log.
    await admin(dataDir, "vhosts", "add", "tmp");
    await admin(
      dataDir,
      "users",
      "set-permissions",
      "worker",
      "--vhost",
      "tmp",
      "--configure",
      ".*",
      "--write",
      ".*",
      "--read",
      ".*",
    );
    expect(await admin(dataDir, "vhosts", "list")).toBe("name\n/\ntmp\n");
    broker = await broker.restart();
    const fresh = await connect(url(broker, "worker", "worker-pw", "tmp"));
    const freshChannel = await openChannel(fresh);
    await expect(freshChannel.checkQueue("w-durable")).rejects.toThrow(/404 \(NOT-FOUND\)/);
    await fresh.close();
    await broker.stop();
    const saved = JSON.parse(await readFile(join(dataDir, "security.json"), "utf8")) as {
      pending_vhost_purges: string[];
    };
    expect(saved.pending_vhost_purges).toEqual([]);
    await removeTempDir(dataDir);
  });
});

describe("definitions import (--definitions)", () => {
  let broker: RunningBroker | undefined;
  afterEach(async () => {
    await broker?.stop();
    broker = undefined;
  });

  it("imports a RabbitMQ 3.10 export: its password hashes, vhosts, permissions, exchanges, queues and bindings", async () => {
    const dataDir = await makeTempDir("leveret-definitions-");
    broker = await startBroker({ dataDir, args: ["--definitions", FIXTURE] });
    const imported = await connect(url(broker, "rabbit-made", "s3cret-from-rabbit", "imported"));
    const channel = await imported.createChannel();
    expect(await channel.checkQueue("imp-q")).toMatchObject({ messageCount: 0 });
    // The impersonator tag (from the export) lets it publish with someone else's user_id.
    channel.publish("imp-x", "a.b", Buffer.from("routed by the imported binding"), {
      userId: "someone-else",
    });
    let message: Awaited<ReturnType<Channel["get"]>> = false;
    for (let attempt = 0; attempt < 100 && !message; attempt++) {
      message = await channel.get("imp-q", { noAck: true });
      if (!message) await delay(10);
    }
    expect(message ? message.content.toString() : undefined).toBe("routed by the imported binding");
    expect((await refusalOf(imported, (c) => c.assertQueue("other"))).text).toBe(
      "ACCESS_REFUSED - access to queue 'other' in vhost 'imported' refused for user 'rabbit-made'",
    );
    await imported.close();
    expect(await rawOpen(broker.port, "rabbit-made", "s3cret-from-rabbit", "/")).toMatchObject({
      replyText: "NOT_ALLOWED - access to vhost '/' refused for user 'rabbit-made'",
    });
    expect(await rawOpen(broker.port, "rabbit-made", "wrong", "imported")).toMatchObject({ replyCode: 403 });
    await broker.stop();

    // Without the flag the imported users stay: they were saved in the data dir.
    broker = await startBroker({ dataDir });
    expect(await rawOpen(broker.port, "rabbit-made", "s3cret-from-rabbit", "imported")).toMatchObject({
      name: "connection.open-ok",
    });
    await broker.stop();
    await removeTempDir(dataDir);
  });

  const badFiles: [string, string, string][] = [
    ["not JSON", "{ users: [", "is not valid JSON"],
    [
      "a hash of the wrong length",
      JSON.stringify({
        users: [{ name: "u", password_hash: "AAAA", hashing_algorithm: "rabbit_password_hashing_sha256" }],
      }),
      "users[0].password_hash decodes to 3 bytes, but a rabbit_password_hashing_sha256 hash is 36",
    ],
    [
      "an unknown hashing algorithm",
      JSON.stringify({ users: [{ name: "u", password_hash: "", hashing_algorithm: "Bcrypt" }] }),
      "users[0].hashing_algorithm 'Bcrypt' is not one of",
    ],
    [
      "permissions for a user that does not exist",
      JSON.stringify({
        permissions: [{ user: "ghost", vhost: "/", configure: ".*", write: ".*", read: ".*" }],
      }),
      "permissions[0] (user 'ghost', vhost '/'): no user 'ghost'",
    ],
    [
      "an invalid permission regex",
      JSON.stringify({
        permissions: [{ user: "guest", vhost: "/", configure: "(", write: ".*", read: ".*" }],
      }),
      "permissions[0].configure is an invalid regular expression '('",
    ],
    [
      "a quorum queue",
      JSON.stringify({
        queues: [
          { name: "qq", vhost: "/", durable: true, auto_delete: false, arguments: {}, type: "quorum" },
        ],
      }),
      "queues[0].type is 'quorum' (queue 'qq'); Leveret has classic queues only",
    ],
  ];

  it.each(badFiles)(
    "stops at start on %s, naming the file and the problem",
    async (_what, content, problem) => {
      const dir = await makeTempDir("leveret-bad-definitions-");
      const file = join(dir, "definitions.json");
      await writeFile(file, content);
      const dataDir = join(dir, "data");
      const result = await leveret([
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--data-dir",
        dataDir,
        "--definitions",
        file,
      ]);
      expect(result.code).toBe(1);
      expect(result.stdout).not.toMatch(/listening/);
      const lines = result.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`leveret: definitions file '${file}`);
      expect(lines[0]).toContain(problem);
      // Nothing was changed or left locked.
      await expect(access(join(dataDir, "security.json"))).rejects.toThrow();
      await expect(access(join(dataDir, "leveret.lock"))).rejects.toThrow();
      await removeTempDir(dir);
    },
  );

  it("stops at start when the security file in the data dir is damaged", async () => {
    const dataDir = await makeTempDir("leveret-bad-security-");
    await writeFile(join(dataDir, "security.json"), '{"format":"leveret-security/1","users":[{"name":1}]}');
    const result = await leveret(["--host", "127.0.0.1", "--port", "0", "--data-dir", dataDir]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(
      `leveret: security file '${join(dataDir, "security.json")}' users[0].name must be a string`,
    );
    await removeTempDir(dataDir);
  });
});
