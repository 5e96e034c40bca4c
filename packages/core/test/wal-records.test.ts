/**
 * The MESSAGE record's fixed binary header (docs/storage-format.md): exact bytes, round trips, and
 * refusal of payloads whose header does not add up.
 */
import { describe, expect, it } from "vitest";
import { decodeMessageRecord, encodeMessageRecord, type MessageHeader } from "../src/wal-records.js";

function header(overrides: Partial<MessageHeader> = {}): MessageHeader {
  return { id: 7, exchange: "ex", routingKey: "rk", queues: ["q1", "q2"], propertiesLength: 3, ...overrides };
}

function roundTrip(
  h: MessageHeader,
  properties: Buffer,
  body: Buffer,
): ReturnType<typeof decodeMessageRecord> {
  return decodeMessageRecord(Buffer.concat(encodeMessageRecord(h, properties, body)));
}

describe("MESSAGE record header", () => {
  it("lays out the documented bytes", () => {
    const [prefix, properties, body] = encodeMessageRecord(header(), Buffer.from("ppp"), Buffer.from("body"));
    expect(prefix!.toString("hex")).toBe(
      [
        "22000000", // header bytes: 34
        "07000000", // id low
        "00000000", // id high
        "03000000", // properties length
        "0200",
        "6578", // "ex"
        "0200",
        "726b", // "rk"
        "0200", // two queues
        "0200",
        "7131", // "q1"
        "0200",
        "7132", // "q2"
      ].join(""),
    );
    expect(properties!.toString()).toBe("ppp");
    expect(body!.toString()).toBe("body");
  });

  it("round-trips ids beyond 32 bits, empty and non-ASCII names, empty bodies, no queues", () => {
    const cases: MessageHeader[] = [
      header({ id: 2 ** 53 - 1 }),
      header({ id: 0, exchange: "", routingKey: "", queues: [], propertiesLength: 0 }),
      header({ exchange: "échange-✓", routingKey: "a.b.#", queues: ["队列", "q".repeat(255)] }),
      header({ routingKey: "k".repeat(70_000 / 2) }),
    ];
    for (const h of cases) {
      const properties = Buffer.alloc(h.propertiesLength, 0x5a);
      const body = Buffer.from(`body of ${h.id}`);
      const decoded = roundTrip(h, properties, body);
      expect(decoded.header).toEqual(h);
      expect(decoded.rawProperties.equals(properties)).toBe(true);
      expect(decoded.body.equals(body)).toBe(true);
    }
    expect(roundTrip(header({ propertiesLength: 0 }), Buffer.alloc(0), Buffer.alloc(0)).body.length).toBe(0);
  });

  it("refuses names it could not store and ids that are not safe integers", () => {
    expect(() =>
      encodeMessageRecord(header({ routingKey: "x".repeat(0x10000) }), Buffer.alloc(3), Buffer.alloc(0)),
    ).toThrow(RangeError);
    expect(() => encodeMessageRecord(header({ id: -1 }), Buffer.alloc(3), Buffer.alloc(0))).toThrow(
      RangeError,
    );
    expect(() => encodeMessageRecord(header({ id: 2 ** 53 }), Buffer.alloc(3), Buffer.alloc(0))).toThrow(
      RangeError,
    );
  });

  it("refuses a payload cut anywhere inside its header or properties", () => {
    const whole = Buffer.concat(encodeMessageRecord(header(), Buffer.from("ppp"), Buffer.alloc(0)));
    for (let cut = 0; cut < whole.length; cut++) {
      expect(() => decodeMessageRecord(whole.subarray(0, cut)), `cut at ${cut}`).toThrow(RangeError);
    }
    expect(decodeMessageRecord(whole).header.queues).toEqual(["q1", "q2"]);
  });

  it("refuses a header whose length field disagrees with its fields", () => {
    const whole = Buffer.concat(encodeMessageRecord(header(), Buffer.from("ppp"), Buffer.from("body")));
    const longer = Buffer.from(whole);
    longer.writeUInt32LE(whole.readUInt32LE(0) + 1, 0);
    expect(() => decodeMessageRecord(longer)).toThrow(RangeError);
    const shorter = Buffer.from(whole);
    shorter.writeUInt32LE(whole.readUInt32LE(0) - 1, 0);
    expect(() => decodeMessageRecord(shorter)).toThrow(RangeError);
  });
});
