/**
 * Bad data on disk never stops the broker: a corrupted record inside a sealed segment is skipped (and
 * counted in the metrics), a torn tail is cut off; everything else is served, byte-identical.
 */
import { readdir, readFile, stat, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir, removeTempDir, startBroker } from "@leveret/testkit";
import { describe, expect, it, vi } from "vitest";
import { connect } from "./support/amqp.js";

const COUNT = 300;
const bodyOf = (i: number) => Buffer.from(`body-${String(i).padStart(5, "0")}-${"x".repeat(1000)}`);

async function fill(url: string): Promise<void> {
  const connection = await connect(url);
  const channel = await connection.createConfirmChannel();
  await channel.assertQueue("damaged-q", { durable: true });
  for (let i = 0; i < COUNT; i++) channel.sendToQueue("damaged-q", bodyOf(i), { persistent: true });
  await channel.waitForConfirms();
  await connection.close();
}

async function drain(url: string): Promise<number[]> {
  const connection = await connect(url);
  const channel = await connection.createChannel();
  const ids: number[] = [];
  for (;;) {
    const message = await channel.get("damaged-q", { noAck: true });
    if (!message) break;
    const id = Number(message.content.subarray(5, 10).toString());
    expect(message.content.equals(bodyOf(id))).toBe(true);
    ids.push(id);
  }
  await connection.close();
  return ids;
}

async function segmentFiles(dataDir: string): Promise<string[]> {
  const dir = join(dataDir, "messages");
  return (await readdir(dir)).filter((name) => name.endsWith(".wal")).sort().map((name) => join(dir, name));
}

async function metric(output: () => string, name: string): Promise<number> {
  const url = await vi.waitFor(() => {
    const match = /metrics on (http:\/\/\S+\/metrics)/.exec(output());
    if (!match) throw new Error("no metrics line yet");
    return match[1] as string;
  });
  const text = await (await fetch(url)).text();
  return Number(new RegExp(`^${name} (\\d+)$`, "m").exec(text)?.[1]);
}

describe("damaged data dir", () => {
  it("skips a corrupted record in a sealed segment, counts it, and serves the rest", async () => {
    const dataDir = await makeTempDir("leveret-damaged-");
    const args = ["--segment-size-bytes", String(64 * 1024), "--metrics-port", "0"];
    let broker = await startBroker({ dataDir, args });
    await fill(broker.url);
    await broker.kill();
    const files = await segmentFiles(dataDir);
    expect(files.length).toBeGreaterThan(2);
    const sealed = files[0] as string;
    const content = await readFile(sealed);
    const victim = Number(/body-(\d{5})-/.exec(content.toString("latin1", content.length >> 1))?.[1]);
    const at = content.indexOf(`body-${String(victim).padStart(5, "0")}-`) + 20;
    content[at] = (content[at] as number) ^ 0xff;
    await writeFile(sealed, content);
    broker = await broker.restart();
    expect(await metric(broker.output, "leveret_store_corrupt_records_skipped")).toBe(1);
    const ids = await drain(broker.url);
    expect(ids).toEqual([...Array(COUNT).keys()].filter((i) => i !== victim));
    expect(broker.output()).toMatch(/corrupt|crc/i);
    await broker.stop();
    await removeTempDir(dataDir);
  });

  it("cuts a torn tail off the last segment and keeps every record before it", async () => {
    const dataDir = await makeTempDir("leveret-torn-");
    let broker = await startBroker({ dataDir, args: ["--segment-size-bytes", String(64 * 1024)] });
    await fill(broker.url);
    await broker.kill();
    const files = await segmentFiles(dataDir);
    const last = files.at(-1) as string;
    const size = (await stat(last)).size;
    await truncate(last, size - 500); // tear the last record in half
    broker = await broker.restart();
    const ids = await drain(broker.url);
    expect(ids).toEqual([...Array(ids.length).keys()]);
    expect(ids.length).toBe(COUNT - 1);
    await broker.stop();
    await removeTempDir(dataDir);
  });
});
