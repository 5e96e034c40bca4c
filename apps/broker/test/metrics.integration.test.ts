import { startBroker } from "@leveret/testkit";
import { describe, expect, it, vi } from "vitest";
import { connect, delay, openChannel } from "./support/amqp.js";

async function metricsUrl(broker: { output(): string }): Promise<string> {
  return vi.waitFor(() => {
    const match = /metrics on (http:\/\/\S+\/metrics)/.exec(broker.output());
    if (!match) throw new Error("no metrics line yet");
    return match[1] as string;
  });
}

/** Publishes three persistent messages to a new durable queue, then scrapes the metrics once. */
async function publishThreeAndScrape(brokerUrl: string, url: string, queue: string) {
  const connection = await connect(brokerUrl);
  const channel = await openChannel(connection);
  await channel.assertQueue(queue, { durable: true });
  for (let i = 0; i < 3; i++) channel.sendToQueue(queue, Buffer.from("m"), { persistent: true });
  await delay(100);
  return { connection, text: await (await fetch(url)).text() };
}

function figure(text: string, name: string): number {
  const match = new RegExp(`^${name} (\\d+)$`, "m").exec(text);
  if (!match) throw new Error(`no ${name} in the metrics`);
  return Number(match[1]);
}

describe("Prometheus metrics", () => {
  it("serves connections, queue depths and store figures on GET /metrics", async () => {
    const broker = await startBroker({ args: ["--metrics-port", "0"] });
    const url = await metricsUrl(broker);
    const { connection, text } = await publishThreeAndScrape(broker.url, url, "metered");
    expect(text).toMatch(/^leveret_connections 1$/m);
    expect(text).toMatch(/^leveret_queue_messages_ready\{vhost="\/",queue="metered"\} 3$/m);
    expect(text).toMatch(/^leveret_store_corrupt_records_skipped 0$/m);
    expect(Number(/^leveret_store_disk_bytes (\d+)$/m.exec(text)?.[1])).toBeGreaterThan(100);
    // Log writes run on the event loop by default (--wal-write-mode inline); not necessarily all of
    // them, as one slow write on a busy machine sends the next ones to the thread pool for a while.
    expect(figure(text, "leveret_store_log_writes_total")).toBeGreaterThan(0);
    expect(figure(text, "leveret_store_log_inline_writes_total")).toBeGreaterThan(0);
    expect((await fetch(url.replace("/metrics", "/other"))).status).toBe(404);
    await connection.close();
    // a scraper's keep-alive connection must not hold up shutdown
    expect(await broker.stop()).toBe(0);
  });

  it("counts no inline log writes with --wal-write-mode thread-pool", async () => {
    const broker = await startBroker({ args: ["--metrics-port", "0", "--wal-write-mode", "thread-pool"] });
    const url = await metricsUrl(broker);
    const { connection, text } = await publishThreeAndScrape(broker.url, url, "pooled");
    expect(figure(text, "leveret_store_log_writes_total")).toBeGreaterThan(0);
    expect(figure(text, "leveret_store_log_inline_writes_total")).toBe(0);
    await connection.close();
    expect(await broker.stop()).toBe(0);
  });
});
