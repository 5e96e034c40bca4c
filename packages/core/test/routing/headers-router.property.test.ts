import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HeadersRouter } from "../../src/routing/index.js";

type Table = Record<string, unknown>;

// Scalars of several wire types whose equality the reference decides by a canonical form of its own.
const scalar = fc.constantFrom<unknown>(
  0,
  1,
  1n,
  2.5,
  "1",
  "a",
  "",
  Buffer.from("a"),
  Buffer.alloc(0),
  true,
  false,
  new Date(1_000),
  new Date(1_999),
);
const name = fc.constantFrom("a", "b", "c", "x-a", "x-b");
const argValue = fc.oneof({ weight: 4, arbitrary: scalar }, { weight: 1, arbitrary: fc.constant(null) });
const xMatch = fc.constantFrom(undefined, "all", "any", "all-with-x", "any-with-x");

const bindingArgs = fc.tuple(fc.dictionary(name, argValue, { maxKeys: 4 }), xMatch).map(([args, mode]) => {
  const table: Table = { ...args };
  if (mode !== undefined) table["x-match"] = mode;
  return table;
});
const headers = fc.option(
  fc.dictionary(fc.constantFrom("a", "b", "c", "x-a", "x-b", "x-match", "d"), argValue, { maxKeys: 5 }),
  { nil: undefined },
);

/** A canonical string per value, so that equality is string equality (null for void). */
function canonical(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "number" || typeof value === "bigint") return `n${String(value)}`;
  if (value instanceof Date) return `n${Math.floor(value.getTime() / 1000)}`;
  if (typeof value === "string") return `s${Buffer.from(value).toString("hex")}`;
  if (Buffer.isBuffer(value)) return `s${value.toString("hex")}`;
  if (typeof value === "boolean") return `b${value}`;
  throw new Error(`unexpected value ${String(value)}`);
}

/**
 * RabbitMQ's algorithm in outline: both tables sorted by key, walked together like a merge, keeping
 * "all so far" and "any so far" flags. A different shape of algorithm from the router's.
 */
function referenceMatch(args: Table, data: Table | undefined): boolean {
  const mode = (args["x-match"] as string | undefined) ?? "all";
  const withX = mode.endsWith("-with-x");
  const pattern = Object.entries(args)
    .filter(([key]) => key !== "x-match" && (withX || !key.startsWith("x-")))
    .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  const values = Object.entries(data ?? {}).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  let all = true;
  let any = false;
  let i = 0;
  let j = 0;
  while (i < pattern.length) {
    const [patternKey, patternValue] = pattern[i]!;
    const dataEntry = values[j];
    if (dataEntry === undefined || patternKey < dataEntry[0]) {
      all = false;
      i++;
    } else if (patternKey > dataEntry[0]) {
      j++;
    } else {
      const expected = canonical(patternValue);
      if (expected === null || expected === canonical(dataEntry[1])) any = true;
      else all = false;
      i++;
      j++;
    }
  }
  return mode.startsWith("all") ? all : any;
}

describe("HeadersRouter agrees with a merge-style reference matcher", () => {
  it("for random binding arguments and header tables", () => {
    fc.assert(
      fc.property(
        fc.array(bindingArgs, { minLength: 1, maxLength: 6 }),
        fc.array(headers, { maxLength: 8 }),
        (bindings, messages) => {
          const router = new HeadersRouter<number>();
          bindings.forEach((args, destination) => {
            router.bind(destination, "", args);
          });
          for (const message of messages) {
            const out = new Set<number>();
            router.route("", message, out);
            const expected = bindings.flatMap((args, destination) =>
              referenceMatch(args, message) ? [destination] : [],
            );
            expect([...out].sort((x, y) => x - y)).toEqual(expected);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
