// Codec and frame-parser throughput, measured over the built package (run `pnpm build` first;
// `pnpm bench` at the root does). Prints figures only; nothing here passes or fails on a time.
//
//   node bench/codec.bench.mjs [secondsPerCase]
//
// Each case runs for a short warm-up, then for a fixed wall-clock budget, and reports operations
// per second. See bench/README.md for what each case measures.

import { cpus, loadavg, totalmem } from "node:os";
import {
  decodeContentHeader,
  decodeMethod,
  encodeBodyFrames,
  encodeContentHeaderFrame,
  encodeMethodFrame,
  FrameParser,
} from "../dist/codec/index.js";

const secondsPerCase = Number(process.argv[2] ?? 1);
const FRAME_MAX_BYTES = 131_072; // RabbitMQ's default frame-max
const SOCKET_READ_BYTES = 65_536; // what a busy Node socket typically hands over per 'data' event
const BODY_BYTES = 1024;

const body = Buffer.alloc(BODY_BYTES, 0x61);
const publishArgs = {
  exchange: "amq.direct",
  routingKey: "orders.created",
  mandatory: false,
  immediate: false,
};
const deliverArgs = {
  consumerTag: "amq.ctag-4f9a2c",
  deliveryTag: 1,
  redelivered: false,
  exchange: "amq.direct",
  routingKey: "orders.created",
};
const properties = { contentType: "application/json", deliveryMode: 2, messageId: "msg-000001" };

/** Runs `fn` (which does `unitsPerCall` units of work) for the time budget; returns units/s. */
function measure(fn, unitsPerCall) {
  const warmUntil = performance.now() + 200;
  while (performance.now() < warmUntil) fn();
  let calls = 0;
  const start = performance.now();
  const deadline = start + secondsPerCase * 1000;
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 64; i++) fn();
    calls += 64;
    now = performance.now();
  }
  return (calls * unitsPerCall) / ((now - start) / 1000);
}

function encodeMessage(channel, method, args) {
  return [
    encodeMethodFrame(channel, method, args),
    encodeContentHeaderFrame(channel, 60, body.length, properties),
    ...encodeBodyFrames(channel, body, FRAME_MAX_BYTES),
  ];
}

/** A stream of `messages` publishes (method + header + body frames), cut into socket-sized reads. */
function publishStream(messages, bodyBytes) {
  const big = Buffer.alloc(bodyBytes, 0x62);
  const frames = [];
  for (let i = 0; i < messages; i++) {
    frames.push(encodeMethodFrame(1, "basic.publish", publishArgs));
    frames.push(encodeContentHeaderFrame(1, 60, big.length, properties));
    frames.push(...encodeBodyFrames(1, big, FRAME_MAX_BYTES));
  }
  const stream = Buffer.concat(frames);
  const reads = [];
  for (let at = 0; at < stream.length; at += SOCKET_READ_BYTES) {
    reads.push(stream.subarray(at, at + SOCKET_READ_BYTES));
  }
  return { reads, frameCount: frames.length, bytes: stream.length };
}

function parseCase(bodyBytes, decode) {
  const messages = Math.max(16, Math.floor((4 * 1024 * 1024) / (bodyBytes + 100)));
  const { reads, frameCount, bytes } = publishStream(messages, bodyBytes);
  let seen = 0;
  const onFrame = decode
    ? (frame) => {
        seen++;
        if (frame.type === 1) decodeMethod(frame.payload);
        else if (frame.type === 2) decodeContentHeader(frame.payload);
      }
    : () => {
        seen++;
      };
  const framesPerSecond = measure(() => {
    const parser = new FrameParser({ frameMaxBytes: FRAME_MAX_BYTES, expectProtocolHeader: false });
    for (const read of reads) parser.feed(read, onFrame);
  }, frameCount);
  if (seen === 0) throw new Error("parser produced no frames");
  return { framesPerSecond, megabytesPerSecond: (framesPerSecond / frameCount) * (bytes / 1e6) };
}

const format = (n) => Math.round(n).toLocaleString("en-US");

console.log("@leveret/amqp codec benchmark");
console.log(
  `node ${process.version}, ${cpus().length} CPU(s) (${cpus()[0]?.model ?? "unknown"}), ` +
    `${Math.round(totalmem() / 2 ** 30)} GiB RAM, load average ${loadavg()[0].toFixed(1)}, ${secondsPerCase}s per case`,
);
console.log(
  `message: ${BODY_BYTES}-byte body, properties ${JSON.stringify(properties)}, frame-max ${FRAME_MAX_BYTES}`,
);
console.log("");

const encodePublish = measure(() => encodeMessage(1, "basic.publish", publishArgs), 1);
console.log(`encode basic.publish + header + 1 KB body   ${format(encodePublish)} messages/s`);
const encodeDeliver = measure(() => encodeMessage(1, "basic.deliver", deliverArgs), 1);
console.log(`encode basic.deliver + header + 1 KB body   ${format(encodeDeliver)} messages/s`);

const parseOnly = parseCase(BODY_BYTES, false);
console.log(
  `parse frames, 1 KB bodies, 64 KB reads       ${format(parseOnly.framesPerSecond)} frames/s ` +
    `(${format(parseOnly.framesPerSecond / 3)} messages/s, ${format(parseOnly.megabytesPerSecond)} MB/s)`,
);
const parseDecode = parseCase(BODY_BYTES, true);
console.log(
  `parse + decode method and header, 1 KB       ${format(parseDecode.framesPerSecond)} frames/s ` +
    `(${format(parseDecode.framesPerSecond / 3)} messages/s)`,
);
const parseLarge = parseCase(100_000, false);
console.log(
  `parse frames, 100 KB bodies, 64 KB reads     ${format(parseLarge.framesPerSecond)} frames/s ` +
    `(${format(parseLarge.megabytesPerSecond)} MB/s; bodies straddle reads and are assembled)`,
);
