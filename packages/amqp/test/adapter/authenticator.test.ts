import { describe, expect, it } from "vitest";
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
