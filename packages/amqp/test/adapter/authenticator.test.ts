import { AccessControl, CoreError } from "@leveret/core";
import { describe, expect, it } from "vitest";
import { AccessControlAuthenticator } from "../../src/connection/access-control-authenticator.js";
import { isLoopback, StaticAuthenticator } from "../../src/connection/authenticator.js";

describe("StaticAuthenticator", () => {
  const auth = new StaticAuthenticator();

  it("lets guest in from loopback only, as RabbitMQ does", () => {
    expect(auth.authenticate("guest", "guest", "127.0.0.1")).toEqual({ ok: true });
    expect(auth.authenticate("guest", "guest", "::ffff:127.0.0.1")).toEqual({ ok: true });
    expect(auth.authenticate("guest", "guest", "::1")).toEqual({ ok: true });
    const remote = auth.authenticate("guest", "guest", "10.1.2.3");
    expect(remote.ok).toBe(false);
    expect(!remote.ok && remote.reason).toMatch(/can only connect via localhost/);
  });

  it("refuses wrong passwords and unknown users", () => {
    expect(auth.authenticate("guest", "nope", "127.0.0.1").ok).toBe(false);
    expect(auth.authenticate("mallory", "guest", "127.0.0.1").ok).toBe(false);
  });

  it("recognises loopback addresses", () => {
    expect(isLoopback("127.5.5.5")).toBe(true);
    expect(isLoopback("192.168.0.1")).toBe(false);
    expect(isLoopback("::ffff:10.0.0.1")).toBe(false);
  });
});

describe("AccessControlAuthenticator", () => {
  const control = AccessControl.withDefaults();
  control.addUser("bob", "bob-pw");
  control.addVhost("app");
  control.setPermissions("bob", "app", { configure: "^bob-", write: "", read: "" });
  const auth = new AccessControlAuthenticator(control);

  it("checks passwords against the stored hashes; guest stays loopback-only, other users do not", () => {
    expect(auth.authenticate("bob", "bob-pw", "10.1.2.3")).toEqual({ ok: true });
    expect(auth.authenticate("bob", "nope", "127.0.0.1")).toEqual({ ok: false, reason: "user 'bob' - invalid credentials" });
    expect(auth.authenticate("guest", "guest", "127.0.0.1")).toEqual({ ok: true });
    expect(auth.authenticate("guest", "guest", "10.1.2.3")).toEqual({ ok: false, reason: "user 'guest' can only connect via localhost" });
    const open = new AccessControlAuthenticator(control, { loopbackUsers: [] });
    expect(open.authenticate("guest", "guest", "10.1.2.3")).toEqual({ ok: true });
  });

  it("opens a vhost with the user's permissions, or refuses with CORE_NOT_ALLOWED", () => {
    const access = auth.openVhost("bob", "app");
    expect(() => access.check("configure", "queue", "bob-q")).not.toThrow();
    expect(() => access.check("configure", "queue", "q")).toThrow("access to queue 'q' in vhost 'app' refused for user 'bob'");
    expect(() => auth.openVhost("bob", "/")).toThrow(CoreError);
    expect(() => auth.openVhost("bob", "/")).toThrow("access to vhost '/' refused for user 'bob'");
  });

  it("the static authenticator lets its users do anything", () => {
    expect(() => new StaticAuthenticator().openVhost("guest", "/").check("configure", "queue", "q")).not.toThrow();
  });
});
