import {
  MemoryStore,
  type PermissionKind,
  type ResourceAccess,
  type ResourceKind,
  VHost,
} from "@leveret/core";
import { describe, expect, it } from "vitest";
import { checkMethodAccess, checkQueueDeclare, serverNamedQueue } from "../../src/channel/access-check.js";
import type { AmqpMethod, MethodArgs, MethodName } from "../../src/codec/index.js";

/** Allows everything and records what was asked, in order. */
class RecordingAccess implements ResourceAccess {
  readonly user = "u";
  readonly vhost = "/";
  readonly impersonator = false;
  readonly asked: string[] = [];
  check(permission: PermissionKind, kind: ResourceKind, name: string): void {
    this.asked.push(`${permission} ${kind} ${name}`);
  }
}

function method<K extends MethodName>(name: K, args: Partial<MethodArgs[K]>): AmqpMethod {
  return { name, args, classId: 0, methodId: 0 } as unknown as AmqpMethod;
}

function vhostWith(): VHost {
  let id = 1;
  const vhost = new VHost("/", new MemoryStore(), () => id++);
  vhost.declareExchange("existing-x", {
    type: "direct",
    passive: false,
    durable: false,
    autoDelete: false,
    internal: false,
    arguments: {},
  });
  vhost.declareQueue(
    "existing-q",
    { passive: false, durable: false, exclusive: false, autoDelete: false, arguments: {} },
    {},
  );
  return vhost;
}

function asked(m: AmqpMethod, lastQueue = "last-q"): string[] {
  const access = new RecordingAccess();
  checkMethodAccess(access, vhostWith(), m, (name) => (name === "" ? lastQueue : name));
  return access.asked;
}

describe("which permission each method needs (RabbitMQ's access-control table)", () => {
  it('basic.publish: write on the exchange (the checker names "" amq.default)', () => {
    expect(asked(method("basic.publish", { exchange: "x", routingKey: "k" }))).toEqual(["write exchange x"]);
    expect(asked(method("basic.publish", { exchange: "", routingKey: "k" }))).toEqual(["write exchange "]);
  });

  it('basic.get, basic.consume, queue.purge: read on the queue ("" is the last declared queue)', () => {
    expect(asked(method("basic.get", { queue: "q" }))).toEqual(["read queue q"]);
    expect(asked(method("basic.consume", { queue: "" }))).toEqual(["read queue last-q"]);
    expect(asked(method("queue.purge", { queue: "q" }))).toEqual(["read queue q"]);
    expect(asked(method("basic.consume", { queue: "amq.rabbitmq.reply-to" }))).toEqual([]);
  });

  it("queue.delete and exchange.delete: configure, except for names the core refuses first", () => {
    expect(asked(method("queue.delete", { queue: "q" }))).toEqual(["configure queue q"]);
    expect(asked(method("exchange.delete", { exchange: "x" }))).toEqual(["configure exchange x"]);
    expect(asked(method("exchange.delete", { exchange: "amq.direct" }))).toEqual([]);
    expect(asked(method("exchange.delete", { exchange: "" }))).toEqual([]);
  });

  it("queue.bind/unbind: write on the queue, then read on the exchange", () => {
    expect(asked(method("queue.bind", { queue: "q", exchange: "x", routingKey: "k" }))).toEqual([
      "write queue q",
      "read exchange x",
    ]);
    expect(asked(method("queue.unbind", { queue: "", exchange: "x", routingKey: "k" }))).toEqual([
      "write queue last-q",
      "read exchange x",
    ]);
    expect(() => asked(method("queue.bind", { queue: "q", exchange: "", routingKey: "k" }))).toThrow(
      "operation not permitted on the default exchange",
    );
  });

  it("exchange.bind/unbind: write on the destination, read on the source", () => {
    expect(asked(method("exchange.bind", { destination: "d", source: "s", routingKey: "k" }))).toEqual([
      "write exchange d",
      "read exchange s",
    ]);
    expect(asked(method("exchange.unbind", { destination: "d", source: "s", routingKey: "k" }))).toEqual([
      "write exchange d",
      "read exchange s",
    ]);
  });

  it("exchange.declare: configure; with an alternate exchange on a new exchange also read on it and write on the AE", () => {
    const declare = (exchange: string, args: Partial<MethodArgs["exchange.declare"]> = {}) =>
      method("exchange.declare", { exchange, type: "direct", passive: false, arguments: {}, ...args });
    expect(asked(declare("x"))).toEqual(["configure exchange x"]);
    expect(asked(declare("x", { arguments: { "alternate-exchange": "ae" } }))).toEqual([
      "configure exchange x",
      "read exchange x",
      "write exchange ae",
    ]);
    expect(asked(declare("existing-x", { arguments: { "alternate-exchange": "ae" } }))).toEqual([
      "configure exchange existing-x",
    ]);
    expect(asked(declare("x", { passive: true }))).toEqual([]);
    expect(asked(declare("x", { type: "no-such-type" }))).toEqual([]); // 503 from the core comes first
    expect(asked(declare(""))).toEqual([]); // 403 from the core comes first
  });

  it("methods that touch no resource need nothing", () => {
    expect(asked(method("basic.qos", { prefetchCount: 1 }))).toEqual([]);
    expect(asked(method("basic.ack", { deliveryTag: 1 }))).toEqual([]);
    expect(asked(method("channel.flow", { active: true }))).toEqual([]);
  });
});

describe("queue.declare", () => {
  const declare = (args: Partial<MethodArgs["queue.declare"]>) =>
    ({
      queue: "",
      passive: false,
      durable: false,
      exclusive: false,
      autoDelete: false,
      nowait: false,
      arguments: {},
      ...args,
    }) as MethodArgs["queue.declare"];
  const check = (
    name: string,
    serverName: string | undefined,
    args: Partial<MethodArgs["queue.declare"]> = {},
  ) => {
    const access = new RecordingAccess();
    checkQueueDeclare(access, vhostWith(), name, serverName, declare({ queue: name, ...args }));
    return access.asked;
  };

  it("needs configure on the queue, under its server-chosen name when it has one", () => {
    expect(check("q", undefined)).toEqual(["configure queue q"]);
    const serverName = serverNamedQueue();
    expect(serverName).toMatch(/^amq\.gen-[A-Za-z0-9_-]{22}$/);
    expect(check("", serverName)).toEqual([`configure queue ${serverName}`]);
    expect(check("q", undefined, { passive: true })).toEqual([]);
  });

  it("refuses client-chosen amq.* names before checking permissions", () => {
    expect(() => check("amq.gen-by-client", undefined)).toThrow(
      "queue name 'amq.gen-by-client' contains reserved prefix 'amq.*'",
    );
  });

  it("with a dead-letter exchange on a new queue, also read on the queue and write on the DLX", () => {
    const args = { arguments: { "x-dead-letter-exchange": "dlx" } };
    expect(check("q", undefined, args)).toEqual(["configure queue q", "read queue q", "write exchange dlx"]);
    expect(check("existing-q", undefined, args)).toEqual(["configure queue existing-q"]);
  });
});
