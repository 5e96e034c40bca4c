/**
 * A deliberately minimal AMQP client over a raw socket, built on @leveret/amqp's codec, for tests that
 * must send what well-behaved clients never send (immediate=true, frames out of order, garbage).
 */
import { once } from "node:events";
import { connect, type Socket } from "node:net";
import {
  type AmqpMethod,
  decodeMethod,
  encodeContentHeaderFrame,
  encodeFrame,
  encodeMethodFrame,
  type Frame,
  FrameParser,
  FrameType,
  type MethodArgs,
  type MethodName,
  PROTOCOL_HEADER,
} from "@leveret/amqp";

export class RawClient {
  private readonly frames: Frame[] = [];
  private waiter: (() => void) | undefined;
  private readonly parser = new FrameParser({ frameMaxBytes: 1 << 20, expectProtocolHeader: false });
  closed = false;
  raw = Buffer.alloc(0);

  private constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.raw = Buffer.concat([this.raw, chunk]);
      try {
        this.parser.feed(chunk, (frame) => this.frames.push({ ...frame, payload: Buffer.from(frame.payload) }));
      } catch {
        // not AMQP frames (e.g. a protocol header answer): the raw bytes are kept for the test
      }
      this.waiter?.();
    });
    socket.on("close", () => {
      this.closed = true;
      this.waiter?.();
    });
    socket.on("error", () => {});
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = connect(port, "127.0.0.1");
    await once(socket, "connect");
    return new RawClient(socket);
  }

  /** Connects and performs the handshake up to connection.open-ok and channel 1 open. */
  static async open(port: number): Promise<RawClient> {
    const client = await RawClient.connect(port);
    client.socket.write(PROTOCOL_HEADER);
    await client.expect("connection.start");
    client.send(0, "connection.start-ok", {
      clientProperties: { product: "raw-test" },
      mechanism: "PLAIN",
      response: Buffer.from("\u0000guest\u0000guest"),
      locale: "en_US",
    });
    const tune = await client.expect("connection.tune");
    client.send(0, "connection.tune-ok", { channelMax: tune.args.channelMax, frameMax: tune.args.frameMax, heartbeat: 0 });
    client.send(0, "connection.open", { virtualHost: "/" });
    await client.expect("connection.open-ok");
    client.send(1, "channel.open", {});
    await client.expect("channel.open-ok");
    return client;
  }

  send<K extends MethodName>(channel: number, name: K, args: MethodArgs[K]): void {
    this.socket.write(encodeMethodFrame(channel, name, args));
  }

  sendContent(channel: number, body: Buffer, properties: Record<string, unknown> = {}): void {
    this.socket.write(encodeContentHeaderFrame(channel, 60, body.length, properties));
    if (body.length > 0) this.socket.write(encodeFrame(FrameType.Body, channel, body));
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** The next frame of any type, or undefined when the socket closed. */
  async nextFrame(): Promise<Frame | undefined> {
    for (;;) {
      const frame = this.frames.shift();
      if (frame) return frame;
      if (this.closed) return undefined;
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
      this.waiter = undefined;
    }
  }

  /** The next method frame (skipping heartbeats and content), or undefined when the socket closed. */
  async nextMethod(): Promise<(AmqpMethod & { channel: number }) | undefined> {
    for (;;) {
      const frame = this.frames.shift();
      if (frame) {
        if (frame.type === FrameType.Method) return { ...decodeMethod(frame.payload), channel: frame.channel };
        continue;
      }
      if (this.closed) return undefined;
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
      this.waiter = undefined;
    }
  }

  async expect<K extends MethodName>(name: K): Promise<{ name: K; args: MethodArgs[K]; channel: number }> {
    const method = await this.nextMethod();
    if (!method || method.name !== name) {
      throw new Error(`expected ${name}, got ${method ? `${method.name} ${JSON.stringify(method.args)}` : "socket closed"}`);
    }
    return method as unknown as { name: K; args: MethodArgs[K]; channel: number };
  }

  /** Waits until the server closes the socket. */
  async closedBy(): Promise<void> {
    while (!this.closed) {
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
    }
  }

  destroy(): void {
    this.socket.destroy();
  }
}
