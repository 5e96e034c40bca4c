import { describe, expect, it } from "vitest";
import {
  BufferFullError,
  ClientError,
  ClientErrorCode,
  ConnectFailedError,
  ConsumeFailedError,
  PublishNackedError,
  PublishReturnedError,
  PublishTimeoutError,
  TopologyError,
} from "../src/errors.js";

describe("errors", () => {
  it("carry stable codes, their class name, and the ClientError base", () => {
    const target = { exchange: "", routingKey: "jobs" };
    const cases: Array<[ClientError, string]> = [
      [new PublishNackedError(target), "CLIENT_PUBLISH_NACKED"],
      [new PublishReturnedError(target, 312, "NO_ROUTE"), "CLIENT_PUBLISH_RETURNED"],
      [new PublishTimeoutError(target, 5, true), "CLIENT_PUBLISH_TIMEOUT"],
      [new BufferFullError(3), "CLIENT_BUFFER_FULL"],
      [new ConnectFailedError(2, new Error("ECONNREFUSED")), "CLIENT_CONNECT_FAILED"],
    ];
    for (const [error, code] of cases) {
      expect(error).toBeInstanceOf(ClientError);
      expect(error).toBeInstanceOf(Error);
      expect(error.code).toBe(code);
      expect(error.name).toBe(error.constructor.name);
    }
    expect(new Set(Object.values(ClientErrorCode)).size).toBe(Object.values(ClientErrorCode).length);
  });

  it("say where the message was going and keep the server's reply code", () => {
    const returned = new PublishReturnedError({ exchange: "orders", routingKey: "eu" }, 312, "NO_ROUTE");
    expect(returned.message).toContain("exchange 'orders'");
    expect(returned.message).toContain("312 NO_ROUTE");
    const cause = Object.assign(new Error("NOT_FOUND - no queue 'x'"), { code: 404 });
    expect(new ConsumeFailedError("x", cause).replyCode).toBe(404);
    expect(new ConsumeFailedError("x", new TopologyError("queue 'x'", cause)).replyCode).toBe(404);
    expect(new ConnectFailedError(1, cause).cause).toBe(cause);
  });
});
