/**
 * RabbitMQ definitions files: the JSON that `rabbitmqctl export_definitions` and the management UI
 * export. `leveret --definitions FILE` imports one at every start, as RabbitMQ's load_definitions does:
 * users (with RabbitMQ's password hashes, so their passwords keep working), vhosts, permissions, then
 * exchanges, queues and bindings. Importing is idempotent: users are replaced, permissions set, and
 * existing exchanges/queues must be equivalent (otherwise the broker stops, as a declare would fail).
 *
 * The whole file is read and checked before anything changes; every problem is reported as a
 * ConfigError naming the file and the entry (`users[2].password_hash …`). Sections Leveret does not
 * implement (policies, parameters, topic permissions, limits) are listed in `ignored` so the caller can
 * warn about them; they are not silently half-applied.
 *
 * Not here: where users are stored (security-file in the core) and when importing happens
 * (security-setup.ts).
 */
import { readFile, stat } from "node:fs/promises";
import {
  type AccessControl,
  type Broker,
  DEFAULT_HASHING_ALGORITHM,
  HASHING_ALGORITHMS,
  type HashingAlgorithm,
  hashPassword,
  isHashingAlgorithm,
  type ExchangeDefinition,
  type PermissionDefinition,
  type QueueDefinition,
  passwordHashProblem,
  permissionPatternProblem,
  type UserDefinition,
} from "@leveret/core";
import { ConfigError } from "./config-error.js";

/** An exchange from the file: the same shape the store keeps. */
export type ExchangeImport = ExchangeDefinition;

/** A queue from the file; it gets its incarnation id when declared. */
export type QueueImport = Omit<QueueDefinition, "id">;

export interface BindingImport {
  vhost: string;
  source: string;
  destination: string;
  destinationType: "queue" | "exchange";
  routingKey: string;
  arguments: Record<string, unknown>;
}

export interface Definitions {
  /** Where they came from, for messages. */
  source: string;
  users: UserDefinition[];
  vhosts: string[];
  permissions: PermissionDefinition[];
  exchanges: ExchangeImport[];
  queues: QueueImport[];
  bindings: BindingImport[];
  /** Entries of sections Leveret does not implement, e.g. "policies (2 entries)": not applied. */
  ignored: string[];
}

/** Exports of large installations are a few MiB; a bigger file is most likely not a definitions file. */
const DEFINITIONS_FILE_MAX_BYTES = 64 * 1024 * 1024;
const UNSUPPORTED_SECTIONS = ["topic_permissions", "parameters", "global_parameters", "policies"] as const;

export async function readDefinitionsFile(path: string): Promise<Definitions> {
  let text: string;
  try {
    const { size } = await stat(path);
    if (size > DEFINITIONS_FILE_MAX_BYTES)
      throw new ConfigError(
        `definitions file '${path}' is ${size} bytes, more than ${DEFINITIONS_FILE_MAX_BYTES}`,
      );
    text = await readFile(path, "utf8");
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ConfigError(
      `definitions file '${path}' cannot be read (${code}); check --definitions / LEVERET_DEFINITIONS`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`definitions file '${path}' is not valid JSON: ${(error as Error).message}`);
  }
  return parseDefinitions(json, path);
}

/** Checks and converts parsed JSON; `source` names the file in error messages. */
export function parseDefinitions(json: unknown, source: string): Definitions {
  const reader = new Reader(source);
  const root = reader.object(json, "the top level");
  const version =
    typeof root.rabbit_version === "string"
      ? root.rabbit_version
      : (root.rabbitmq_version as string | undefined);
  const ignored: string[] = [];
  for (const section of UNSUPPORTED_SECTIONS) {
    const entries = reader.optionalArray(root[section], section);
    if (entries.length > 0)
      ignored.push(`${section} (${entries.length} ${entries.length === 1 ? "entry" : "entries"})`);
  }
  const users = reader
    .optionalArray(root.users, "users")
    .map((value, i) => reader.user(value, `users[${i}]`, version, ignored));
  const vhosts = reader.optionalArray(root.vhosts, "vhosts").map((value, i) => {
    const vhost = reader.object(value, `vhosts[${i}]`);
    return reader.name(vhost.name, `vhosts[${i}].name`);
  });
  const permissions = reader
    .optionalArray(root.permissions, "permissions")
    .map((value, i) => reader.permission(value, `permissions[${i}]`));
  const exchanges = reader
    .optionalArray(root.exchanges, "exchanges")
    .map((value, i) => reader.exchange(value, `exchanges[${i}]`));
  const queues = reader
    .optionalArray(root.queues, "queues")
    .map((value, i) => reader.queue(value, `queues[${i}]`));
  const bindings = reader
    .optionalArray(root.bindings, "bindings")
    .map((value, i) => reader.binding(value, `bindings[${i}]`));
  return { source, users, vhosts, permissions, exchanges, queues, bindings, ignored };
}

/**
 * Vhosts, users and permissions into `control` (do it on a copy: on error it is half-changed). Also
 * checks that every exchange, queue and binding names a vhost that exists, so that importing them
 * later cannot fail for that reason.
 */
export function importAccessDefinitions(control: AccessControl, definitions: Definitions): void {
  const fail = (where: string, error: unknown) =>
    new ConfigError(`definitions file '${definitions.source}': ${where}: ${(error as Error).message}`);
  for (const vhost of definitions.vhosts) control.addVhost(vhost);
  definitions.users.forEach((user, i) => {
    try {
      control.putUser(user);
    } catch (error) {
      throw fail(`users[${i}]`, error);
    }
  });
  definitions.permissions.forEach(({ user, vhost, configure, write, read }, i) => {
    try {
      control.setPermissions(user, vhost, { configure, write, read });
    } catch (error) {
      throw fail(`permissions[${i}] (user '${user}', vhost '${vhost}')`, error);
    }
  });
  const resources: [string, { vhost: string }[]][] = [
    ["exchanges", definitions.exchanges],
    ["queues", definitions.queues],
    ["bindings", definitions.bindings],
  ];
  for (const [section, entries] of resources) {
    entries.forEach((entry, i) => {
      if (!control.hasVhost(entry.vhost))
        throw fail(`${section}[${i}]`, new Error(`no vhost '${entry.vhost}'`));
    });
  }
}

/** Declares the exchanges, queues and bindings (their vhosts exist: importAccessDefinitions checked). */
export function importResourceDefinitions(broker: Broker, definitions: Definitions): void {
  const owner = {}; // imported queues are never exclusive, so no connection owns them
  const attempt = (where: string, action: () => void) => {
    try {
      action();
    } catch (error) {
      throw new ConfigError(
        `definitions file '${definitions.source}': ${where}: ${(error as Error).message}`,
      );
    }
  };
  for (const [i, x] of definitions.exchanges.entries()) {
    attempt(`exchanges[${i}] '${x.name}'`, () => {
      broker.vhost(x.vhost).declareExchange(x.name, {
        type: x.type,
        passive: false,
        durable: x.durable,
        autoDelete: x.autoDelete,
        internal: x.internal,
        arguments: x.arguments,
      });
    });
  }
  for (const [i, q] of definitions.queues.entries()) {
    attempt(`queues[${i}] '${q.name}'`, () => {
      const declaration = {
        passive: false,
        durable: q.durable,
        exclusive: false,
        autoDelete: q.autoDelete,
        arguments: q.arguments,
      };
      broker.vhost(q.vhost).declareQueue(q.name, declaration, owner);
    });
  }
  for (const [i, b] of definitions.bindings.entries()) {
    attempt(`bindings[${i}] '${b.source}' -> '${b.destination}'`, () => {
      const vhost = broker.vhost(b.vhost);
      if (b.destinationType === "queue")
        vhost.bindQueue(b.destination, b.source, b.routingKey, b.arguments, owner);
      else vhost.bindExchange(b.destination, b.source, b.routingKey, b.arguments);
    });
  }
}

/** Reads one JSON shape at a time; every complaint names the file and the path inside it. */
class Reader {
  constructor(private readonly source: string) {}

  problem(where: string, message: string): ConfigError {
    return new ConfigError(`definitions file '${this.source}': ${where} ${message}`);
  }

  object(value: unknown, where: string): Record<string, unknown> {
    if (typeof value !== "object" || value === null || Array.isArray(value))
      throw this.problem(where, "must be a JSON object");
    return value as Record<string, unknown>;
  }

  optionalArray(value: unknown, where: string): unknown[] {
    if (value === undefined) return [];
    if (!Array.isArray(value)) throw this.problem(where, "must be an array");
    return value;
  }

  string(value: unknown, where: string): string {
    if (typeof value !== "string") throw this.problem(where, "must be a string");
    return value;
  }

  name(value: unknown, where: string): string {
    const name = this.string(value, where);
    if (name === "") throw this.problem(where, "must not be empty");
    return name;
  }

  boolean(value: unknown, where: string, fallback: boolean): boolean {
    if (value === undefined) return fallback;
    if (typeof value !== "boolean") throw this.problem(where, "must be true or false");
    return value;
  }

  arguments(value: unknown, where: string): Record<string, unknown> {
    return value === undefined ? {} : this.object(value, where);
  }

  user(value: unknown, where: string, version: string | undefined, ignored: string[]): UserDefinition {
    const user = this.object(value, where);
    const name = this.name(user.name, `${where}.name`);
    const algorithm = this.hashingAlgorithm(user.hashing_algorithm, `${where}.hashing_algorithm`, version);
    let passwordHash: string;
    if (user.password_hash !== undefined) {
      passwordHash = this.string(user.password_hash, `${where}.password_hash`);
      const problem = passwordHashProblem(passwordHash, algorithm);
      if (problem !== undefined) throw this.problem(`${where}.password_hash`, problem);
    } else if (user.password !== undefined) {
      // Hand-written files may carry a clear-text password; it is hashed and never stored as is.
      passwordHash = hashPassword(this.string(user.password, `${where}.password`), algorithm);
    } else {
      throw this.problem(where, "needs a password_hash (or a password)");
    }
    const limits = user.limits;
    if (typeof limits === "object" && limits !== null && Object.keys(limits).length > 0)
      ignored.push(`${where}.limits`);
    return { name, passwordHash, hashingAlgorithm: algorithm, tags: this.tags(user.tags, `${where}.tags`) };
  }

  /** A missing algorithm means what the exporting RabbitMQ used: MD5 before 3.6, SHA-256 since. */
  hashingAlgorithm(value: unknown, where: string, version: string | undefined): HashingAlgorithm {
    if (value === undefined)
      return version !== undefined && /^3\.[0-5]\./.test(version)
        ? "rabbit_password_hashing_md5"
        : DEFAULT_HASHING_ALGORITHM;
    const name = this.string(value, where);
    if (!isHashingAlgorithm(name))
      throw this.problem(where, `'${name}' is not one of ${HASHING_ALGORITHMS.join(", ")}`);
    return name;
  }

  /** RabbitMQ 3.9+ exports an array; older versions a comma-separated string. */
  tags(value: unknown, where: string): string[] {
    if (value === undefined) return [];
    if (typeof value === "string")
      return value
        .split(",")
        .map((tag) => tag.trim())
        .filter((tag) => tag !== "");
    if (!Array.isArray(value))
      throw this.problem(where, "must be an array of strings or a comma-separated string");
    return value.map((tag, i) => this.string(tag, `${where}[${i}]`));
  }

  permission(value: unknown, where: string): PermissionDefinition {
    const permission = this.object(value, where);
    const pattern = (key: "configure" | "write" | "read") => {
      const source = this.string(permission[key], `${where}.${key}`);
      const problem = permissionPatternProblem(source);
      if (problem !== undefined) throw this.problem(`${where}.${key}`, `is an ${problem}`);
      return source;
    };
    return {
      user: this.name(permission.user, `${where}.user`),
      vhost: this.name(permission.vhost, `${where}.vhost`),
      configure: pattern("configure"),
      write: pattern("write"),
      read: pattern("read"),
    };
  }

  exchange(value: unknown, where: string): ExchangeImport {
    const x = this.object(value, where);
    return {
      vhost: this.name(x.vhost, `${where}.vhost`),
      name: this.name(x.name, `${where}.name`),
      type: this.name(x.type, `${where}.type`),
      durable: this.boolean(x.durable, `${where}.durable`, true),
      autoDelete: this.boolean(x.auto_delete, `${where}.auto_delete`, false),
      internal: this.boolean(x.internal, `${where}.internal`, false),
      arguments: this.arguments(x.arguments, `${where}.arguments`),
    };
  }

  queue(value: unknown, where: string): QueueImport {
    const q = this.object(value, where);
    const name = this.name(q.name, `${where}.name`);
    if (q.type !== undefined && q.type !== "classic") {
      throw this.problem(
        `${where}.type`,
        `is '${String(q.type)}' (queue '${name}'); Leveret has classic queues only`,
      );
    }
    return {
      vhost: this.name(q.vhost, `${where}.vhost`),
      name,
      durable: this.boolean(q.durable, `${where}.durable`, true),
      autoDelete: this.boolean(q.auto_delete, `${where}.auto_delete`, false),
      arguments: this.arguments(q.arguments, `${where}.arguments`),
    };
  }

  binding(value: unknown, where: string): BindingImport {
    const b = this.object(value, where);
    const destinationType = this.string(b.destination_type, `${where}.destination_type`);
    if (destinationType !== "queue" && destinationType !== "exchange") {
      throw this.problem(
        `${where}.destination_type`,
        `must be "queue" or "exchange", got '${destinationType}'`,
      );
    }
    return {
      vhost: this.name(b.vhost, `${where}.vhost`),
      source: this.name(b.source, `${where}.source`),
      destination: this.name(b.destination, `${where}.destination`),
      destinationType,
      routingKey: b.routing_key === undefined ? "" : this.string(b.routing_key, `${where}.routing_key`),
      arguments: this.arguments(b.arguments, `${where}.arguments`),
    };
  }
}
