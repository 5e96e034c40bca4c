/**
 * The Authenticator over the core's AccessControl: passwords are checked against the stored RabbitMQ
 * hashes, connection.open against the vhost and the user's permissions there, and every channel
 * operation against those permissions (the ResourceAccess it returns).
 *
 * RabbitMQ's `loopback_users` rule lives here because it is about the socket, not the user database:
 * the users named in `loopbackUsers` (default: guest) may log in only from 127.0.0.0/8 or ::1.
 *
 * Not here: the SASL mechanisms (sasl.ts) and the close that answers a refusal (ServerConnection).
 */
import type { AccessControl, ResourceAccess } from "@leveret/core";
import { type Authenticator, type AuthResult, isLoopback } from "./authenticator.js";

export interface AccessControlAuthenticatorOptions {
  /** Users who may connect only from loopback (RabbitMQ's loopback_users; default ["guest"]). */
  loopbackUsers?: readonly string[];
}

export class AccessControlAuthenticator implements Authenticator {
  private readonly loopbackUsers: ReadonlySet<string>;

  constructor(
    private readonly accessControl: AccessControl,
    options: AccessControlAuthenticatorOptions = {},
  ) {
    this.loopbackUsers = new Set(options.loopbackUsers ?? ["guest"]);
  }

  authenticate(username: string, password: string, remoteAddress: string): AuthResult {
    if (!this.accessControl.authenticate(username, password)) {
      return { ok: false, reason: `user '${username}' - invalid credentials` };
    }
    if (this.loopbackUsers.has(username) && !isLoopback(remoteAddress)) {
      return { ok: false, reason: `user '${username}' can only connect via localhost` };
    }
    return { ok: true };
  }

  openVhost(username: string, vhost: string): ResourceAccess {
    return this.accessControl.openVhost(username, vhost);
  }
}
