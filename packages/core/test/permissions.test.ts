import { describe, expect, it } from "vitest";
import { permissionPatternProblem, unrestrictedAccess, VhostPermissions } from "../src/permissions.js";
import { coreErrorOf } from "./support/core-error-of.js";

const permissions = (configure: string, write: string, read: string) =>
  new VhostPermissions("u", "/", { configure, write, read });

describe("permission regexes (as RabbitMQ's re:run matches them)", () => {
  it("are not anchored: a pattern matches anywhere in the name", () => {
    const p = permissions("cfg", "^wr", "rd$");
    expect(p.allows("configure", "queue", "xcfgx")).toBe(true);
    expect(p.allows("configure", "queue", "cf-g")).toBe(false);
    expect(p.allows("write", "exchange", "wr-x")).toBe(true);
    expect(p.allows("write", "exchange", "x-wr")).toBe(false);
    expect(p.allows("read", "queue", "q-rd")).toBe(true);
    expect(p.allows("read", "queue", "rd-q")).toBe(false);
  });

  it("treat an empty pattern as ^$ (nothing), and .* as everything", () => {
    const none = permissions("", "", "");
    expect(none.allows("configure", "queue", "q")).toBe(false);
    expect(none.allows("write", "exchange", "")).toBe(false); // the default exchange is "amq.default"
    const all = permissions(".*", ".*", ".*");
    expect(all.allows("read", "queue", "anything at all")).toBe(true);
  });

  it("check the default exchange under the name amq.default", () => {
    const p = permissions(".*", "^amq\\.default$", ".*");
    expect(p.allows("write", "exchange", "")).toBe(true);
    expect(p.allows("write", "queue", "")).toBe(false);
    expect(coreErrorOf(() => permissions(".*", "x", ".*").check("write", "exchange", ""))).toEqual({
      code: "CORE_ACCESS_REFUSED",
      message: "access to exchange 'amq.default' in vhost '/' refused for user 'u'",
    });
  });

  it("refuse with RabbitMQ's message", () => {
    expect(coreErrorOf(() => permissions("cfg", "", "").check("configure", "queue", "plainq"))).toEqual({
      code: "CORE_ACCESS_REFUSED",
      message: "access to queue 'plainq' in vhost '/' refused for user 'u'",
    });
    expect(coreErrorOf(() => permissions("cfg", "", "").check("configure", "queue", "cfg-q"))).toBeUndefined();
  });

  it("refuse invalid regexes when they are set", () => {
    expect(permissionPatternProblem("(")).toMatch(/^invalid regular expression '\(': /);
    expect(permissionPatternProblem("^app-(a|b)\\.[0-9]+$")).toBeUndefined();
    expect(coreErrorOf(() => permissions("(", ".*", ".*"))?.code).toBe("CORE_PRECONDITION_FAILED");
  });

  it("remember a bounded number of answers and stay right past the bound", () => {
    const p = permissions("^even-", "", "");
    for (let i = 0; i < 5000; i++) {
      const name = `${i % 2 === 0 ? "even" : "odd"}-${i}`;
      expect(p.allows("configure", "queue", name)).toBe(i % 2 === 0);
      expect(p.allows("configure", "queue", name)).toBe(i % 2 === 0);
    }
  });

  it("unrestricted access allows everything (brokers without access control)", () => {
    expect(coreErrorOf(() => unrestrictedAccess("u", "/").check("configure", "queue", "q"))).toBeUndefined();
  });
});
