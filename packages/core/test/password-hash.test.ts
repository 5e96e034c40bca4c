import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hashPassword, passwordHashProblem, verifyPassword } from "../src/password-hash.js";

// Made by RabbitMQ 3.10.8: `rabbitmqctl add_user lvprobe secretpw`, then `rabbitmqctl export_definitions -`.
const RABBITMQ_HASH = "2lNY2kVX3wLIGL9uEVvmc2b+H2pZyjZjMewuazTythAzJ87T";

describe("RabbitMQ-compatible password hashes", () => {
  it("verifies a hash made by RabbitMQ 3.10 (rabbit_password_hashing_sha256)", () => {
    expect(verifyPassword("secretpw", RABBITMQ_HASH, "rabbit_password_hashing_sha256")).toBe(true);
    expect(verifyPassword("secretpW", RABBITMQ_HASH, "rabbit_password_hashing_sha256")).toBe(false);
    expect(verifyPassword("secretpw", RABBITMQ_HASH, "rabbit_password_hashing_sha512")).toBe(false);
  });

  it("lays a hash out as RabbitMQ does: base64(salt[4] + sha256(salt + utf8 password))", () => {
    const salt = Buffer.from([0xde, 0xad, 0xbe, 0xef]);
    const hash = Buffer.from(hashPassword("pässword", "rabbit_password_hashing_sha256", salt), "base64");
    expect(hash.length).toBe(36);
    expect(hash.subarray(0, 4)).toEqual(salt);
    const expected = createHash("sha256")
      .update(Buffer.concat([salt, Buffer.from("pässword", "utf8")]))
      .digest();
    expect(hash.subarray(4)).toEqual(expected);
  });

  it("round-trips any password with every algorithm, and a fresh salt each time", () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.constantFrom(
          "rabbit_password_hashing_sha256",
          "rabbit_password_hashing_sha512",
          "rabbit_password_hashing_md5" as const,
        ),
        (password, algorithm) => {
          const hash = hashPassword(password, algorithm);
          expect(passwordHashProblem(hash, algorithm)).toBeUndefined();
          expect(verifyPassword(password, hash, algorithm)).toBe(true);
          expect(verifyPassword(`${password}x`, hash, algorithm)).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
    expect(hashPassword("same")).not.toBe(hashPassword("same"));
  });

  it("rejects hashes of the wrong shape instead of comparing garbage", () => {
    expect(passwordHashProblem("not base64!", "rabbit_password_hashing_sha256")).toBe("is not base64");
    expect(passwordHashProblem("AAAA", "rabbit_password_hashing_sha256")).toMatch(
      /decodes to 3 bytes, but a rabbit_password_hashing_sha256 hash is 36/,
    );
    expect(passwordHashProblem(RABBITMQ_HASH, "rabbit_password_hashing_md5")).toMatch(/is 20/);
    expect(verifyPassword("secretpw", "AAAA", "rabbit_password_hashing_sha256")).toBe(false);
  });

  it("treats an empty hash as a user who cannot log in with a password", () => {
    expect(passwordHashProblem("", "rabbit_password_hashing_sha256")).toBeUndefined();
    expect(verifyPassword("", "", "rabbit_password_hashing_sha256")).toBe(false);
  });
});
