import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../src/errors.js";
import { dialUrl, normalizeClientOptions, redactUrl, socketOptions } from "../src/options.js";

describe("client options", () => {
  it("accepts a URL, a list of URLs or an options object", () => {
    expect(normalizeClientOptions("amqp://h:1").urls).toEqual(["amqp://h:1"]);
    expect(normalizeClientOptions(["amqp://a", "amqps://b"]).urls).toEqual(["amqp://a", "amqps://b"]);
    const options = normalizeClientOptions({ urls: "amqp://a", reconnect: { initialAttempts: 2 } });
    expect(options.initialAttempts).toBe(2);
    expect(options.maxAttempts).toBe(Number.POSITIVE_INFINITY);
    expect(options.closeTimeoutMs).toBe(30_000);
  });

  it("refuses what cannot work", () => {
    expect(() => normalizeClientOptions([])).toThrow(InvalidArgumentError);
    expect(() => normalizeClientOptions("http://x")).toThrow(InvalidArgumentError);
    expect(() => normalizeClientOptions("not a url")).toThrow(InvalidArgumentError);
    expect(() => normalizeClientOptions({ urls: "amqp://x", heartbeatSeconds: -1 })).toThrow(
      InvalidArgumentError,
    );
    expect(() => normalizeClientOptions({ urls: "amqp://x", reconnect: { maxAttempts: 0 } })).toThrow(
      InvalidArgumentError,
    );
  });

  it("passes the heartbeat as a URL parameter, replacing one already there", () => {
    const options = normalizeClientOptions({
      urls: "amqp://u:p@h:5672/vh?heartbeat=60",
      heartbeatSeconds: 5,
    });
    const dialed = new URL(dialUrl(options.urls[0]!, options));
    expect(dialed.searchParams.get("heartbeat")).toBe("5");
    expect(dialed.pathname).toBe("/vh");
    expect(dialUrl("amqp://h", normalizeClientOptions("amqp://h"))).toBe("amqp://h");
  });

  it("sends the connection name as a client property and keeps TLS options", () => {
    const options = normalizeClientOptions({
      urls: "amqps://h",
      connectionName: "billing",
      tls: { rejectUnauthorized: false, servername: "broker.local" },
    });
    const socket = socketOptions(options);
    expect(socket.clientProperties).toEqual({ connection_name: "billing" });
    expect(socket.rejectUnauthorized).toBe(false);
    expect(socket.servername).toBe("broker.local");
    expect(socket.timeout).toBe(10_000);
  });

  it("redacts passwords", () => {
    expect(redactUrl("amqp://user:secret@host:5672/")).toBe("amqp://user:***@host:5672/");
    expect(redactUrl("amqp://host")).toBe("amqp://host");
    expect(redactUrl("::")).toBe("(unparseable URL)");
  });
});
