/** Connection negotiation details: AMQPLAIN, the client's lower tune values, heartbeats both ways. */
import { encodeContentHeaderFrame, encodeFrame, encodeTable, FrameType, PROTOCOL_HEADER } from "@leveret/amqp";
import { type RunningBroker, startBroker } from "@leveret/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RawClient } from "./support/raw-client.js";

let broker: RunningBroker;

beforeAll(async () => {
  broker = await startBroker();
});

afterAll(async () => {
  await broker?.stop();
});

async function handshake(mechanism: string, response: Buffer, tune: { frameMax: number; heartbeat: number }) {
  const client = await RawClient.connect(broker.port);
  client.write(PROTOCOL_HEADER);
  const start = await client.expect("connection.start");
  client.send(0, "connection.start-ok", { clientProperties: {}, mechanism, response, locale: "en_US" });
  const proposed = await client.expect("connection.tune");
  client.send(0, "connection.tune-ok", { channelMax: 0, frameMax: tune.frameMax, heartbeat: tune.heartbeat });
  client.send(0, "connection.open", { virtualHost: "/" });
  await client.expect("connection.open-ok");
  return { client, start: start.args, proposed: proposed.args };
}

describe("connection negotiation", () => {
  it("offers PLAIN and AMQPLAIN and proposes frame_max 131072, channel_max 2047, heartbeat 60", async () => {
    const { client, start, proposed } = await handshake("PLAIN", Buffer.from("\u0000guest\u0000guest"), { frameMax: 131072, heartbeat: 0 });
    expect(start.mechanisms.toString()).toBe("PLAIN AMQPLAIN");
    expect([start.versionMajor, start.versionMinor]).toEqual([0, 9]);
    expect(proposed).toMatchObject({ frameMax: 131072, channelMax: 2047, heartbeat: 60 });
    client.destroy();
  });

  it("logs in with AMQPLAIN", async () => {
    const table = encodeTable({ LOGIN: "guest", PASSWORD: "guest" }).subarray(4); // sent without its length
    const { client } = await handshake("AMQPLAIN", table, { frameMax: 131072, heartbeat: 0 });
    client.send(1, "channel.open", {});
    await client.expect("channel.open-ok");
    client.destroy();
  });

  it("honours a lower frame_max: deliveries are split into frames that fit it", async () => {
    const { client } = await handshake("PLAIN", Buffer.from("\u0000guest\u0000guest"), { frameMax: 4096, heartbeat: 0 });
    client.send(1, "channel.open", {});
    await client.expect("channel.open-ok");
    client.send(1, "queue.declare", { queue: "", passive: false, durable: false, exclusive: true, autoDelete: false, nowait: false, arguments: {} });
    const { args } = await client.expect("queue.declare-ok");
    client.send(1, "basic.publish", { exchange: "", routingKey: args.queue, mandatory: false, immediate: false });
    client.write(encodeContentHeaderFrame(1, 60, 6000, {}));
    client.write(encodeFrame(FrameType.Body, 1, Buffer.alloc(3000, 1)));
    client.write(encodeFrame(FrameType.Body, 1, Buffer.alloc(3000, 2)));
    client.send(1, "basic.get", { queue: args.queue, noAck: true });
    await client.expect("basic.get-ok");
    let bodyBytes = 0;
    while (bodyBytes < 6000) {
      const frame = await client.nextFrame();
      if (!frame) throw new Error("socket closed");
      if (frame.type !== FrameType.Body) continue;
      expect(frame.payload.length).toBeLessThanOrEqual(4096 - 8);
      bodyBytes += frame.payload.length;
    }
    expect(bodyBytes).toBe(6000);
    client.destroy();
  });

  it("sends heartbeats at the negotiated interval and drops a silent peer", async () => {
    const { client } = await handshake("PLAIN", Buffer.from("\u0000guest\u0000guest"), { frameMax: 131072, heartbeat: 1 });
    let heartbeats = 0;
    for (;;) {
      const frame = await client.nextFrame();
      if (!frame) break; // the broker closed the silent connection
      if (frame.type === FrameType.Heartbeat) heartbeats++;
    }
    expect(heartbeats).toBeGreaterThanOrEqual(1);
    expect(client.closed).toBe(true);
  });
});
