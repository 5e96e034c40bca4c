/**
 * Password hashes in RabbitMQ's format, so that users exported from RabbitMQ
 * (`rabbitmqctl export_definitions`) log in to Leveret with their old passwords, and the other way round.
 *
 *   base64( salt[4] || digest(salt[4] || utf8(password)) )
 *
 * where digest is SHA-256 (rabbit_password_hashing_sha256, RabbitMQ's default since 3.6), SHA-512 or
 * MD5 (before 3.6). This is one round of a fast hash: it is what RabbitMQ does and what its exports
 * hold, not a recommendation; the salt only stops precomputed tables.
 *
 * Not here: who the users are (access-control.ts). Buffers are local to each call.
 */
import { Buffer } from "node:buffer";
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** RabbitMQ's module names (the `hashing_algorithm` of a definitions export) and their digests. */
const DIGEST_OF = {
  rabbit_password_hashing_sha256: { digest: "sha256", digestBytes: 32 },
  rabbit_password_hashing_sha512: { digest: "sha512", digestBytes: 64 },
  rabbit_password_hashing_md5: { digest: "md5", digestBytes: 16 },
} as const;

export type HashingAlgorithm = keyof typeof DIGEST_OF;

export const HASHING_ALGORITHMS: readonly HashingAlgorithm[] = Object.keys(DIGEST_OF) as HashingAlgorithm[];

/** What RabbitMQ uses for new users, and so what Leveret uses. */
export const DEFAULT_HASHING_ALGORITHM: HashingAlgorithm = "rabbit_password_hashing_sha256";

const SALT_BYTES = 4;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function isHashingAlgorithm(name: string): name is HashingAlgorithm {
  return Object.hasOwn(DIGEST_OF, name);
}

/** A fresh salted hash of `password`; `salt` is for tests that need a fixed output. */
export function hashPassword(
  password: string,
  algorithm: HashingAlgorithm = DEFAULT_HASHING_ALGORITHM,
  salt: Buffer = randomBytes(SALT_BYTES),
): string {
  if (salt.length !== SALT_BYTES)
    throw new RangeError(`a password salt is ${SALT_BYTES} bytes, got ${salt.length}`);
  return Buffer.concat([salt, saltedDigest(algorithm, salt, password)]).toString("base64");
}

/**
 * Whether `password` matches. An empty hash matches nothing: in RabbitMQ that is a user who may not
 * log in with a password at all (e.g. one that only authenticates by certificate).
 */
export function verifyPassword(password: string, passwordHash: string, algorithm: HashingAlgorithm): boolean {
  if (passwordHashProblem(passwordHash, algorithm) !== undefined || passwordHash === "") return false;
  const stored = Buffer.from(passwordHash, "base64");
  const salt = stored.subarray(0, SALT_BYTES);
  return timingSafeEqual(stored.subarray(SALT_BYTES), saltedDigest(algorithm, salt, password));
}

/** Why `passwordHash` cannot be a hash of this algorithm, or undefined when it can ("" is allowed). */
export function passwordHashProblem(passwordHash: string, algorithm: HashingAlgorithm): string | undefined {
  if (passwordHash === "") return undefined;
  if (!BASE64.test(passwordHash) || passwordHash.length % 4 !== 0) return "is not base64";
  const expectedBytes = SALT_BYTES + DIGEST_OF[algorithm].digestBytes;
  const bytes = Buffer.from(passwordHash, "base64").length;
  if (bytes !== expectedBytes) {
    return `decodes to ${bytes} bytes, but a ${algorithm} hash is ${expectedBytes} (a ${SALT_BYTES}-byte salt and the digest)`;
  }
  return undefined;
}

function saltedDigest(algorithm: HashingAlgorithm, salt: Buffer, password: string): Buffer {
  return createHash(DIGEST_OF[algorithm].digest).update(salt).update(password, "utf8").digest();
}
