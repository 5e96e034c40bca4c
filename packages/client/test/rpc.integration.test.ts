import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Client, connect, PublishReturnedError, RpcTimeoutError } from "../src/index.js";
import { BrokerCleanup, type TestBroker, uniqueName, useBroker } from "./support/broker.js";

let broker: TestBroker;
let server: Client;
let caller: Client;
const cleanup = new BrokerCleanup();

beforeAll(async () => {
  broker = await useBroker();
  server = await connect({ urls: broker.url, connectionName: "rpc-server" });
  caller = await connect({ urls: broker.url, connectionName: "rpc-caller" });
});

afterAll(async () => {
  await caller?.close();
  await server?.close();
  await cleanup.run(broker.url);
  await broker?.stop();
});

describe("RPC over direct reply-to", () => {
  it("answers typed requests, each reply matched to its call", async () => {
    const queue = cleanup.queue(uniqueName("rpc-double"));
    await server.declare({ queues: [{ name: queue, durable: false }] });
    await server.serve<{ n: number }, { doubled: number }>(
      queue,
      (request) => ({ doubled: request.body.n * 2 }),
      {
        concurrency: 4,
      },
    );
    const replies = await Promise.all(
      Array.from({ length: 25 }, (_, n) => caller.rpc<{ doubled: number }>("", queue, { n })),
    );
    expect(replies.map((reply) => reply.body.doubled)).toEqual(Array.from({ length: 25 }, (_, n) => n * 2));
    expect(replies[0]!.contentType).toBe("application/json");
  });

  it("carries any codec both ways", async () => {
    const queue = cleanup.queue(uniqueName("rpc-msgpack"));
    await server.declare({ queues: [{ name: queue, durable: false }] });
    await server.serve<{ words: string[] }, string>(queue, (request) => request.body.words.join(" "), {
      replyContentType: "text/plain",
    });
    const reply = await caller.rpc<string>(
      "",
      queue,
      { words: ["direct", "reply-to"] },
      { contentType: "application/msgpack" },
    );
    expect(reply.contentType).toBe("text/plain");
    expect(reply.body).toBe("direct reply-to");
  });

  it("rejects with RpcTimeoutError when nobody answers", async () => {
    const queue = cleanup.queue(uniqueName("rpc-silent"));
    await server.declare({ queues: [{ name: queue, durable: false }] });
    const call = caller.rpc("", queue, "anyone?", { timeoutMs: 100 });
    await expect(call).rejects.toBeInstanceOf(RpcTimeoutError);
    await expect(call).rejects.toMatchObject({ code: "CLIENT_RPC_TIMEOUT", timeoutMs: 100 });
  });

  it("rejects with PublishReturnedError when no queue takes the request", async () => {
    await expect(caller.rpc("", uniqueName("rpc-nowhere"), "hello?")).rejects.toBeInstanceOf(
      PublishReturnedError,
    );
  });
});
