// Confirmed-publish throughput by confirm window (publisher.maxInFlight): the measurement behind the
// default window of 256. Starts a Leveret broker (or uses LEVERET_CLIENT_TEST_URL) and prints one
// line per window; never fails on a number. Run after `pnpm build`: `pnpm --filter @leveret/client bench`.
import { cpus } from "node:os";
import { startBroker } from "@leveret/testkit";
import amqplib from "amqplib";
import { connect } from "../dist/index.js";

const MESSAGES = 5000;
const BODY_BYTES = 100;

const external = process.env.LEVERET_CLIENT_TEST_URL;
const broker = external ? undefined : await startBroker();
const url = external ?? broker.url;
console.log(
  `node ${process.version}, ${cpus().length} CPUs, ${MESSAGES} persistent ${BODY_BYTES}-byte messages, durable queue, confirms`,
);
for (const window of [1, 8, 32, 256, 1024]) {
  const client = await connect(url);
  const queue = `bench-window-${process.pid}-${window}`;
  await client.declare({ queues: [{ name: queue, durable: true }] });
  const publisher = client.createPublisher({ maxInFlight: window, maxBufferedMessages: MESSAGES });
  const body = Buffer.alloc(BODY_BYTES, 1);
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: MESSAGES }, () => publisher.publish("", queue, body, { persistent: true })),
  );
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  console.log(
    `window ${String(window).padStart(4)}: ${Math.round((MESSAGES / elapsedMs) * 1000)} msg/s (${elapsedMs.toFixed(0)} ms)`,
  );
  await client.close();
  const admin = await amqplib.connect(url);
  await (await admin.createChannel()).deleteQueue(queue);
  await admin.close();
}
await broker?.stop();
