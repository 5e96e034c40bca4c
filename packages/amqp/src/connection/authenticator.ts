/**
 * Who may log in, and what they may do. The broker app supplies an Authenticator (with access control:
 * AccessControlAuthenticator); the default here knows one user, guest/guest, who (as in RabbitMQ) may
 * connect only from a loopback address and may do anything.
 */
import { Buffer } from "node:buffer";
import { timingSafeEqual } from "node:crypto";
import { type ResourceAccess, unrestrictedAccess } from "@leveret/core";

export type AuthResult = { ok: true } | { ok: false; reason: string };

export interface Authenticator {
  authenticate(username: string, password: string, remoteAddress: string): AuthResult;
  /**
   * connection.open: the user's permissions in the vhost, checked on every channel operation. Throws a
   * CoreError (CORE_NOT_ALLOWED -> 530) when the vhost does not exist or the user has no access to it.
   */
  openVhost(username: string, vhost: string): ResourceAccess;
}

export interface StaticUser {
  name: string;
  password: string;
  /** Like RabbitMQ's loopback_users: such a user may connect only from 127.0.0.0/8 or ::1. */
  loopbackOnly: boolean;
}

export const GUEST_USER: StaticUser = { name: "guest", password: "guest", loopbackOnly: true };

export class StaticAuthenticator implements Authenticator {
  private readonly users = new Map<string, StaticUser>();

  constructor(users: readonly StaticUser[] = [GUEST_USER]) {
    for (const user of users) this.users.set(user.name, user);
  }

  authenticate(username: string, password: string, remoteAddress: string): AuthResult {
    const user = this.users.get(username);
    if (!user || !sameSecret(user.password, password)) {
      return { ok: false, reason: `user '${username}' - invalid credentials` };
    }
    if (user.loopbackOnly && !isLoopback(remoteAddress)) {
      return { ok: false, reason: `user '${username}' can only connect via localhost` };
    }
    return { ok: true };
  }

  openVhost(username: string, vhost: string): ResourceAccess {
    return unrestrictedAccess(username, vhost);
  }
}

export function isLoopback(address: string): boolean {
  const plain = address.startsWith("::ffff:") ? address.slice(7) : address;
  return plain === "::1" || plain.startsWith("127.");
}

function sameSecret(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
