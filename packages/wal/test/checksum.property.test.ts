import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { crc32Implementation, nativeCrc32, recordChecksum, zlibCrc32 } from "../src/checksum.js";

// Segments written with one implementation are read back with the other on another platform or Node:
// they must be the same function, chunked or not, from any byte offset.
describe("record checksum implementations", () => {
  const native = nativeCrc32();
  const fromZlib = zlibCrc32();

  it("uses the native CRC where its prebuilt binary exists (linux-x64 here)", () => {
    if (process.platform === "linux" && process.arch === "x64") {
      expect(native).toBeTypeOf("function");
      expect(crc32Implementation).toBe("@node-rs/crc32");
    } else {
      expect(crc32Implementation).toBe(native === undefined ? "zlib" : "@node-rs/crc32");
    }
  });

  it("computes zlib's CRC-32: the standard check value and random data, whole or in parts", () => {
    expect(native).toBeTypeOf("function");
    expect(fromZlib).toBeTypeOf("function");
    const check = Buffer.from("123456789");
    expect(native!(check, 0)).toBe(0xcbf43926);
    expect(fromZlib!(check, 0)).toBe(0xcbf43926);
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 5000 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.nat(),
        (bytes, seed, cutAt) => {
          const data = Buffer.from(bytes);
          const cut = data.length === 0 ? 0 : cutAt % data.length;
          const whole = fromZlib!(data, seed);
          expect(native!(data, seed)).toBe(whole);
          const chained = native!(data.subarray(cut), native!(data.subarray(0, cut), seed));
          expect(chained).toBe(whole);
        },
      ),
    );
  });

  it("sums a payload given in parts as if it were one buffer", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 255 }),
        fc.array(fc.uint8Array({ minLength: 0, maxLength: 600 }), { maxLength: 6 }),
        (type, parts) => {
          const whole = Buffer.concat(parts);
          expect(recordChecksum(type, parts)).toBe(recordChecksum(type, whole));
          expect(recordChecksum(type, whole)).toBe(fromZlib!(whole, fromZlib!(Uint8Array.of(type), 0)));
        },
      ),
    );
  });
});
