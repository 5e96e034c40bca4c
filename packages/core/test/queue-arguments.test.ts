// Queue argument validation, settings and re-declare equivalence. The expected texts are what a
// RabbitMQ 3.10 broker answered to the same declarations (observed with amqplib, which sends small
// integers as 'byte'); the ones we cannot reproduce are listed in packages/core/README.md.
import { describe, expect, it } from "vitest";
import { CoreError } from "../src/errors.js";
import {
  assertQueueArgumentsEquivalent,
  fieldTypeName,
  isOverLimit,
  MAX_EXPIRY_MS,
  type QueueFlags,
  queueSettings,
  validateQueueDeclaration,
} from "../src/queue-arguments.js";

const classicFlags: QueueFlags = { durable: false, exclusive: false, autoDelete: false, serverNamed: false };
const quorumFlags: QueueFlags = { durable: true, exclusive: false, autoDelete: false, serverNamed: false };

function problem(args: Record<string, unknown>, flags: QueueFlags = classicFlags): string | undefined {
  try {
    validateQueueDeclaration("q", "/", args, flags);
  } catch (error) {
    expect(error).toBeInstanceOf(CoreError);
    expect((error as CoreError).code).toBe("CORE_PRECONDITION_FAILED");
    return (error as Error).message;
  }
  return undefined;
}

const invalid = (key: string, reason: string) => `invalid arg '${key}' for queue 'q' in vhost '/': ${reason}`;

describe("validateQueueDeclaration: values (RabbitMQ 3.10 texts)", () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ["negative max-length", { "x-max-length": -1 }, invalid("x-max-length", "{value_negative,-1}")],
    [
      "string max-length",
      { "x-max-length": "abc" },
      invalid("x-max-length", '"expected integer, got longstr"'),
    ],
    [
      "fractional max-length",
      { "x-max-length": 1.5 },
      invalid("x-max-length", '"expected integer, got double"'),
    ],
    [
      "negative max-length-bytes",
      { "x-max-length-bytes": -1 },
      invalid("x-max-length-bytes", "{value_negative,-1}"),
    ],
    ["negative ttl", { "x-message-ttl": -1 }, invalid("x-message-ttl", "{value_negative,-1}")],
    ["string ttl", { "x-message-ttl": "1000" }, invalid("x-message-ttl", '"expected integer, got longstr"')],
    [
      "ttl over ten years",
      { "x-message-ttl": MAX_EXPIRY_MS + 1 },
      invalid("x-message-ttl", `{value_too_large,${MAX_EXPIRY_MS + 1}}`),
    ],
    ["zero expires", { "x-expires": 0 }, invalid("x-expires", "{value_zero,0}")],
    ["negative expires", { "x-expires": -5 }, invalid("x-expires", "{value_negative,-5}")],
    ["expires 2^40", { "x-expires": 2 ** 40 }, invalid("x-expires", "{value_too_large,1099511627776}")],
    ["unknown overflow", { "x-overflow": "drop-tail" }, invalid("x-overflow", "invalid_overflow")],
    ["numeric overflow", { "x-overflow": 1 }, invalid("x-overflow", "{unacceptable_type,byte}")],
    ["max-priority 256", { "x-max-priority": 256 }, invalid("x-max-priority", "{max_value_exceeded,256}")],
    ["max-priority -1", { "x-max-priority": -1 }, invalid("x-max-priority", "{value_negative,-1}")],
    [
      "max-priority bool",
      { "x-max-priority": true },
      invalid("x-max-priority", '"expected integer, got bool"'),
    ],
    [
      "dlrk without dlx",
      { "x-dead-letter-routing-key": "k" },
      invalid("x-dead-letter-routing-key", "routing_key_but_no_dlx_defined"),
    ],
    [
      "numeric dlrk",
      { "x-dead-letter-exchange": "x", "x-dead-letter-routing-key": 5 },
      invalid("x-dead-letter-routing-key", "{unacceptable_type,byte}"),
    ],
    [
      "string sac",
      { "x-single-active-consumer": "true" },
      invalid("x-single-active-consumer", "{unacceptable_type,longstr}"),
    ],
    [
      "unknown queue type",
      { "x-queue-type": "fancy" },
      invalid("x-queue-type", `"unsupported queue type 'fancy'"`),
    ],
    [
      "stream queue type",
      { "x-queue-type": "stream" },
      invalid("x-queue-type", `"unsupported queue type 'stream'"`),
    ],
    ["numeric queue type", { "x-queue-type": 1 }, invalid("x-queue-type", "{unacceptable_type,byte}")],
    [
      "unknown queue mode",
      { "x-queue-mode": "fast" },
      invalid("x-queue-mode", `"unsupported queue mode 'fast'"`),
    ],
    ["numeric queue mode", { "x-queue-mode": 5 }, invalid("x-queue-mode", "{unacceptable_type,byte}")],
  ];
  it.each(cases)("%s", (_name, args, expected) => {
    expect(problem(args)).toBe(expected);
  });

  it("names the type of a non-string dead-letter exchange in RabbitMQ's other wording", () => {
    expect(problem({ "x-dead-letter-exchange": 5 })).toBe(
      "invalid type 'byte' for arg 'x-dead-letter-exchange' in queue 'q' in vhost '/'",
    );
  });

  it("checks values in RabbitMQ's fixed order, not the table's", () => {
    expect(problem({ "x-max-length": -1, "x-message-ttl": -1 })).toBe(
      invalid("x-message-ttl", "{value_negative,-1}"),
    );
  });

  it("accepts the boundaries and every documented value", () => {
    const ok: Record<string, unknown>[] = [
      { "x-max-length": 0 },
      { "x-message-ttl": 0 },
      { "x-message-ttl": MAX_EXPIRY_MS, "x-expires": MAX_EXPIRY_MS },
      { "x-max-priority": 0 },
      { "x-max-priority": 255 },
      { "x-overflow": "drop-head" },
      { "x-overflow": "reject-publish" },
      { "x-overflow": "reject-publish-dlx" },
      { "x-queue-mode": "lazy" },
      { "x-queue-mode": "default" },
      { "x-queue-type": "classic" },
      { "x-dead-letter-exchange": "" },
      { "x-dead-letter-exchange": "does-not-exist-yet", "x-dead-letter-routing-key": "rk" },
      { "x-single-active-consumer": false },
      { "x-foo": "bar", "x-anything": [1, 2] },
      { "x-max-length": 2n ** 60n },
    ];
    for (const args of ok)
      expect(
        problem(args),
        JSON.stringify(args, (_k, v) => (typeof v === "bigint" ? String(v) : v)),
      ).toBeUndefined();
  });
});

describe("validateQueueDeclaration: queue types", () => {
  const typeRefusal = (key: string, type: string) =>
    `invalid arg '${key}' for queue 'q' in vhost '/' of queue type rabbit_${type}_queue`;

  it("refuses quorum-only arguments on classic queues, after the value checks", () => {
    expect(problem({ "x-delivery-limit": 5 })).toBe(typeRefusal("x-delivery-limit", "classic"));
    expect(problem({ "x-dead-letter-strategy": "at-most-once" })).toBe(
      typeRefusal("x-dead-letter-strategy", "classic"),
    );
    expect(problem({ "x-max-in-memory-length": 5 })).toBe(typeRefusal("x-max-in-memory-length", "classic"));
    expect(problem({ "x-max-age": "1D" })).toBe(typeRefusal("x-max-age", "classic"));
    expect(problem({ "x-max-length": -1, "x-delivery-limit": 3 })).toBe(
      invalid("x-max-length", "{value_negative,-1}"),
    );
  });

  it("refuses classic-only arguments on quorum queues before checking their values", () => {
    const quorum = { "x-queue-type": "quorum" };
    expect(problem({ ...quorum, "x-max-priority": 5 }, quorumFlags)).toBe(
      typeRefusal("x-max-priority", "quorum"),
    );
    expect(problem({ ...quorum, "x-max-priority": -3 }, quorumFlags)).toBe(
      typeRefusal("x-max-priority", "quorum"),
    );
    expect(problem({ ...quorum, "x-queue-mode": "lazy" }, quorumFlags)).toBe(
      typeRefusal("x-queue-mode", "quorum"),
    );
    expect(problem({ ...quorum, "x-queue-master-locator": "min-masters" }, quorumFlags)).toBe(
      typeRefusal("x-queue-master-locator", "quorum"),
    );
  });

  it("refuses auto-delete, exclusive and non-durable quorum queues, in that order, after the values", () => {
    const quorum = { "x-queue-type": "quorum" };
    const property = (name: string) => `invalid property '${name}' for queue 'q' in vhost '/'`;
    expect(problem(quorum, { ...quorumFlags, durable: false })).toBe(property("non-durable"));
    expect(problem(quorum, { ...quorumFlags, exclusive: true, durable: false })).toBe(
      property("exclusive-owner"),
    );
    expect(problem(quorum, { ...quorumFlags, exclusive: true, autoDelete: true })).toBe(
      property("auto-delete"),
    );
    expect(problem({ ...quorum, "x-max-length": -1 }, { ...quorumFlags, exclusive: true })).toBe(
      invalid("x-max-length", "{value_negative,-1}"),
    );
    expect(problem({ ...quorum, "x-max-priority": 3 }, { ...quorumFlags, durable: false })).toBe(
      typeRefusal("x-max-priority", "quorum"),
    );
  });

  it("refuses a server-named quorum queue", () => {
    expect(problem({ "x-queue-type": "quorum" }, { ...quorumFlags, serverNamed: true })).toBe(
      "Cannot declare a server-named queue for type rabbit_quorum_queue",
    );
  });

  it("accepts quorum arguments, with x-delivery-limit unchecked as in RabbitMQ 3.10", () => {
    const quorum = { "x-queue-type": "quorum" };
    for (const extra of [
      { "x-delivery-limit": 3 },
      { "x-delivery-limit": -1 },
      { "x-delivery-limit": "a" },
      { "x-overflow": "reject-publish" },
      { "x-message-ttl": 1000, "x-expires": 1000 },
      { "x-single-active-consumer": true },
      { "x-quorum-initial-group-size": 3 },
      { "x-dead-letter-strategy": "at-least-once" },
    ]) {
      expect(problem({ ...quorum, ...extra }, quorumFlags), JSON.stringify(extra)).toBeUndefined();
    }
    expect(problem({ ...quorum, "x-quorum-initial-group-size": 0 }, quorumFlags)).toBe(
      invalid("x-quorum-initial-group-size", "{value_zero,0}"),
    );
    expect(problem({ ...quorum, "x-dead-letter-strategy": "bogus" }, quorumFlags)).toBe(
      invalid("x-dead-letter-strategy", "invalid_dlx_strategy"),
    );
  });
});

describe("queueSettings", () => {
  it("reads every argument", () => {
    expect(
      queueSettings({
        "x-message-ttl": 100,
        "x-expires": 200,
        "x-max-length": 3,
        "x-max-length-bytes": 1000,
        "x-overflow": "reject-publish",
        "x-dead-letter-exchange": "dlx",
        "x-dead-letter-routing-key": "dead",
        "x-max-priority": 10,
        "x-single-active-consumer": true,
        "x-queue-mode": "lazy",
      }),
    ).toEqual({
      type: "classic",
      messageTtlMs: 100,
      expiresMs: 200,
      maxLength: 3,
      maxLengthBytes: 1000,
      overflow: "reject-publish",
      deadLetterExchange: "dlx",
      deadLetterRoutingKey: "dead",
      maxPriority: 10,
      singleActiveConsumer: true,
      deliveryLimit: undefined,
      lazy: true,
    });
  });

  it("defaults to an unlimited classic drop-head queue and honours x-delivery-limit only on quorum queues", () => {
    const plain = queueSettings({ "x-foo": 1 });
    expect(plain).toMatchObject({
      type: "classic",
      overflow: "drop-head",
      maxLength: undefined,
      deliveryLimit: undefined,
    });
    expect(queueSettings({ "x-queue-type": "quorum", "x-delivery-limit": 2 }).deliveryLimit).toBe(2);
    expect(queueSettings({ "x-queue-type": "quorum", "x-delivery-limit": -1 }).deliveryLimit).toBeUndefined();
    expect(
      queueSettings({ "x-queue-type": "quorum", "x-delivery-limit": "a" }).deliveryLimit,
    ).toBeUndefined();
  });

  it("isOverLimit compares counts and body bytes", () => {
    const settings = queueSettings({ "x-max-length": 2, "x-max-length-bytes": 10 });
    expect(isOverLimit(settings, 2, 10)).toBe(false);
    expect(isOverLimit(settings, 3, 0)).toBe(true);
    expect(isOverLimit(settings, 1, 11)).toBe(true);
    expect(isOverLimit(queueSettings({}), 1e9, 1e12)).toBe(false);
  });
});

describe("assertQueueArgumentsEquivalent", () => {
  const check = (received: Record<string, unknown>, current: Record<string, unknown>) => {
    try {
      assertQueueArgumentsEquivalent("q", "/", received, current);
      return undefined;
    } catch (error) {
      return (error as Error).message;
    }
  };
  const prefix = (key: string) => `inequivalent arg '${key}' for queue 'q' in vhost '/'`;

  it("ignores unknown arguments, as RabbitMQ does", () => {
    expect(check({ "x-max-length": 5, "x-foo": 2 }, { "x-max-length": 5, "x-foo": 1 })).toBeUndefined();
    expect(check({ "x-max-length": 5 }, { "x-max-length": 5, "x-foo": 1 })).toBeUndefined();
  });

  it("words each kind of difference as RabbitMQ does", () => {
    expect(check({}, { "x-max-length": 5 })).toBe(
      `${prefix("x-max-length")}: received none but current is the value '5' of type 'byte'`,
    );
    expect(check({ "x-max-length": 6 }, { "x-max-length": 5 })).toBe(
      `${prefix("x-max-length")}: received '6' but current is '5'`,
    );
    expect(check({ "x-message-ttl": 100 }, {})).toBe(
      `${prefix("x-message-ttl")}: received the value '100' of type 'byte' but current is none`,
    );
    expect(check({ "x-dead-letter-exchange": "abc" }, {})).toBe(
      `${prefix("x-dead-letter-exchange")}: received the value 'abc' of type 'longstr' but current is none`,
    );
    expect(check({ "x-single-active-consumer": false }, {})).toBe(
      `${prefix("x-single-active-consumer")}: received the value 'false' of type 'bool' but current is none`,
    );
  });

  it("treats numbers of any width as equal by value, and a missing x-queue-type as classic", () => {
    expect(check({ "x-max-length": 5n }, { "x-max-length": 5 })).toBeUndefined();
    expect(check({ "x-queue-type": "classic" }, {})).toBeUndefined();
    expect(check({}, { "x-queue-type": "classic" })).toBeUndefined();
    expect(check({}, { "x-queue-type": "quorum" })).toBe(
      `${prefix("x-queue-type")}: received none but current is the value 'quorum' of type 'longstr'`,
    );
    expect(check({ "x-queue-type": "classic" }, { "x-queue-type": "quorum" })).toBe(
      `${prefix("x-queue-type")}: received 'classic' but current is 'quorum'`,
    );
  });
});

describe("fieldTypeName", () => {
  it("names plain values by the AMQP type RabbitMQ would report", () => {
    expect(
      [1, 200, 70000, 2 ** 40, 1.5, "s", true, 5n, null, Buffer.alloc(1), [1], { a: 1 }].map(fieldTypeName),
    ).toEqual([
      "byte",
      "short",
      "signedint",
      "long",
      "double",
      "longstr",
      "bool",
      "long",
      "void",
      "binary",
      "array",
      "table",
    ]);
  });
});
