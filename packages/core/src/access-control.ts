/**
 * The users, vhosts and permissions of one broker, as RabbitMQ's internal auth backend keeps them:
 * users with a salted password hash and tags; vhosts; per user and vhost the configure/write/read
 * regexes. It answers the two questions a connection asks: who is this (authenticate) and what may they
 * do in this vhost (openVhost -> ResourceAccess).
 *
 * Not here: storage (security-file.ts saves a snapshot), the loopback-only rule for guest and the SASL
 * mechanisms (the AMQP adapter's), and the vhosts' contents (Broker). Deleting a vhost here only
 * records it in `pendingVhostPurges`; the broker deletes the vhost's queues and exchanges from its log
 * at its next start and then calls purgeDone().
 */
import { Buffer } from "node:buffer";
import { notAllowed, notFound, preconditionFailed } from "./errors.js";
import {
  DEFAULT_HASHING_ALGORITHM,
  type HashingAlgorithm,
  hashPassword,
  isHashingAlgorithm,
  passwordHashProblem,
  verifyPassword,
} from "./password-hash.js";
import {
  type PermissionPatterns,
  permissionPatternProblem,
  type ResourceAccess,
  VhostPermissions,
} from "./permissions.js";

export interface UserDefinition {
  name: string;
  /** RabbitMQ's format (password-hash.ts); "" for a user who cannot log in with a password. */
  passwordHash: string;
  hashingAlgorithm: HashingAlgorithm;
  /** Free-form, as in RabbitMQ (administrator, monitoring, management, policymaker, impersonator…). */
  tags: string[];
}

export interface PermissionDefinition extends PermissionPatterns {
  user: string;
  vhost: string;
}

/** Everything AccessControl holds, as plain data (what is saved and loaded). */
export interface SecuritySnapshot {
  users: UserDefinition[];
  vhosts: string[];
  permissions: PermissionDefinition[];
  /** Vhosts deleted whose queues and exchanges the broker has not yet removed from its log. */
  pendingVhostPurges: string[];
}

/** AMQP sends the vhost as a short string, so no vhost name can be longer; user names get the same cap. */
export const NAME_MAX_BYTES = 255;
export const DEFAULT_VHOST = "/";
const DEFAULT_USER = "guest";
const FULL_ACCESS: PermissionPatterns = { configure: ".*", write: ".*", read: ".*" };

export class AccessControl {
  private readonly users = new Map<string, UserDefinition>();
  private readonly vhosts = new Set<string>();
  /** user -> vhost -> patterns */
  private readonly permissions = new Map<string, Map<string, PermissionPatterns>>();
  private readonly purges = new Set<string>();

  /** A fresh node, as RabbitMQ creates it: vhost "/", user guest/guest (administrator) with full access to it. */
  static withDefaults(): AccessControl {
    const control = new AccessControl();
    control.addVhost(DEFAULT_VHOST);
    control.addUser(DEFAULT_USER, "guest", ["administrator"]);
    control.setPermissions(DEFAULT_USER, DEFAULT_VHOST, FULL_ACCESS);
    return control;
  }

  /** Rebuilds from saved data, checking every field (a snapshot comes from disk and is not trusted). */
  static fromSnapshot(snapshot: SecuritySnapshot): AccessControl {
    const control = new AccessControl();
    for (const vhost of snapshot.vhosts) {
      if (control.vhosts.has(vhost)) throw preconditionFailed(`vhost '${vhost}' is listed twice`);
      control.addVhost(vhost);
    }
    for (const user of snapshot.users) {
      if (control.users.has(user.name)) throw preconditionFailed(`user '${user.name}' is listed twice`);
      control.putUser(user);
    }
    for (const { user, vhost, configure, write, read } of snapshot.permissions) {
      if (control.permissionsOf(user, vhost)) {
        throw preconditionFailed(`permissions of user '${user}' in vhost '${vhost}' are listed twice`);
      }
      control.setPermissions(user, vhost, { configure, write, read });
    }
    for (const vhost of snapshot.pendingVhostPurges) {
      checkName("vhost", vhost);
      control.purges.add(vhost);
    }
    return control;
  }

  snapshot(): SecuritySnapshot {
    const permissions: PermissionDefinition[] = [];
    for (const [user, byVhost] of this.permissions) {
      for (const [vhost, patterns] of byVhost) permissions.push({ user, vhost, ...patterns });
    }
    return {
      users: [...this.users.values()].map((user) => ({ ...user, tags: [...user.tags] })),
      vhosts: [...this.vhosts],
      permissions,
      pendingVhostPurges: [...this.purges],
    };
  }

  // ---- users ----

  /** A new user with a password hashed as RabbitMQ does (SHA-256). */
  addUser(name: string, password: string, tags: readonly string[] = []): void {
    if (this.users.has(name)) throw preconditionFailed(`user '${name}' already exists`);
    this.putUser({
      name,
      passwordHash: hashPassword(password),
      hashingAlgorithm: DEFAULT_HASHING_ALGORITHM,
      tags: [...tags],
    });
  }

  /** Creates or replaces a user with a ready hash (a definitions import does this). */
  putUser(user: UserDefinition): void {
    checkName("user", user.name);
    if (!isHashingAlgorithm(user.hashingAlgorithm)) {
      throw preconditionFailed(`user '${user.name}': unknown hashing algorithm '${user.hashingAlgorithm}'`);
    }
    const problem = passwordHashProblem(user.passwordHash, user.hashingAlgorithm);
    if (problem !== undefined) throw preconditionFailed(`user '${user.name}': password hash ${problem}`);
    this.users.set(user.name, { ...user, tags: normalizeTags(user.tags) });
  }

  changePassword(name: string, password: string): void {
    const user = this.requireUser(name);
    user.passwordHash = hashPassword(password);
    user.hashingAlgorithm = DEFAULT_HASHING_ALGORITHM;
  }

  setUserTags(name: string, tags: readonly string[]): void {
    this.requireUser(name).tags = normalizeTags(tags);
  }

  /** Deletes the user and every permission they held. */
  deleteUser(name: string): void {
    this.requireUser(name);
    this.users.delete(name);
    this.permissions.delete(name);
  }

  user(name: string): UserDefinition | undefined {
    const user = this.users.get(name);
    return user && { ...user, tags: [...user.tags] };
  }

  listUsers(): UserDefinition[] {
    return this.snapshot().users;
  }

  // ---- vhosts ----

  /** Returns false when it already existed (adding is idempotent, as rabbitmqctl add_vhost is). */
  addVhost(name: string): boolean {
    checkName("vhost", name);
    if (this.vhosts.has(name)) return false;
    this.vhosts.add(name);
    return true;
  }

  /** Deletes the vhost and every permission in it; its contents are purged at the broker's next start. */
  deleteVhost(name: string): void {
    if (!this.vhosts.delete(name)) throw notFound(`no vhost '${name}'`);
    for (const byVhost of this.permissions.values()) byVhost.delete(name);
    this.purges.add(name);
  }

  hasVhost(name: string): boolean {
    return this.vhosts.has(name);
  }

  listVhosts(): string[] {
    return [...this.vhosts];
  }

  get pendingVhostPurges(): string[] {
    return [...this.purges];
  }

  /** The broker removed everything the deleted vhost held from its log. */
  purgeDone(name: string): void {
    this.purges.delete(name);
  }

  // ---- permissions ----

  setPermissions(user: string, vhost: string, patterns: PermissionPatterns): void {
    this.requireUser(user);
    if (!this.vhosts.has(vhost)) throw notFound(`no vhost '${vhost}'`);
    for (const source of [patterns.configure, patterns.write, patterns.read]) {
      if (typeof source !== "string")
        throw preconditionFailed(`permissions of user '${user}' in vhost '${vhost}' must be strings`);
      const problem = permissionPatternProblem(source);
      if (problem !== undefined) throw preconditionFailed(problem);
    }
    let byVhost = this.permissions.get(user);
    if (!byVhost) {
      byVhost = new Map();
      this.permissions.set(user, byVhost);
    }
    byVhost.set(vhost, { configure: patterns.configure, write: patterns.write, read: patterns.read });
  }

  /** Returns false when the user had no permissions there. */
  clearPermissions(user: string, vhost: string): boolean {
    this.requireUser(user);
    return this.permissions.get(user)?.delete(vhost) ?? false;
  }

  permissionsOf(user: string, vhost: string): PermissionPatterns | undefined {
    const patterns = this.permissions.get(user)?.get(vhost);
    return patterns && { ...patterns };
  }

  listPermissions(): PermissionDefinition[] {
    return this.snapshot().permissions;
  }

  // ---- connections ----

  /** The user, when the name and password match; undefined otherwise (never says which was wrong). */
  authenticate(name: string, password: string): UserDefinition | undefined {
    const user = this.users.get(name);
    if (!user || !verifyPassword(password, user.passwordHash, user.hashingAlgorithm)) return undefined;
    return this.user(name);
  }

  /**
   * connection.open: RabbitMQ's checks in its order, as CORE_NOT_ALLOWED (530, a connection error):
   * the vhost must exist, then the user must hold permissions in it (any, even all-empty).
   */
  openVhost(user: string, vhost: string): ResourceAccess {
    if (!this.vhosts.has(vhost)) throw notAllowed(`vhost ${vhost} not found`);
    const patterns = this.permissions.get(user)?.get(vhost);
    const known = this.users.get(user);
    if (!patterns || !known) throw notAllowed(`access to vhost '${vhost}' refused for user '${user}'`);
    return new VhostPermissions(user, vhost, patterns, known.tags.includes("impersonator"));
  }

  private requireUser(name: string): UserDefinition {
    const user = this.users.get(name);
    if (!user) throw notFound(`no user '${name}'`);
    return user;
  }
}

function checkName(kind: "user" | "vhost", name: string): void {
  if (typeof name !== "string" || name === "")
    throw preconditionFailed(`a ${kind} name must be a non-empty string`);
  if (Buffer.byteLength(name) > NAME_MAX_BYTES) {
    throw preconditionFailed(`${kind} name '${name.slice(0, 40)}…' is longer than ${NAME_MAX_BYTES} bytes`);
  }
}

function normalizeTags(tags: readonly string[]): string[] {
  const unique: string[] = [];
  for (const tag of tags) {
    if (typeof tag !== "string")
      throw preconditionFailed(`user tags must be strings, got ${JSON.stringify(tag)}`);
    const trimmed = tag.trim();
    if (trimmed !== "" && !unique.includes(trimmed)) unique.push(trimmed);
  }
  return unique;
}
