import { makeTempDir, removeTempDir, startBroker } from "@leveret/testkit";
import { describe, expect, it } from "vitest";
import { connect } from "./support/amqp.js";

describe("restart after SIGKILL", () => {
  it("keeps all 1,000 confirmed persistent messages, each once, byte-identical; only those delivered before come back redelivered", async () => {
    const dataDir = await makeTempDir("leveret-restart-");
    let broker = await startBroker({ dataDir });
    const bodies = Array.from({ length: 1000 }, (_, i) => Buffer.from(`message-${i}-${"x".repeat(i % 97)}`));
    const connection = await connect(broker.url);
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue("restart-q", { durable: true });
    await Promise.all(
      bodies.map(
        (body) =>
          new Promise<void>((resolve, reject) =>
            channel.sendToQueue("restart-q", body, { persistent: true }, (error) => (error ? reject(error) : resolve())),
          ),
      ),
    );
    // The first 10 are handed out and never acked; a confirmed publish afterwards makes the record of
    // those deliveries durable with it (nobody waits for that record on its own).
    const early = await connection.createChannel();
    for (let i = 0; i < 10; i++) expect(await early.get("restart-q", { noAck: false })).not.toBe(false);
    await channel.assertQueue("restart-marker", { durable: true });
    await new Promise<void>((resolve, reject) =>
      channel.sendToQueue("restart-marker", Buffer.from("m"), { persistent: true }, (error) => (error ? reject(error) : resolve())),
    );
    await broker.kill();
    connection.on("close", () => {});
    broker = await broker.restart();
    const reader = await connect(broker.url);
    const readChannel = await reader.createChannel();
    const received: Buffer[] = [];
    const redelivered: boolean[] = [];
    for (;;) {
      const message = await readChannel.get("restart-q", { noAck: true });
      if (!message) break;
      redelivered.push(message.fields.redelivered);
      received.push(message.content);
    }
    expect(redelivered).toEqual(bodies.map((_, i) => i < 10));
    expect(received).toHaveLength(1000);
    expect(received.map((b) => b.toString())).toEqual(bodies.map((b) => b.toString()));
    await reader.close();
    await broker.stop();
    await removeTempDir(dataDir);
  });

  it("keeps durable exchanges, queues and bindings; drops transient ones", async () => {
    const dataDir = await makeTempDir("leveret-defs-");
    let broker = await startBroker({ dataDir });
    const connection = await connect(broker.url);
    const channel = await connection.createChannel();
    await channel.assertExchange("durable-x", "topic", { durable: true });
    await channel.assertExchange("transient-x", "fanout", { durable: false });
    await channel.assertQueue("durable-q", { durable: true });
    await channel.assertQueue("transient-q", { durable: false });
    await channel.bindQueue("durable-q", "durable-x", "a.#");
    channel.publish("durable-x", "a.b", Buffer.from("transient body"), { persistent: false });
    await channel.close();
    await broker.kill();
    broker = await broker.restart();
    const again = await connect(broker.url);
    const check = await again.createChannel();
    await check.checkExchange("durable-x");
    await check.checkQueue("durable-q");
    // The transient message is gone; the binding still routes.
    expect(await check.get("durable-q")).toBe(false);
    check.publish("durable-x", "a.c", Buffer.from("after restart"), { persistent: true });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const message = await check.get("durable-q", { noAck: true });
    expect((message || undefined)?.content.toString()).toBe("after restart");
    await expect(check.checkQueue("transient-q")).rejects.toThrow(/404/);
    await again.close().catch(() => {});
    await broker.stop();
    await removeTempDir(dataDir);
  });

  it("does not bring back messages that were acknowledged before the restart", async () => {
    const dataDir = await makeTempDir("leveret-acked-");
    let broker = await startBroker({ dataDir });
    const connection = await connect(broker.url);
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue("acked-q", { durable: true });
    for (let i = 0; i < 10; i++) channel.sendToQueue("acked-q", Buffer.from(String(i)), { persistent: true });
    await channel.waitForConfirms();
    for (let i = 0; i < 4; i++) {
      const message = await channel.get("acked-q");
      if (message) channel.ack(message);
    }
    await channel.close();
    await connection.close();
    await broker.stop("SIGTERM");
    broker = await broker.restart();
    const again = await connect(broker.url);
    const check = await again.createChannel();
    expect(await check.checkQueue("acked-q")).toMatchObject({ messageCount: 6 });
    const first = await check.get("acked-q", { noAck: true });
    expect((first || undefined)?.content.toString()).toBe("4");
    await again.close();
    await broker.stop();
    await removeTempDir(dataDir);
  });
});
