import { describe, expect, it } from "vitest";
import { AccessControl } from "../src/access-control.js";
import { hashPassword } from "../src/password-hash.js";
import { coreErrorOf } from "./support/core-error-of.js";

describe("AccessControl", () => {
  it("starts as a fresh RabbitMQ node: vhost '/', guest/guest administrator with full access", () => {
    const control = AccessControl.withDefaults();
    expect(control.listVhosts()).toEqual(["/"]);
    expect(control.listUsers().map((u) => [u.name, u.tags])).toEqual([["guest", ["administrator"]]]);
    expect(control.permissionsOf("guest", "/")).toEqual({ configure: ".*", write: ".*", read: ".*" });
    expect(control.authenticate("guest", "guest")?.name).toBe("guest");
    expect(control.authenticate("guest", "wrong")).toBeUndefined();
  });

  it("adds, authenticates and deletes users; deleting a user drops their permissions", () => {
    const control = AccessControl.withDefaults();
    control.addUser("bob", "pw", ["monitoring", "monitoring", " management "]);
    expect(control.user("bob")?.tags).toEqual(["monitoring", "management"]);
    expect(control.user("bob")?.hashingAlgorithm).toBe("rabbit_password_hashing_sha256");
    expect(coreErrorOf(() => control.addUser("bob", "other"))).toEqual({
      code: "CORE_PRECONDITION_FAILED",
      message: "user 'bob' already exists",
    });
    control.setPermissions("bob", "/", { configure: "", write: ".*", read: ".*" });
    expect(control.authenticate("bob", "pw")?.name).toBe("bob");
    control.changePassword("bob", "new");
    expect(control.authenticate("bob", "pw")).toBeUndefined();
    expect(control.authenticate("bob", "new")).toBeDefined();
    control.deleteUser("bob");
    expect(control.authenticate("bob", "new")).toBeUndefined();
    expect(control.listPermissions().map((p) => p.user)).toEqual(["guest"]);
    expect(coreErrorOf(() => control.deleteUser("bob"))).toEqual({
      code: "CORE_NOT_FOUND",
      message: "no user 'bob'",
    });
  });

  it("opens a vhost in RabbitMQ's order: unknown vhost, then no permissions (530 NOT_ALLOWED)", () => {
    const control = AccessControl.withDefaults();
    control.addUser("bob", "pw");
    expect(control.addVhost("app")).toBe(true);
    expect(control.addVhost("app")).toBe(false);
    expect(coreErrorOf(() => control.openVhost("bob", "nope"))).toEqual({
      code: "CORE_NOT_ALLOWED",
      message: "vhost nope not found",
    });
    expect(coreErrorOf(() => control.openVhost("bob", "app"))).toEqual({
      code: "CORE_NOT_ALLOWED",
      message: "access to vhost 'app' refused for user 'bob'",
    });
    control.setPermissions("bob", "app", { configure: "", write: "", read: "" });
    const access = control.openVhost("bob", "app"); // empty permissions still open the vhost, as in RabbitMQ
    expect(coreErrorOf(() => access.check("read", "queue", "q"))?.code).toBe("CORE_ACCESS_REFUSED");
    expect(access.impersonator).toBe(false);
    control.setUserTags("bob", ["impersonator"]);
    expect(control.openVhost("bob", "app").impersonator).toBe(true);
  });

  it("deletes a vhost with its permissions and remembers to purge its contents", () => {
    const control = AccessControl.withDefaults();
    control.addVhost("app");
    control.setPermissions("guest", "app", { configure: ".*", write: ".*", read: ".*" });
    control.deleteVhost("app");
    expect(control.listVhosts()).toEqual(["/"]);
    expect(control.permissionsOf("guest", "app")).toBeUndefined();
    expect(control.pendingVhostPurges).toEqual(["app"]);
    control.addVhost("app"); // re-created before the purge: the purge stays pending
    expect(control.pendingVhostPurges).toEqual(["app"]);
    control.purgeDone("app");
    expect(control.pendingVhostPurges).toEqual([]);
    expect(coreErrorOf(() => control.deleteVhost("nope"))).toEqual({
      code: "CORE_NOT_FOUND",
      message: "no vhost 'nope'",
    });
  });

  it("refuses permissions for unknown users or vhosts and invalid regexes", () => {
    const control = AccessControl.withDefaults();
    const all = { configure: ".*", write: ".*", read: ".*" };
    expect(coreErrorOf(() => control.setPermissions("nobody", "/", all))?.message).toBe("no user 'nobody'");
    expect(coreErrorOf(() => control.setPermissions("guest", "nope", all))?.message).toBe("no vhost 'nope'");
    expect(coreErrorOf(() => control.setPermissions("guest", "/", { ...all, read: "[" }))?.message).toMatch(
      /^invalid regular expression '\['/,
    );
  });

  it("round-trips through a snapshot and refuses damaged snapshots", () => {
    const control = AccessControl.withDefaults();
    control.addVhost("app");
    control.putUser({
      name: "imported",
      passwordHash: hashPassword("pw", "rabbit_password_hashing_sha512"),
      hashingAlgorithm: "rabbit_password_hashing_sha512",
      tags: ["x"],
    });
    control.setPermissions("imported", "app", { configure: "^a", write: "^b", read: "^c" });
    control.deleteVhost("app");
    control.addVhost("app");
    const again = AccessControl.fromSnapshot(control.snapshot());
    expect(again.snapshot()).toEqual(control.snapshot());
    expect(again.authenticate("imported", "pw")?.tags).toEqual(["x"]);

    const snapshot = control.snapshot();
    const broken = (change: (s: typeof snapshot) => void) => {
      const copy = structuredClone(snapshot);
      change(copy);
      return coreErrorOf(() => AccessControl.fromSnapshot(copy))?.message;
    };
    expect(broken((s) => s.users.push({ ...s.users[0]! }))).toBe("user 'guest' is listed twice");
    expect(broken((s) => (s.users[0]!.passwordHash = "AAAA"))).toMatch(
      /user 'guest': password hash decodes to 3 bytes/,
    );
    expect(broken((s) => (s.users[0]!.hashingAlgorithm = "bcrypt" as never))).toBe(
      "user 'guest': unknown hashing algorithm 'bcrypt'",
    );
    expect(
      broken((s) => s.permissions.push({ user: "ghost", vhost: "/", configure: "", write: "", read: "" })),
    ).toBe("no user 'ghost'");
    expect(broken((s) => s.vhosts.push(""))).toBe("a vhost name must be a non-empty string");
    expect(broken((s) => s.vhosts.push("v".repeat(256)))).toMatch(/longer than 255 bytes/);
  });
});
