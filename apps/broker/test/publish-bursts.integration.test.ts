/**
 * Bursts of persistent publishes that arrive in one client write, so the broker reads them as many
 * socket chunks in a row: it pauses reading after each chunk holding publishes (so that the store's
 * write goes out before the next chunk is parsed) and sends deliveries after that write is issued.
 * Nothing may be lost, reordered or confirmed twice across those pauses.
 */
import {
  encodeContentHeaderFrame,
  encodeFrame,
  encodeMethodFrame,
  FrameType,
} from "@leveret/amqp";
import type { RunningBroker } from "@leveret/testkit";
import type { ChannelModel } from "amqplib";
import { describe, expect, it } from "vitest";
import { collect, openChannel } from "./support/amqp.js";
import { RawClient } from "./support/raw-client.js";
import { useSharedBroker } from "./support/shared-broker.js";

let broker: RunningBroker;
let connection: ChannelModel;
useSharedBroker((shared) => {
  ({ broker, connection } = shared);
});

const BODY_BYTES = 1024;

/** `count` persistent publishes to `queue`, bodies numbered from 0, as one buffer. */
function publishBurst(queue: string, count: number): Buffer {
  const frames: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const body = Buffer.alloc(BODY_BYTES, i % 251);
    body.writeUInt32BE(i, 0);
    frames.push(
      encodeMethodFrame(1, "basic.publish", { exchange: "", routingKey: queue, mandatory: false, immediate: false }),
      encodeContentHeaderFrame(1, 60, body.length, { deliveryMode: 2 }),
      encodeFrame(FrameType.Body, 1, body),
    );
  }
  return Buffer.concat(frames);
}

/**
 * Reads methods until publishes 1..count are all confirmed; fails on a nack, on anything but the
 * expected methods, and on a confirm for a tag never published. Returns the other methods seen.
 */
async function awaitConfirms(client: RawClient, count: number): Promise<{ name: string; args: unknown }[]> {
  const confirmed = new Array<boolean>(count + 1).fill(false);
  let missing = count;
  const others: { name: string; args: unknown }[] = [];
  while (missing > 0) {
    const method = await client.nextMethod();
    if (!method) throw new Error(`socket closed with ${missing} publishes unconfirmed`);
    if (method.name !== "basic.ack") {
      if (method.name === "basic.nack") throw new Error("a publish was nacked");
      others.push(method);
      continue;
    }
    const { deliveryTag, multiple } = method.args as { deliveryTag: number; multiple: boolean };
    expect(deliveryTag).toBeGreaterThanOrEqual(1);
    expect(deliveryTag).toBeLessThanOrEqual(count);
    for (let tag = multiple ? 1 : deliveryTag; tag <= deliveryTag; tag++) {
      if (!confirmed[tag]) missing--;
      confirmed[tag] = true;
    }
  }
  return others;
}

async function openConfirmingPublisher(queue: string): Promise<RawClient> {
  const client = await RawClient.open(broker.port);
  client.send(1, "confirm.select", { nowait: false });
  await client.expect("confirm.select-ok");
  client.send(1, "queue.declare", {
    queue,
    passive: false,
    durable: true,
    exclusive: false,
    autoDelete: false,
    nowait: false,
    arguments: {},
  });
  await client.expect("queue.declare-ok");
  return client;
}

describe("bursts of persistent publishes read in many chunks", () => {
  it("confirms every publish of a 600-message burst once, in order, and stores them in order", async () => {
    const queue = "burst-confirms";
    const client = await openConfirmingPublisher(queue);
    const count = 600;
    client.write(publishBurst(queue, count)); // ~640 KB: about ten socket reads on the broker
    expect(await awaitConfirms(client, count)).toEqual([]);
    client.destroy();

    const channel = await openChannel(connection);
    const messages = await collect(channel, queue, count);
    expect(messages.map((m) => m.content.readUInt32BE(0))).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(messages.every((m) => m.properties.deliveryMode === 2)).toBe(true);
    await channel.close();
  });

  it("delivers a burst to a waiting consumer in order while confirming it", async () => {
    const queue = "burst-consumer";
    const client = await openConfirmingPublisher(queue);
    const channel = await openChannel(connection);
    const count = 400;
    const received = collect(channel, queue, count);
    client.write(publishBurst(queue, count));
    expect(await awaitConfirms(client, count)).toEqual([]);
    const messages = await received;
    expect(messages.map((m) => m.content.readUInt32BE(0))).toEqual(Array.from({ length: count }, (_, i) => i));
    for (const [i, m] of messages.entries()) {
      expect(m.content.length).toBe(BODY_BYTES);
      expect(m.content[BODY_BYTES - 1]).toBe(i % 251);
    }
    client.destroy();
    await channel.close();
  });

  it("keeps reading a connection whose every chunk holds publishes, with other traffic on it", async () => {
    const queue = "burst-mixed";
    const client = await openConfirmingPublisher(queue);
    // A synchronous method behind the publishes in the same write: it is answered only if reading
    // resumes after each pause, and it sees every publish before it.
    client.write(
      Buffer.concat([
        publishBurst(queue, 300),
        encodeMethodFrame(1, "queue.declare", {
          queue,
          passive: true,
          durable: false,
          exclusive: false,
          autoDelete: false,
          nowait: false,
          arguments: {},
        }),
      ]),
    );
    const others = await awaitConfirms(client, 300);
    const declareOk =
      others.find((m) => m.name === "queue.declare-ok") ?? (await client.expect("queue.declare-ok"));
    expect((declareOk.args as { messageCount: number }).messageCount).toBe(300);
    client.destroy();
  });
});
