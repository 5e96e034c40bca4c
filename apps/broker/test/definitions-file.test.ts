import { readFileSync } from "node:fs";
import { AccessControl, Broker, MemoryStore } from "@leveret/core";
import { describe, expect, it } from "vitest";
import {
  importAccessDefinitions,
  importResourceDefinitions,
  parseDefinitions,
} from "../src/definitions-file.js";

const EXPORT = JSON.parse(
  readFileSync(new URL("./fixtures/definitions/rabbitmq-3.10.8-export.json", import.meta.url), "utf8"),
);

function problemOf(json: unknown): string | undefined {
  try {
    parseDefinitions(json, "defs.json");
  } catch (error) {
    return (error as Error).message;
  }
  return undefined;
}

describe("RabbitMQ definitions files", () => {
  it("reads a RabbitMQ 3.10 export", () => {
    const definitions = parseDefinitions(EXPORT, "defs.json");
    expect(definitions.users.map((u) => [u.name, u.hashingAlgorithm, u.tags])).toEqual([
      ["rabbit-made", "rabbit_password_hashing_sha256", ["monitoring", "impersonator"]],
      ["guest", "rabbit_password_hashing_sha256", ["administrator"]],
    ]);
    expect(definitions.vhosts).toEqual(["imported", "/"]);
    expect(definitions.permissions).toContainEqual({
      user: "rabbit-made",
      vhost: "imported",
      configure: "^imp-",
      write: "^imp-",
      read: "^imp-",
    });
    expect(definitions.queues).toEqual([
      {
        vhost: "imported",
        name: "imp-q",
        durable: true,
        autoDelete: false,
        arguments: { "x-max-length": 100 },
      },
    ]);
    expect(definitions.bindings).toEqual([
      {
        vhost: "imported",
        source: "imp-x",
        destination: "imp-q",
        destinationType: "queue",
        routingKey: "a.#",
        arguments: {},
      },
    ]);
    expect(definitions.ignored).toEqual([]);
  });

  it("imports users whose RabbitMQ passwords keep working, into access control and the routing core", async () => {
    const definitions = parseDefinitions(EXPORT, "defs.json");
    const control = AccessControl.withDefaults();
    importAccessDefinitions(control, definitions);
    expect(control.authenticate("rabbit-made", "s3cret-from-rabbit")?.tags).toEqual([
      "monitoring",
      "impersonator",
    ]);
    expect(control.authenticate("guest", "guest")).toBeDefined();
    const broker = await Broker.open({ store: new MemoryStore(), vhosts: control.listVhosts() });
    importResourceDefinitions(broker, definitions);
    importResourceDefinitions(broker, definitions); // every start imports again: idempotent
    const vhost = broker.vhost("imported");
    expect(vhost.exchange("imp-x").type).toBe("topic");
    expect(vhost.route(vhost.exchange("imp-x"), "a.b", undefined).map((q) => q.name)).toEqual(["imp-q"]);
  });

  it("accepts older shapes: comma-separated tags, clear-text passwords, MD5 from RabbitMQ before 3.6", () => {
    const definitions = parseDefinitions(
      {
        rabbit_version: "3.5.7",
        users: [
          { name: "old", password_hash: "AAAAAAAAAAAAAAAAAAAAAAAAAAA=", tags: "administrator,management" },
          { name: "plain", password: "pw", hashing_algorithm: "rabbit_password_hashing_sha512", tags: "" },
        ],
      },
      "defs.json",
    );
    expect(definitions.users[0]).toMatchObject({
      hashingAlgorithm: "rabbit_password_hashing_md5",
      tags: ["administrator", "management"],
    });
    const control = AccessControl.withDefaults();
    importAccessDefinitions(control, definitions);
    expect(control.authenticate("plain", "pw")?.tags).toEqual([]);
  });

  it("names the file and the entry for every problem", () => {
    expect(problemOf([])).toBe("definitions file 'defs.json': the top level must be a JSON object");
    expect(problemOf({ users: {} })).toBe("definitions file 'defs.json': users must be an array");
    expect(problemOf({ users: [{ name: "u" }] })).toBe(
      "definitions file 'defs.json': users[0] needs a password_hash (or a password)",
    );
    expect(problemOf({ vhosts: [{ name: "" }] })).toBe(
      "definitions file 'defs.json': vhosts[0].name must not be empty",
    );
    expect(problemOf({ exchanges: [{ name: "x", vhost: "/", type: "direct", durable: "yes" }] })).toBe(
      "definitions file 'defs.json': exchanges[0].durable must be true or false",
    );
    expect(
      problemOf({ bindings: [{ source: "x", vhost: "/", destination: "q", destination_type: "stream" }] }),
    ).toBe(
      "definitions file 'defs.json': bindings[0].destination_type must be \"queue\" or \"exchange\", got 'stream'",
    );
  });

  it("reports sections it does not apply instead of dropping them silently", () => {
    const definitions = parseDefinitions(
      { policies: [{}, {}], topic_permissions: [{}], parameters: [] },
      "defs.json",
    );
    expect(definitions.ignored).toEqual(["topic_permissions (1 entry)", "policies (2 entries)"]);
  });

  it("refuses exchanges, queues or bindings in a vhost that does not exist", () => {
    const definitions = parseDefinitions({ queues: [{ name: "q", vhost: "elsewhere" }] }, "defs.json");
    expect(() => importAccessDefinitions(AccessControl.withDefaults(), definitions)).toThrow(
      "definitions file 'defs.json': queues[0]: no vhost 'elsewhere'",
    );
  });
});
