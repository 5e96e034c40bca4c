// What the decoders do with bytes that are not a valid method: every truncation is a 502, an
// unknown method a 503, and random bytes never escape as anything but an AmqpCodecError.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  AmqpCodecError,
  CODEC_ERROR_REPLY_CODES,
  decodeBasicProperties,
  decodeContentHeader,
  decodeMethod,
  decodeTable,
  encodeMethodFrame,
  isHardError,
  type MethodName,
  ReplyCode,
  replyText,
} from "../../src/codec/index.js";
import { methodArgsArbitrary, payloadOf, spec, specMethods } from "./arbitraries.js";

function codecError(fn: () => unknown): AmqpCodecError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AmqpCodecError) return err;
    throw err;
  }
  throw new Error("expected an AmqpCodecError, nothing was thrown");
}

/** Runs a decoder on bytes: it may succeed or throw an AmqpCodecError, nothing else. */
function decodesOrRefuses(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof AmqpCodecError)) throw err;
    expect([501, 502, 503, 505]).toContain(err.replyCode);
  }
}

describe("truncated method payloads", () => {
  it("throw 502 SYNTAX_ERROR at every length, naming the method", () => {
    for (const { method, name } of specMethods) {
      fc.assert(
        fc.property(methodArgsArbitrary(method), (args) => {
          const payload = payloadOf(encodeMethodFrame(1, name as MethodName, args as never));
          for (let length = 0; length < payload.length; length++) {
            const err = codecError(() => decodeMethod(payload.subarray(0, length)));
            expect(err.replyCode).toBe(502);
            expect(err.code).toBe("AMQP_SYNTAX_ERROR");
            if (length >= 4) {
              expect(err.classId).toBe(payload.readUInt16BE(0));
              expect(err.methodId).toBe(payload.readUInt16BE(2));
              expect(err.message).toContain(name);
            }
          }
        }),
        { numRuns: 3 },
      );
    }
  });

  it("refuse trailing bytes after the arguments with 502", () => {
    const payload = payloadOf(encodeMethodFrame(1, "basic.ack", { deliveryTag: 7, multiple: false }));
    const err = codecError(() => decodeMethod(Buffer.concat([payload, Buffer.from([0])])));
    expect(err.replyCode).toBe(502);
    expect(err.message).toMatch(/trailing/);
    expect(codecError(() => decodeMethod(Buffer.from("005a000a00", "hex"))).replyCode).toBe(502);
  });
});

describe("unknown methods", () => {
  it("throw 503 COMMAND_INVALID with the class and method ids", () => {
    for (const [classId, methodId] of [
      [60, 41],
      [99, 10],
      [0, 0],
      [0xffff, 0xffff],
    ] as const) {
      const payload = Buffer.alloc(4);
      payload.writeUInt16BE(classId, 0);
      payload.writeUInt16BE(methodId, 2);
      const err = codecError(() => decodeMethod(payload));
      expect(err.replyCode).toBe(503);
      expect(err.code).toBe("AMQP_COMMAND_INVALID");
      expect([err.classId, err.methodId]).toEqual([classId, methodId]);
    }
  });

  it("are refused on encode too", () => {
    expect(codecError(() => encodeMethodFrame(1, "basic.toString" as MethodName, {} as never)).code).toBe(
      "AMQP_ENCODE_ERROR",
    );
    expect(codecError(() => encodeMethodFrame(1, "toString" as MethodName, {} as never)).code).toBe(
      "AMQP_ENCODE_ERROR",
    );
  });
});

describe("fuzzing", () => {
  const knownIds = fc.constantFrom(...specMethods.map(({ cls, method }) => [cls.id, method.id] as const));

  it("decodeMethod on random bytes throws nothing but AmqpCodecError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) =>
        decodesOrRefuses(() => decodeMethod(Buffer.from(bytes))),
      ),
      { numRuns: 2000 },
    );
  });

  it("decodeMethod on known ids followed by random bytes throws nothing but AmqpCodecError", () => {
    fc.assert(
      fc.property(knownIds, fc.uint8Array({ maxLength: 300 }), ([classId, methodId], bytes) => {
        const payload = Buffer.alloc(4 + bytes.length);
        payload.writeUInt16BE(classId, 0);
        payload.writeUInt16BE(methodId, 2);
        payload.set(bytes, 4);
        decodesOrRefuses(() => decodeMethod(payload));
      }),
      { numRuns: 3000 },
    );
  });

  it("decoding a mutated valid frame throws nothing but AmqpCodecError", () => {
    const all = specMethods.map(({ method, name }) => ({ method, name }));
    fc.assert(
      fc.property(
        fc
          .constantFrom(...all)
          .chain(({ method, name }) =>
            fc.tuple(
              fc.constant(name),
              methodArgsArbitrary(method),
              fc.nat(),
              fc.integer({ min: 0, max: 255 }),
            ),
          ),
        ([name, args, at, byte]) => {
          const payload = Buffer.from(payloadOf(encodeMethodFrame(1, name as MethodName, args as never)));
          payload[at % payload.length] = byte;
          decodesOrRefuses(() => decodeMethod(payload));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("content headers, property lists and tables on random bytes throw nothing but AmqpCodecError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const buf = Buffer.from(bytes);
        decodesOrRefuses(() => decodeContentHeader(buf));
        decodesOrRefuses(() => decodeBasicProperties(buf));
        decodesOrRefuses(() => decodeTable(buf, 0));
        const header = Buffer.concat([Buffer.from("003c00000000000000000001", "hex"), buf]);
        decodesOrRefuses(() => decodeContentHeader(header));
      }),
      { numRuns: 3000 },
    );
  });
});

describe("encode errors", () => {
  it("name the method and field and carry AMQP_ENCODE_ERROR / 541", () => {
    const cases: [MethodName, unknown][] = [
      ["basic.publish", { exchange: "x".repeat(256), routingKey: "", mandatory: false, immediate: false }],
      ["basic.publish", { exchange: 5, routingKey: "", mandatory: false, immediate: false }],
      ["basic.publish", { routingKey: "", mandatory: false, immediate: false }],
      ["connection.tune", { channelMax: 65536, frameMax: 0, heartbeat: 0 }],
      ["connection.tune", { channelMax: 0, frameMax: -1, heartbeat: 0 }],
      ["basic.ack", { deliveryTag: 2 ** 53, multiple: false }],
      ["connection.secure", { challenge: "not a buffer" }],
      ["basic.qos", { prefetchSize: 0, prefetchCount: 1.5, global: false }],
    ];
    for (const [name, args] of cases) {
      const err = codecError(() => encodeMethodFrame(1, name, args as never));
      expect(err.code).toBe("AMQP_ENCODE_ERROR");
      expect(err.replyCode).toBe(541);
      expect(err.message).toContain(name);
    }
    expect(codecError(() => encodeMethodFrame(65536, "tx.select", {})).message).toMatch(/channel/);
    expect(codecError(() => encodeMethodFrame(1, "tx.select", null as never)).code).toBe("AMQP_ENCODE_ERROR");
  });
});

describe("reply codes", () => {
  it("the codec's error codes carry the spec's reply code values", () => {
    expect(CODEC_ERROR_REPLY_CODES).toEqual({
      AMQP_FRAME_ERROR: ReplyCode.FrameError,
      AMQP_SYNTAX_ERROR: ReplyCode.SyntaxError,
      AMQP_COMMAND_INVALID: ReplyCode.CommandInvalid,
      AMQP_UNEXPECTED_FRAME: ReplyCode.UnexpectedFrame,
      AMQP_ENCODE_ERROR: ReplyCode.InternalError,
    });
  });

  it("ReplyCode, replyText and isHardError follow the spec's constants", () => {
    const framing = [
      "FRAME-METHOD",
      "FRAME-HEADER",
      "FRAME-BODY",
      "FRAME-HEARTBEAT",
      "FRAME-MIN-SIZE",
      "FRAME-END",
    ];
    const fromSpec = spec.constants.filter((c) => !framing.includes(c.name));
    expect(Object.values(ReplyCode).sort()).toEqual(fromSpec.map((c) => c.value).sort());
    for (const c of fromSpec) {
      expect(replyText(c.value)).toBe(c.name.replace(/-/g, "_"));
      expect(isHardError(c.value)).toBe(c.class === "hard-error");
    }
    expect(replyText(404)).toBe("NOT_FOUND");
    expect(replyText(999)).toBe("UNKNOWN_REPLY_CODE_999");
    expect(ReplyCode.PreconditionFailed).toBe(406);
  });
});
