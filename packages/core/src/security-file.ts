/**
 * Keeps the users, vhosts and permissions (an AccessControl snapshot) in `<dataDir>/security.json`,
 * replaced as a whole: write a temporary file, fsync it, rename it over the old one, fsync the
 * directory. A crash leaves either the old file or the new one, never a mix.
 *
 * Why a file of its own and not records in the definitions log: this state is tiny, changes rarely,
 * and is changed by `leveret users …` / `leveret vhosts …` while no broker runs. Reading it must not
 * mean replaying the message log (which can be gigabytes), and a whole-file replace needs no
 * compaction. It is JSON in RabbitMQ's definitions vocabulary, so a person can read it.
 *
 *   { "format": "leveret-security/1",
 *     "users": [{ "name", "password_hash", "hashing_algorithm", "tags": [] }],
 *     "vhosts": [{ "name" }],
 *     "permissions": [{ "user", "vhost", "configure", "write", "read" }],
 *     "pending_vhost_purges": ["deleted-vhost"] }
 *
 * Not here: the lock that keeps two writers apart (the broker app's data-dir lock). Every load is
 * checked field by field before it is trusted, and every save is checked before it is written.
 */
import { open, readFile, rename, stat } from "node:fs/promises";
import { join } from "node:path";
import { AccessControl, type SecuritySnapshot } from "./access-control.js";
import { CoreError, preconditionFailed } from "./errors.js";
import type { HashingAlgorithm } from "./password-hash.js";

export const SECURITY_FILE_NAME = "security.json";
const FORMAT = "leveret-security/1";
/** Far above any real user list (a user is ~200 bytes); a bigger file is not ours. */
const SECURITY_FILE_MAX_BYTES = 64 * 1024 * 1024;

export class SecurityFile {
  readonly path: string;

  constructor(readonly dataDir: string) {
    this.path = join(dataDir, SECURITY_FILE_NAME);
  }

  /** The saved snapshot, or undefined when there is none yet (a fresh data dir). */
  async load(): Promise<SecuritySnapshot | undefined> {
    let text: string;
    try {
      const { size } = await stat(this.path);
      if (size > SECURITY_FILE_MAX_BYTES)
        throw this.problem(`is ${size} bytes, more than ${SECURITY_FILE_MAX_BYTES}`);
      text = await readFile(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      if (error instanceof CoreError) throw error;
      throw this.problem(
        `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw this.problem(`is not valid JSON (${(error as Error).message})`);
    }
    try {
      const snapshot = parseSnapshot(json);
      AccessControl.fromSnapshot(snapshot); // the semantic checks: known algorithms, hashes, regexes, references
      return snapshot;
    } catch (error) {
      throw this.problem((error as Error).message);
    }
  }

  async save(snapshot: SecuritySnapshot): Promise<void> {
    AccessControl.fromSnapshot(snapshot); // never write what load() would refuse
    const text = `${JSON.stringify(toJson(snapshot), null, 2)}\n`;
    const temporary = `${this.path}.tmp`;
    // 0600: the file holds password hashes.
    const file = await open(temporary, "w", 0o600);
    try {
      await file.writeFile(text, "utf8");
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, this.path);
    const dir = await open(this.dataDir, "r");
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  private problem(message: string): CoreError {
    return preconditionFailed(`security file '${this.path}' ${message}`);
  }
}

function toJson(snapshot: SecuritySnapshot) {
  return {
    format: FORMAT,
    users: snapshot.users.map((user) => ({
      name: user.name,
      password_hash: user.passwordHash,
      hashing_algorithm: user.hashingAlgorithm,
      tags: user.tags,
    })),
    vhosts: snapshot.vhosts.map((name) => ({ name })),
    permissions: snapshot.permissions.map(({ user, vhost, configure, write, read }) => ({
      user,
      vhost,
      configure,
      write,
      read,
    })),
    pending_vhost_purges: snapshot.pendingVhostPurges,
  };
}

function parseSnapshot(json: unknown): SecuritySnapshot {
  const root = record(json, "the file");
  if (root.format !== FORMAT)
    throw new Error(`has format ${JSON.stringify(root.format)}, expected "${FORMAT}"`);
  return {
    users: list(root.users, "users").map((value, i) => {
      const user = record(value, `users[${i}]`);
      return {
        name: text(user.name, `users[${i}].name`),
        passwordHash: text(user.password_hash, `users[${i}].password_hash`),
        hashingAlgorithm: text(user.hashing_algorithm, `users[${i}].hashing_algorithm`) as HashingAlgorithm,
        tags: list(user.tags, `users[${i}].tags`).map((tag, j) => text(tag, `users[${i}].tags[${j}]`)),
      };
    }),
    vhosts: list(root.vhosts, "vhosts").map((value, i) =>
      text(record(value, `vhosts[${i}]`).name, `vhosts[${i}].name`),
    ),
    permissions: list(root.permissions, "permissions").map((value, i) => {
      const permission = record(value, `permissions[${i}]`);
      const field = (key: string) => text(permission[key], `permissions[${i}].${key}`);
      return {
        user: field("user"),
        vhost: field("vhost"),
        configure: field("configure"),
        write: field("write"),
        read: field("read"),
      };
    }),
    pendingVhostPurges: list(root.pending_vhost_purges, "pending_vhost_purges").map((value, i) =>
      text(value, `pending_vhost_purges[${i}]`),
    ),
  };
}

function record(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new Error(`${where} must be an object`);
  return value as Record<string, unknown>;
}

function list(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${where} must be an array`);
  return value;
}

function text(value: unknown, where: string): string {
  if (typeof value !== "string") throw new Error(`${where} must be a string`);
  return value;
}
