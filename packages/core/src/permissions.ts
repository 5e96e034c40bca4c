/**
 * Resource permissions as RabbitMQ defines them: per user and vhost, three regular expressions
 * (configure, write, read) matched against the name of the exchange or queue an operation touches.
 *
 * Matching follows RabbitMQ's `re:run(Name, Regex)`: the regex is NOT anchored (".*" and "q" both allow
 * "my-queue"; use "^q$" for exactly "q"), an empty regex means "^$" (nothing but the empty name), and the
 * default exchange "" is checked under the name "amq.default". The regexes are JavaScript's, not PCRE:
 * the patterns people write for RabbitMQ (prefixes, alternations, classes, `\.`) behave the same; PCRE-only
 * syntax such as inline `(?i)` is refused when the permission is set.
 *
 * Not here: which AMQP method needs which permission (the adapter's table) and who the users are
 * (access-control.ts).
 */
import { accessRefused, preconditionFailed } from "./errors.js";

export type PermissionKind = "configure" | "write" | "read";
export type ResourceKind = "exchange" | "queue";

/** The three regexes (sources, as the user wrote them). */
export interface PermissionPatterns {
  configure: string;
  write: string;
  read: string;
}

/** What one connection may do in its vhost; the adapter asks before every operation on a resource. */
export interface ResourceAccess {
  readonly user: string;
  readonly vhost: string;
  /** RabbitMQ's `impersonator` tag: may publish with a user_id property naming someone else. */
  readonly impersonator: boolean;
  /** Throws CORE_ACCESS_REFUSED with RabbitMQ's message when the user lacks the permission. */
  check(permission: PermissionKind, kind: ResourceKind, name: string): void;
}

/** The name RabbitMQ checks permissions against ("" is the default exchange, amq.default). */
export function permissionResourceName(kind: ResourceKind, name: string): string {
  return kind === "exchange" && name === "" ? "amq.default" : name;
}

/** Why `source` cannot be a permission regex, or undefined when it can. */
export function permissionPatternProblem(source: string): string | undefined {
  try {
    new RegExp(source);
    return undefined;
  } catch (error) {
    return `invalid regular expression '${source}': ${(error as Error).message}`;
  }
}

export function compilePermissionPattern(source: string): RegExp {
  const problem = permissionPatternProblem(source);
  if (problem !== undefined) throw preconditionFailed(problem);
  return new RegExp(source === "" ? "^$" : source);
}

/**
 * Answers per name are remembered (a publisher checks the same exchange on every message); the memory
 * is bounded so that a client inventing names cannot grow it without limit.
 */
const ANSWER_CACHE_MAX_ENTRIES = 1024;

export class VhostPermissions implements ResourceAccess {
  private readonly patterns: Record<PermissionKind, RegExp>;
  private readonly answers: Record<PermissionKind, Map<string, boolean>> = {
    configure: new Map(),
    write: new Map(),
    read: new Map(),
  };

  constructor(
    readonly user: string,
    readonly vhost: string,
    patterns: PermissionPatterns,
    readonly impersonator = false,
  ) {
    this.patterns = {
      configure: compilePermissionPattern(patterns.configure),
      write: compilePermissionPattern(patterns.write),
      read: compilePermissionPattern(patterns.read),
    };
  }

  allows(permission: PermissionKind, kind: ResourceKind, name: string): boolean {
    const resource = permissionResourceName(kind, name);
    const answers = this.answers[permission];
    const known = answers.get(resource);
    if (known !== undefined) return known;
    const allowed = this.patterns[permission].test(resource);
    if (answers.size >= ANSWER_CACHE_MAX_ENTRIES) answers.clear();
    answers.set(resource, allowed);
    return allowed;
  }

  check(permission: PermissionKind, kind: ResourceKind, name: string): void {
    if (this.allows(permission, kind, name)) return;
    throw accessRefused(
      `access to ${kind} '${permissionResourceName(kind, name)}' in vhost '${this.vhost}' refused for user '${this.user}'`,
    );
  }
}

/** Access for brokers run without access control (every check passes). */
export function unrestrictedAccess(user: string, vhost: string): ResourceAccess {
  return { user, vhost, impersonator: false, check() {} };
}
