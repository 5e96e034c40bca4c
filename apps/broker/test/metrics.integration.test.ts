import { startBroker } from "@leveret/testkit";
import { describe, expect, it, vi } from "vitest";
import { connect, delay, openChannel } from "./support/amqp.js";

describe("Prometheus metrics", () => {
  it("serves connections, queue depths and store figures on GET /metrics", async () => {
    const broker = await startBroker({ args: ["--metrics-port", "0"] });
    const url = await vi.waitFor(() => {
      const match = /metrics on (http:\/\/\S+\/metrics)/.exec(broker.output());
      if (!match) throw new Error("no metrics line yet");
      return match[1] as string;
    });
    const connection = await connect(broker.url);
    const channel = await openChannel(connection);
    await channel.assertQueue("metered", { durable: true });
    for (let i = 0; i < 3; i++) channel.sendToQueue("metered", Buffer.from("m"), { persistent: true });
    await delay(100);
    const text = await (await fetch(url)).text();
    expect(text).toMatch(/^leveret_connections 1$/m);
    expect(text).toMatch(/^leveret_queue_messages_ready\{vhost="\/",queue="metered"\} 3$/m);
    expect(text).toMatch(/^leveret_store_corrupt_records_skipped 0$/m);
    expect(Number(/^leveret_store_disk_bytes (\d+)$/m.exec(text)?.[1])).toBeGreaterThan(100);
    expect((await fetch(url.replace("/metrics", "/other"))).status).toBe(404);
    await connection.close();
    // a scraper's keep-alive connection must not hold up shutdown
    expect(await broker.stop()).toBe(0);
  });
});
