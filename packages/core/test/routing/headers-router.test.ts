import { describe, expect, it } from "vitest";
import { CoreError } from "../../src/errors.js";
import { HeadersRouter, headerValuesEqual, validateHeadersBindingArgs } from "../../src/routing/index.js";

type Table = Record<string, unknown>;

function matches(args: Table, headers: Table | undefined): boolean {
  const router = new HeadersRouter<string>();
  router.bind("q", "", args);
  const out = new Set<string>();
  router.route("ignored", headers, out);
  return out.has("q");
}

describe("HeadersRouter: x-match", () => {
  const report = { format: "pdf", type: "report" };

  it("defaults to all: every argument must match", () => {
    expect(matches(report, { format: "pdf", type: "report", extra: 1 })).toBe(true);
    expect(matches(report, { format: "pdf" })).toBe(false);
    expect(matches(report, { format: "pdf", type: "log" })).toBe(false);
    expect(matches(report, undefined)).toBe(false);
    expect(matches({ "x-match": "all", ...report }, { format: "pdf", type: "report" })).toBe(true);
  });

  it("any: one matching argument is enough", () => {
    const args = { "x-match": "any", ...report };
    expect(matches(args, { format: "pdf", type: "log" })).toBe(true);
    expect(matches(args, { type: "report" })).toBe(true);
    expect(matches(args, { format: "zip", type: "log" })).toBe(false);
    expect(matches(args, {})).toBe(false);
    expect(matches(args, undefined)).toBe(false);
  });

  it("all with no arguments matches every message; any with none matches nothing", () => {
    expect(matches({}, undefined)).toBe(true);
    expect(matches({ "x-match": "all" }, { a: 1 })).toBe(true);
    expect(matches({ "x-match": "any" }, { a: 1 })).toBe(false);
    expect(matches({ "x-match": "any-with-x" }, undefined)).toBe(false);
  });

  it("ignores x- arguments under all and any, and matches them under the -with-x modes", () => {
    expect(matches({ "x-tenant": "t1", a: 1 }, { a: 1 })).toBe(true);
    expect(matches({ "x-match": "any", "x-tenant": "t1" }, { "x-tenant": "t1" })).toBe(false);
    expect(matches({ "x-match": "all-with-x", "x-tenant": "t1", a: 1 }, { a: 1 })).toBe(false);
    expect(matches({ "x-match": "all-with-x", "x-tenant": "t1", a: 1 }, { a: 1, "x-tenant": "t1" })).toBe(
      true,
    );
    expect(matches({ "x-match": "any-with-x", "x-tenant": "t1", a: 1 }, { "x-tenant": "t1" })).toBe(true);
    expect(matches({ "x-match": "any-with-x", "x-tenant": "t1" }, { "x-tenant": "t2" })).toBe(false);
  });

  it("never matches on x-match itself, even in the -with-x modes", () => {
    expect(matches({ "x-match": "any-with-x" }, { "x-match": "any-with-x" })).toBe(false);
    expect(matches({ "x-match": "all-with-x" }, {})).toBe(true);
  });
});

describe("HeadersRouter: values", () => {
  it("matches a void argument on the header's presence, whatever its value", () => {
    expect(matches({ flag: null }, { flag: "anything" })).toBe(true);
    expect(matches({ flag: undefined }, { flag: 0 })).toBe(true);
    expect(matches({ flag: null }, { flag: null })).toBe(true);
    expect(matches({ flag: null }, { other: 1 })).toBe(false);
    expect(matches({ flag: "on" }, { flag: null })).toBe(false);
    expect(matches({ "x-match": "any", flag: null, a: 1 }, { flag: false })).toBe(true);
  });

  it("compares numbers numerically across int, long, double and bigint", () => {
    expect(matches({ n: 1 }, { n: 1.0 })).toBe(true);
    expect(matches({ n: 5 }, { n: 5n })).toBe(true);
    expect(matches({ n: 5n }, { n: 5 })).toBe(true);
    expect(matches({ n: 5.5 }, { n: 5n })).toBe(false);
    expect(matches({ n: 1 }, { n: "1" })).toBe(false);
    expect(matches({ n: 1 }, { n: true })).toBe(false);
    expect(matches({ n: Number.NaN }, { n: Number.NaN })).toBe(false);
  });

  it("compares strings and byte arrays by their bytes", () => {
    expect(matches({ s: "héllo" }, { s: Buffer.from("héllo", "utf8") })).toBe(true);
    expect(matches({ s: Buffer.from([1, 2]) }, { s: new Uint8Array([1, 2]) })).toBe(true);
    expect(matches({ s: Buffer.from([1, 2]) }, { s: Buffer.from([1, 3]) })).toBe(false);
    expect(matches({ s: "a" }, { s: "A" })).toBe(false);
  });

  it("treats dates as AMQP timestamps in whole seconds", () => {
    const at = new Date(1_700_000_000_000);
    expect(matches({ t: at }, { t: new Date(1_700_000_000_999) })).toBe(true);
    expect(matches({ t: at }, { t: 1_700_000_000 })).toBe(true);
    expect(matches({ t: at }, { t: new Date(1_700_000_001_000) })).toBe(false);
  });

  it("compares booleans, arrays and nested tables structurally", () => {
    expect(matches({ b: true }, { b: true })).toBe(true);
    expect(matches({ b: false }, { b: 0 })).toBe(false);
    expect(matches({ a: [1, "x", [true]] }, { a: [1.0, "x", [true]] })).toBe(true);
    expect(matches({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
    expect(matches({ t: { k: 1, j: "v" } }, { t: { k: 1, j: "v" } })).toBe(true);
    expect(matches({ t: { k: 1 } }, { t: { k: 1, j: 2 } })).toBe(false);
    expect(matches({ t: { k: 1 } }, { t: [1] })).toBe(false);
    expect(matches({ t: { 0: 1 } }, { t: Buffer.from([1]) })).toBe(false);
  });

  it("compares kinds and key order below the top level, as RabbitMQ does", () => {
    // RabbitMQ keeps each nested value's wire type and sorts only the top-level table.
    expect(matches({ a: ["x"] }, { a: [Buffer.from("x")] })).toBe(false);
    expect(matches({ a: [new Date(5_000)] }, { a: [5] })).toBe(false);
    expect(matches({ t: { k: "x" } }, { t: { k: Buffer.from("x") } })).toBe(false);
    expect(matches({ t: { k: 1, j: "v" } }, { t: { j: "v", k: 1 } })).toBe(false);
  });

  it("gives up on values nested deeper than the limit instead of recursing without bound", () => {
    let deep: unknown = 1;
    for (let i = 0; i < 10_000; i++) deep = [deep];
    expect(headerValuesEqual(deep, deep)).toBe(true); // the same object
    let other: unknown = 1;
    for (let i = 0; i < 10_000; i++) other = [other];
    expect(headerValuesEqual(deep, other)).toBe(false);
  });

  it("only counts own properties as present headers", () => {
    const headers = Object.create({ inherited: "yes" }) as Table;
    expect(matches({ inherited: null }, headers)).toBe(false);
    expect(matches({ toString: null }, {})).toBe(false);
  });
});

describe("HeadersRouter: bindings", () => {
  it("identifies a binding by destination, routing key and equal arguments in any order", () => {
    const router = new HeadersRouter<string>();
    expect(router.bind("q", "", { "x-match": "any", a: 1, b: 2 })).toBe(true);
    expect(router.bind("q", "", { b: 2, a: 1, "x-match": "any" })).toBe(false);
    expect(router.bind("q", "", { a: 1, b: 2 })).toBe(true);
    expect(router.bind("q", "rk", { a: 1, b: 2 })).toBe(true);
    expect(router.size).toBe(3);
    expect(router.unbind("q", "", { a: 1 })).toBe(false);
    expect(router.unbind("q", "", { "x-match": "any", b: 2, a: 1 })).toBe(true);
    expect(router.size).toBe(2);
    const out = new Set<string>();
    router.route("", { a: 1 }, out);
    expect(out.size).toBe(0); // only the "all" bindings are left
  });

  it("routes a destination once when several of its bindings match", () => {
    const router = new HeadersRouter<string>();
    router.bind("q", "", { a: 1 });
    router.bind("q", "", { b: 1 });
    router.bind("p", "", { b: 2 });
    const out = new Set<string>();
    router.route("", { a: 1, b: 1 }, out);
    expect([...out]).toEqual(["q"]);
  });

  it("unbindAll removes all of a destination's bindings", () => {
    const router = new HeadersRouter<string>();
    router.bind("q", "", { a: 1 });
    router.bind("q", "", { b: 1 });
    router.bind("p", "", {});
    expect(router.unbindAll("q")).toBe(2);
    expect(router.unbindAll("q")).toBe(0);
    expect(router.hasBindingsTo("q")).toBe(false);
    expect([...router.bindings()]).toEqual([{ destination: "p", routingKey: "", arguments: {} }]);
  });

  it("refuses an unvalidated bad x-match loudly", () => {
    const router = new HeadersRouter<string>();
    expect(() => router.bind("q", "", { "x-match": "some" })).toThrow(CoreError);
    expect(router.size).toBe(0);
  });
});

// What RabbitMQ 3.10.8 did with these bindings and messages (sent with pika), recorded by hand.
describe("HeadersRouter: routing observed on RabbitMQ", () => {
  const bindings: Table[] = [
    { s: "abc" },
    { n: 1 },
    { p: null },
    { "x-match": "any", "x-foo": "1" },
    { "x-match": "any-with-x", "x-foo": "1" },
    {},
    { "x-match": "any" },
    { t: new Date(Date.UTC(2023, 10, 14, 22, 13, 20)) },
    { tbl: { a: 1, b: 2 } },
    { q: "x" },
    { b: true },
    { arr: [1, "a"] },
  ];
  const router = new HeadersRouter<number>();
  bindings.forEach((args, i) => {
    router.bind(i, "", args);
  });

  it.each<[Table | undefined, number[]]>([
    [{ s: Buffer.from("abc") }, [0, 5]],
    [{ n: 1 }, [1, 5]],
    [{ n: true }, [5]],
    [{ p: "x" }, [2, 5]],
    [{ "x-foo": "1" }, [4, 5]],
    [undefined, [5]],
    [{ t: 1_700_000_000 }, [5, 7]],
    [{ tbl: { b: 2, a: 1 } }, [5]],
    [{ tbl: { a: 1, b: 2 } }, [5, 8]],
    [{ q: null }, [5]],
    [{ b: 1 }, [5]],
    [{ arr: [1, Buffer.from("a")] }, [5]],
    [{ p: null }, [2, 5]],
  ])("routes %j to bindings %j", (headers, expected) => {
    const out = new Set<number>();
    router.route("", headers, out);
    expect([...out].sort((x, y) => x - y)).toEqual(expected);
  });
});

describe("validateHeadersBindingArgs", () => {
  it("accepts the four modes and a missing x-match", () => {
    for (const mode of ["all", "any", "all-with-x", "any-with-x"]) {
      expect(validateHeadersBindingArgs({ "x-match": mode, a: 1 })).toBeUndefined();
    }
    expect(validateHeadersBindingArgs({ a: 1 })).toBeUndefined();
    expect(validateHeadersBindingArgs({})).toBeUndefined();
  });

  it("names the allowed values for a bad string", () => {
    expect(validateHeadersBindingArgs({ "x-match": "ALL" })).toBe(
      'x-match must be one of all, any, all-with-x, any-with-x (got "ALL")',
    );
  });

  it("rejects values that are not strings, void included", () => {
    expect(validateHeadersBindingArgs({ "x-match": 1 })).toBe(
      "x-match must be one of all, any, all-with-x, any-with-x (got a number)",
    );
    expect(validateHeadersBindingArgs({ "x-match": null })).toMatch(/got void/);
    expect(validateHeadersBindingArgs({ "x-match": Buffer.from("all") })).toMatch(/got a byte array/);
  });
});
