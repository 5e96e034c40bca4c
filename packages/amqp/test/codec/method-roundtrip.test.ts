// Property tests: every method of the spec survives encode -> decode with any arguments, and the
// generated method table agrees with the spec.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeMethod,
  encodeMethodFrame,
  FRAME_END,
  FrameType,
  METHOD_INFO,
  type MethodArgs,
  type MethodName,
  methodName,
} from "../../src/codec/index.js";
import { camelCase, methodArgsArbitrary, payloadOf, specMethods, wireType } from "./arbitraries.js";

describe("method table", () => {
  it("lists exactly the spec's methods, with their ids and flags", () => {
    expect(Object.keys(METHOD_INFO).sort()).toEqual(specMethods.map((m) => m.name).sort());
    for (const { cls, method, name } of specMethods) {
      expect(METHOD_INFO[name as MethodName]).toEqual({
        classId: cls.id,
        methodId: method.id,
        hasContent: method.content === true,
        synchronous: method.synchronous === true,
      });
      expect(methodName(cls.id, method.id)).toBe(name);
    }
  });

  it("includes RabbitMQ's extensions", () => {
    for (const name of [
      "confirm.select",
      "confirm.select-ok",
      "basic.nack",
      "exchange.bind",
      "exchange.unbind-ok",
      "connection.blocked",
      "connection.unblocked",
      "connection.update-secret",
      "connection.update-secret-ok",
    ]) {
      expect(METHOD_INFO).toHaveProperty([name]);
    }
    expect(METHOD_INFO["basic.nack"]).toMatchObject({ classId: 60, methodId: 120 });
    expect(METHOD_INFO["confirm.select"]).toMatchObject({ classId: 85, methodId: 10, synchronous: true });
  });

  it("knows no method for ids the spec lacks", () => {
    expect(methodName(60, 41)).toBeUndefined();
    expect(methodName(99, 10)).toBeUndefined();
    expect(methodName(0, 0)).toBeUndefined();
  });
});

describe("every method round-trips", () => {
  for (const { cls, method, name } of specMethods) {
    it(name, () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 0xffff }), methodArgsArbitrary(method), (channel, args) => {
          const frame = encodeMethodFrame(channel, name as MethodName, args as never);
          expect(frame[0]).toBe(FrameType.Method);
          expect(frame.readUInt16BE(1)).toBe(channel);
          expect(frame.readUInt32BE(3)).toBe(frame.length - 8);
          expect(frame[frame.length - 1]).toBe(FRAME_END);
          const decoded = decodeMethod(payloadOf(frame));
          expect(decoded).toStrictEqual({ name, classId: cls.id, methodId: method.id, args });
        }),
        { numRuns: 60 },
      );
    });
  }
});

describe("optional fields", () => {
  it("reserved fields take the spec's defaults when absent", () => {
    const publish = decodeMethod(
      payloadOf(
        encodeMethodFrame(1, "basic.publish", {
          exchange: "x",
          routingKey: "k",
          mandatory: true,
          immediate: false,
        }),
      ),
    );
    expect(publish.args).toStrictEqual({
      ticket: 0,
      exchange: "x",
      routingKey: "k",
      mandatory: true,
      immediate: false,
    });

    const open = decodeMethod(payloadOf(encodeMethodFrame(0, "connection.open", { virtualHost: "/" })));
    expect(open.args).toStrictEqual({ virtualHost: "/", capabilities: "", insist: false });

    const openOk = decodeMethod(payloadOf(encodeMethodFrame(0, "connection.open-ok", {})));
    expect(openOk.args).toStrictEqual({ knownHosts: "" });

    const channelOpenOk = decodeMethod(payloadOf(encodeMethodFrame(3, "channel.open-ok", {})));
    expect(channelOpenOk.args).toStrictEqual({ channelId: Buffer.alloc(0) });

    const getEmpty = decodeMethod(payloadOf(encodeMethodFrame(3, "basic.get-empty", {})));
    expect(getEmpty.args).toStrictEqual({ clusterId: "" });
  });

  it("table fields default to an empty table", () => {
    const declare: MethodArgs["queue.declare"] = {
      queue: "q",
      passive: false,
      durable: true,
      exclusive: false,
      autoDelete: false,
      nowait: false,
    };
    const decoded = decodeMethod(payloadOf(encodeMethodFrame(1, "queue.declare", declare)));
    expect(decoded.args).toStrictEqual({ ticket: 0, ...declare, arguments: {} });
  });

  it("makes reserved and table fields optional and the rest required (checked by tsc)", () => {
    // Compiles only if these are the optional fields; required ones are all given.
    const consume: MethodArgs["basic.consume"] = {
      queue: "q",
      consumerTag: "",
      noLocal: false,
      noAck: true,
      exclusive: false,
      nowait: false,
    };
    const start: MethodArgs["connection.start"] = {
      versionMajor: 0,
      versionMinor: 9,
      mechanisms: Buffer.from("PLAIN"),
      locales: Buffer.from("en_US"),
    };
    // @ts-expect-error routing-key is not reserved, so it is required
    const publish: MethodArgs["basic.publish"] = { exchange: "", mandatory: false, immediate: false };
    // @ts-expect-error exchange.declare's auto-delete has meaning in RabbitMQ, so it is required
    const declare: MethodArgs["exchange.declare"] = {
      exchange: "x",
      type: "direct",
      passive: false,
      durable: true,
      internal: false,
      nowait: false,
    };
    expect([publish.exchange, declare.exchange]).toEqual(["", "x"]);
    expect(consume.queue).toBe("q");
    expect(start.versionMinor).toBe(9);
    for (const { method } of specMethods) {
      for (const arg of method.arguments) expect(camelCase(arg.name)).toMatch(/^[a-z][A-Za-z0-9]*$/);
      for (const arg of method.arguments) expect(wireType(arg)).toBeTruthy();
    }
  });
});
