/**
 * Queue arguments survive a kill -9: a durable queue's arguments come back with it and keep working
 * (priority order, TTL with dead-lettering, length limits), and a persistent message that was
 * dead-lettered into a durable queue is a stored message of its own, x-death included.
 */
import { makeTempDir, type RunningBroker, removeTempDir, startBroker } from "@leveret/testkit";
import type { ChannelModel } from "amqplib";
import { afterEach, describe, expect, it } from "vitest";
import { connect } from "./support/amqp.js";
import { drain, eventually, xDeath } from "./support/queue-helpers.js";

let broker: RunningBroker | undefined;
let dataDir: string | undefined;
const connections: ChannelModel[] = [];

async function start(): Promise<RunningBroker> {
  dataDir = await makeTempDir("leveret-qargs-");
  broker = await startBroker({ dataDir });
  return broker;
}

async function open(url: string): Promise<ChannelModel> {
  const connection = await connect(url);
  connection.on("close", () => {});
  connections.push(connection);
  return connection;
}

/** SIGKILL and start again on the same data dir. */
async function crashAndRestart(): Promise<RunningBroker> {
  if (!broker) throw new Error("no broker");
  await broker.kill();
  broker = await broker.restart();
  return broker;
}

afterEach(async () => {
  for (const connection of connections.splice(0)) await connection.close().catch(() => {});
  await broker?.stop();
  broker = undefined;
  if (dataDir) await removeTempDir(dataDir);
  dataDir = undefined;
});

describe("queue arguments across kill -9", () => {
  it("a priority queue hands out its recovered messages in priority order", async () => {
    const first = await start();
    const channel = await (await open(first.url)).createConfirmChannel();
    await channel.assertQueue("prio-durable", { durable: true, arguments: { "x-max-priority": 10 } });
    const priorities = [1, 5, undefined, 10, 3, 5, 12];
    for (const [i, priority] of priorities.entries()) {
      channel.sendToQueue("prio-durable", Buffer.from(`${i}:${priority}`), {
        persistent: true,
        ...(priority === undefined ? {} : { priority }),
      });
    }
    await channel.waitForConfirms();
    const restarted = await crashAndRestart();
    const after = await (await open(restarted.url)).createChannel();
    const bodies = (await drain(after, "prio-durable")).map((m) => m.content.toString());
    expect(bodies).toEqual(["3:10", "6:12", "1:5", "5:5", "4:3", "0:1", "2:undefined"]);
  });

  it("a dead-lettered persistent message is stored with its x-death and dies again with count 2", async () => {
    const first = await start();
    const channel = await (await open(first.url)).createConfirmChannel();
    await channel.assertQueue("dl-durable-dlq", { durable: true });
    await channel.assertQueue("dl-durable-src", {
      durable: true,
      arguments: { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": "dl-durable-dlq" },
    });
    channel.sendToQueue("dl-durable-src", Buffer.from("keep me"), {
      persistent: true,
      headers: { app: "test" },
    });
    await channel.waitForConfirms();
    const message = await channel.get("dl-durable-src");
    if (!message) throw new Error("no message");
    channel.reject(message, false);
    // A barrier: the channel handles frames in order, and a confirm means everything appended before
    // it is durable, so once this confirm is in, the dead letter is on disk.
    await channel.assertQueue("barrier", { durable: true });
    channel.sendToQueue("barrier", Buffer.from("after the reject"), { persistent: true });
    await channel.waitForConfirms();
    expect((await channel.checkQueue("dl-durable-dlq")).messageCount).toBe(1);
    const restarted = await crashAndRestart();
    const after = await (await open(restarted.url)).createConfirmChannel();
    expect((await after.checkQueue("dl-durable-src")).messageCount).toBe(0);
    const dead = await after.get("dl-durable-dlq");
    if (!dead) throw new Error("the dead letter was lost");
    expect(dead.content.toString()).toBe("keep me");
    expect(dead.properties.deliveryMode).toBe(2);
    expect(dead.properties.headers).toMatchObject({
      app: "test",
      "x-first-death-reason": "rejected",
      "x-first-death-queue": "dl-durable-src",
    });
    expect(xDeath(dead)).toEqual([
      {
        count: 1,
        reason: "rejected",
        queue: "dl-durable-src",
        time: { "!": "timestamp", value: expect.any(Number) },
        exchange: "",
        "routing-keys": ["dl-durable-src"],
      },
    ]);
    // Back to the source with its headers, rejected again: the recovered x-death is counted on.
    after.sendToQueue("dl-durable-src", dead.content, { persistent: true, headers: dead.properties.headers });
    await after.waitForConfirms();
    after.ack(dead);
    const again = await after.get("dl-durable-src");
    if (!again) throw new Error("no message");
    after.reject(again, false);
    const twice = await eventually(
      async () => after.get("dl-durable-dlq", { noAck: true }),
      "the second dead letter",
    );
    expect(xDeath(twice).map((d) => [d.queue, d.reason, d.count])).toEqual([
      ["dl-durable-src", "rejected", 2],
    ]);
  });

  it("recovered messages of a TTL queue still expire and are dead-lettered, with nobody consuming", async () => {
    const first = await start();
    const channel = await (await open(first.url)).createConfirmChannel();
    await channel.assertQueue("ttl-durable-dlq", { durable: true });
    await channel.assertQueue("ttl-durable", {
      durable: true,
      arguments: {
        "x-message-ttl": 300,
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": "ttl-durable-dlq",
      },
    });
    channel.sendToQueue("ttl-durable", Buffer.from("expires after the restart"), { persistent: true });
    await channel.waitForConfirms();
    const restarted = await crashAndRestart();
    const after = await (await open(restarted.url)).createChannel();
    const dead = await eventually(
      async () => after.get("ttl-durable-dlq", { noAck: true }),
      "the expired message",
    );
    expect(dead.content.toString()).toBe("expires after the restart");
    expect(xDeath(dead)[0]).toMatchObject({ reason: "expired", queue: "ttl-durable", count: 1 });
    expect((await after.checkQueue("ttl-durable")).messageCount).toBe(0);
  });

  it("length limits and overflow behaviour come back with the queue", async () => {
    const first = await start();
    const channel = await (await open(first.url)).createConfirmChannel();
    await channel.assertQueue("limit-durable", {
      durable: true,
      arguments: { "x-max-length": 2, "x-overflow": "reject-publish" },
    });
    for (const body of ["a", "b"])
      channel.sendToQueue("limit-durable", Buffer.from(body), { persistent: true });
    await channel.waitForConfirms();
    const restarted = await crashAndRestart();
    const after = await (await open(restarted.url)).createConfirmChannel();
    const outcome = await new Promise<string>((resolve) =>
      after.sendToQueue("limit-durable", Buffer.from("c"), { persistent: true }, (error) =>
        resolve(error ? "nack" : "ack"),
      ),
    );
    expect(outcome).toBe("nack");
    expect((await drain(after, "limit-durable")).map((m) => m.content.toString())).toEqual(["a", "b"]);
  });
});
