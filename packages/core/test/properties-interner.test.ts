// The interner behind compact backlogs: equal bytes share one unpooled copy, decoded properties are
// shared per copy, and past its bound it still copies (never hands back the caller's view).
import { describe, expect, it } from "vitest";
import { MAX_DISTINCT_VALUES, PropertiesInterner } from "../src/properties-interner.js";

describe("PropertiesInterner", () => {
  it("shares one copy of equal property bytes, never the caller's view", () => {
    const interner = new PropertiesInterner();
    const slab = Buffer.from([9, 9, 1, 2, 3, 9]);
    const a = interner.buffer(slab.subarray(2, 5));
    const b = interner.buffer(Buffer.from([1, 2, 3]));
    expect(a).toBe(b);
    expect(a.buffer).not.toBe(slab.buffer);
    slab[2] = 7;
    expect([...a]).toEqual([1, 2, 3]);
    const first = { deliveryMode: 2 };
    expect(interner.decoded(a, first)).toBe(first);
    expect(interner.decoded(b, { deliveryMode: 2 })).toBe(first);
  });

  it("copies without keeping once it holds its maximum of distinct values", () => {
    const interner = new PropertiesInterner();
    for (let i = 0; i < MAX_DISTINCT_VALUES; i++) interner.buffer(Buffer.from(`v${i}`));
    const view = Buffer.from("overflow");
    const one = interner.buffer(view);
    const two = interner.buffer(view);
    expect(one).not.toBe(two);
    expect(one.equals(view) && two.equals(view)).toBe(true);
    expect(interner.string("k")).toBe("k");
  });
});
