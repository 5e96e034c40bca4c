/**
 * One client connection: the socket, the frame parser, the negotiation state machine
 * (protocol header -> start/start-ok -> tune/tune-ok -> open/open-ok -> open), heartbeats, the
 * channels, and closing in both directions.
 *
 * Errors: a connection-scoped AmqpError (from a channel or from here) is sent as connection.close with
 * its reply code, after which only close/close-ok are read; malformed bytes (501 frame errors) close
 * the connection the same way. Nothing here can harm another connection or the stored data.
 *
 * Buffers: frames handed to channels are slices of the socket's chunk, valid only during the call;
 * channels copy what they keep.
 */
import { Buffer } from "node:buffer";
import type { Socket } from "node:net";
import type { Broker, MessageProperties, ResourceAccess, VHost } from "@leveret/core";
import { AmqpError, protocolError } from "../amqp-error.js";
import { Channel } from "../channel/channel.js";
import type { ChannelHost } from "../channel/channel-host.js";
import type { ReplyToRegistry } from "../channel/reply-to-registry.js";
import {
  type AmqpMethod,
  decodeMethod,
  encodeMethodFrame,
  FrameParser,
  FrameType,
  HEARTBEAT_FRAME,
  type MethodArgs,
  type MethodName,
  PROTOCOL_HEADER,
  replyText,
  type Frame,
} from "../codec/index.js";
import { toAmqpError } from "../error-map.js";
import { basicPropertiesCodec } from "../properties-codec.js";
import type { Authenticator } from "./authenticator.js";
import { contentFrames } from "./content-frames.js";
import { decodeCredentials, SUPPORTED_MECHANISMS } from "./sasl.js";
import { serverProperties } from "./server-properties.js";

export interface ConnectionLimits {
  frameMaxBytes: number;
  channelMax: number;
  heartbeatSeconds: number;
  maxMessageSizeBytes: number;
}

export interface ConnectionLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

type ConnectionState = "header" | "start" | "tune" | "open-wait" | "open" | "closing" | "closed";

/** Bytes buffered in the socket above which deliveries pause until 'drain'. */
const WRITE_HIGH_WATER_BYTES = 1024 * 1024;
const CLOSE_OK_TIMEOUT_MS = 3000;
const FRAME_MIN_SIZE = 4096;

export class ServerConnection implements ChannelHost {
  readonly owner = this;
  vhost!: VHost;
  access!: ResourceAccess;
  userName = "";
  frameMaxBytes: number;
  readonly maxMessageSizeBytes: number;
  writeBlocked = false;
  private state: ConnectionState = "header";
  private readonly parser: FrameParser;
  private readonly channels = new Map<number, Channel>();
  private channelMax: number;
  private heartbeatSeconds = 0;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private closeTimer: NodeJS.Timeout | undefined;
  private bytesReadSinceBeat = 0;
  private wroteSinceBeat = false;
  private silentBeats = 0;
  private corked = false;
  private flushOnTick = false;
  private flushOnImmediate = false;
  private clientProperties: Record<string, unknown> = {};
  private alarm: string | undefined;
  private sentBlocked = false;
  private readingHeld = false;
  private heldFrames: Frame[] = [];
  private lastDecodedProperties: { raw: Buffer; properties: MessageProperties } | undefined;
  /** A basic.publish was handled since reading last yielded to the event loop. */
  private publishedSinceYield = false;
  /** Reading is paused until the next check phase (see yieldAfterPublishes). */
  private yielding = false;
  /** The byte stream failed to parse: nothing more is read, whatever else resumes. */
  private readingStopped = false;

  constructor(
    private readonly socket: Socket,
    readonly broker: Broker,
    private readonly limits: ConnectionLimits,
    private readonly authenticator: Authenticator,
    private readonly version: string,
    private readonly logger: ConnectionLogger,
    private readonly onClosed: (connection: ServerConnection) => void,
    readonly replyTo: ReplyToRegistry,
  ) {
    this.frameMaxBytes = limits.frameMaxBytes;
    this.channelMax = limits.channelMax;
    this.maxMessageSizeBytes = limits.maxMessageSizeBytes;
    this.parser = new FrameParser({ frameMaxBytes: limits.frameMaxBytes, expectProtocolHeader: true });
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("drain", () => this.onDrain());
    socket.on("error", () => {}); // 'close' follows; a reset by the peer is not our error
    socket.on("close", () => this.onSocketClosed());
    socket.resume(); // accepted paused (see AmqpServer)
  }

  get remoteAddress(): string {
    return this.socket.remoteAddress ?? "";
  }

  /**
   * A resource alarm (memory or disk) began (reason) or cleared (undefined). As in RabbitMQ, clients
   * that support it are told with connection.blocked/unblocked, and a connection that publishes while
   * the alarm lasts stops being read from (TCP back-pressure holds the publisher) until it clears.
   */
  setAlarm(reason: string | undefined): void {
    if (reason === this.alarm) return;
    this.alarm = reason;
    if (reason !== undefined) {
      if (this.state === "open") this.notifyBlocked(reason);
      return;
    }
    if (this.sentBlocked && this.state === "open") this.sendMethod(0, "connection.unblocked", {});
    this.sentBlocked = false;
    if (this.readingHeld) this.releasePublisher();
  }

  private releasePublisher(): void {
    this.readingHeld = false;
    const held = this.heldFrames;
    this.heldFrames = [];
    for (let i = 0; i < held.length; i++) {
      if (this.readingHeld) {
        // Held again (a new alarm): keep the rest for the next release.
        this.heldFrames.push(...held.slice(i));
        return;
      }
      this.frameHandler(held[i] as Frame);
    }
    if (!this.readingHeld && !this.yielding && this.state !== "closed") this.socket.resume();
  }

  private notifyBlocked(reason: string): void {
    const capabilities = this.clientProperties.capabilities as Record<string, unknown> | undefined;
    if (this.sentBlocked || capabilities?.["connection.blocked"] !== true) return;
    this.sentBlocked = true;
    this.sendMethod(0, "connection.blocked", { reason });
  }

  private holdPublisher(): void {
    if (this.readingHeld) return;
    if (this.alarm !== undefined) this.notifyBlocked(this.alarm);
    this.readingHeld = true;
    this.socket.pause();
  }

  /** Server-initiated close (shutdown): 320 CONNECTION_FORCED, then wait briefly for close-ok. */
  forceClose(reason: string): void {
    this.closeConnection(protocolError(320, `broker forced connection closure with reason '${reason}'`));
  }

  // ---- ChannelHost ----

  sendMethod<K extends MethodName>(channel: number, name: K, args: MethodArgs[K]): void {
    this.write(encodeMethodFrame(channel, name, args));
  }

  sendContent<K extends MethodName>(channel: number, name: K, args: MethodArgs[K], rawProperties: Buffer, body: Buffer): void {
    const method = encodeMethodFrame(channel, name, args);
    for (const part of contentFrames(channel, method, rawProperties, body, this.frameMaxBytes)) this.write(part, false);
  }

  decodeProperties(raw: Buffer): MessageProperties {
    // Plain header values for the core's decisions; the wire bytes travel on unchanged. A publisher
    // mostly repeats the same property bytes: the last ones decoded are kept (decoded properties are
    // shared and never mutated, see @leveret/core's Message).
    const last = this.lastDecodedProperties;
    if (last !== undefined && raw.equals(last.raw)) return last.properties;
    const properties = basicPropertiesCodec.decode(raw);
    // A copy: `raw` is a view into a socket chunk that it would otherwise keep alive.
    this.lastDecodedProperties = { raw: Buffer.from(raw), properties };
    return properties;
  }

  closeConnection(error: AmqpError): void {
    if (this.state === "closing" || this.state === "closed") return;
    const wasOpen = this.state === "open";
    this.state = "closing";
    this.logger.warn(
      { remote: this.remoteAddress, replyCode: error.replyCode, reason: error.message },
      "closing connection",
    );
    this.sendMethod(0, "connection.close", {
      replyCode: error.replyCode,
      replyText: `${replyText(error.replyCode)} - ${error.message}`,
      classId: error.classId,
      methodId: error.methodId,
    });
    if (wasOpen) this.teardownChannels();
    this.closeTimer = setTimeout(() => this.socket.destroy(), CLOSE_OK_TIMEOUT_MS);
  }

  channelClosed(channel: number): void {
    this.channels.delete(channel);
  }

  // ---- inbound ----

  private onData(chunk: Buffer): void {
    if (this.state === "closed") return;
    this.bytesReadSinceBeat += chunk.length;
    try {
      this.parser.feed(chunk, this.frameHandler, this.headerHandler);
    } catch (error) {
      // Only the parser throws here (frame handlers catch their own errors): the byte stream can no
      // longer be trusted, so nothing more is read from it.
      this.readingStopped = true;
      this.socket.pause();
      if (this.state === "closing") this.socket.destroy();
      else this.failConnection(toAmqpError(error, 0, 0));
      return;
    }
    // Only while the store has a write to issue: transient publishes never wait for the disk.
    if (this.publishedSinceYield && !this.broker.store.idle) this.yieldAfterPublishes();
    this.publishedSinceYield = false;
  }

  /**
   * Node reads a busy socket several chunks in a row without returning to the event loop, and the
   * store issues its group-commit write only once the loop reaches its check phase. Reading pauses after
   * a chunk that held publishes and resumes in that check phase, after the store's write went out: the
   * disk then works on those publishes while the next chunk is parsed, and their confirms come back
   * without waiting for the whole burst (a publisher with a confirm window gets a pipeline instead of
   * stop-and-wait). The bytes not yet read stay in the socket; nothing is reordered.
   */
  private yieldAfterPublishes(): void {
    if (this.yielding || this.readingHeld) return;
    this.yielding = true;
    this.socket.pause();
    setImmediate(this.endYield);
  }

  private readonly endYield = (): void => {
    this.yielding = false;
    if (!this.readingHeld && !this.readingStopped && this.state !== "closed") this.socket.resume();
  };

  private readonly frameHandler = (frame: Frame): void => {
    if (this.readingHeld) {
      // Frames already read when the publisher was held wait with it (copied: the chunk is reused).
      this.heldFrames.push({ ...frame, payload: Buffer.from(frame.payload) });
      return;
    }
    try {
      this.onFrame(frame);
    } catch (error) {
      this.failConnection(toAmqpError(error, 0, 0));
    }
  };

  private readonly headerHandler = (header: Buffer, ok: boolean): void => this.onProtocolHeader(header, ok);

  /** An error while handling channel 0 or framing always closes the connection, whatever its code. */
  private failConnection(error: AmqpError): void {
    if (this.state === "closing" || this.state === "closed") return;
    if (this.state === "header") {
      this.socket.destroy();
      return;
    }
    this.closeConnection(
      error.scope === "connection" ? error : new AmqpError(error.replyCode, error.message, "connection", error.classId, error.methodId),
    );
  }

  private onProtocolHeader(_header: Buffer, ok: boolean): void {
    if (!ok) {
      // The spec: answer with the protocol header we do speak, then close.
      this.socket.end(PROTOCOL_HEADER);
      this.state = "closed";
      return;
    }
    this.state = "start";
    this.sendMethod(0, "connection.start", {
      versionMajor: 0,
      versionMinor: 9,
      serverProperties: serverProperties(this.version),
      mechanisms: Buffer.from(SUPPORTED_MECHANISMS.join(" ")),
      locales: Buffer.from("en_US"),
    });
  }

  private onFrame(frame: Frame): void {
    if (frame.type === FrameType.Heartbeat) return;
    if (frame.channel === 0) {
      if (frame.type !== FrameType.Method) throw protocolError(505, "content frame on channel 0");
      this.onConnectionMethod(decodeMethod(frame.payload));
      return;
    }
    if (this.state === "closing") return;
    if (this.state !== "open") throw protocolError(504, `frame on channel ${frame.channel} before connection.open`);
    this.onChannelFrame(frame);
  }

  private onChannelFrame(frame: Frame): void {
    const channel = this.channels.get(frame.channel);
    if (frame.type === FrameType.Method) {
      const method = decodeMethod(frame.payload);
      if (method.name === "basic.publish") {
        if (this.alarm !== undefined) {
          this.holdPublisher();
          this.heldFrames.push({ ...frame, payload: Buffer.from(frame.payload) });
          return;
        }
        this.publishedSinceYield = true;
      }
      if (!channel) return this.openChannel(frame.channel, method);
      return channel.handleMethod(method);
    }
    if (!channel) throw protocolError(504, `frame on unopened channel ${frame.channel}`);
    if (frame.type === FrameType.Header) {
      if (frame.payload.length < 14) throw protocolError(502, "content header frame too short");
      const bodySize = frame.payload.readUInt32BE(4) * 2 ** 32 + frame.payload.readUInt32BE(8);
      channel.handleHeader(bodySize, frame.payload.subarray(12));
    } else if (frame.type === FrameType.Body) {
      channel.handleBody(frame.payload);
    }
  }

  private openChannel(id: number, method: AmqpMethod): void {
    if (method.name !== "channel.open") {
      throw protocolError(504, `expected 'channel.open' on channel ${id}, got '${method.name}'`, method.classId, method.methodId);
    }
    if (id > this.channelMax) {
      throw protocolError(530, `channel ${id} is above the negotiated channel_max ${this.channelMax}`, 20, 10);
    }
    this.channels.set(id, new Channel(id, this));
    this.sendMethod(id, "channel.open-ok", {});
  }

  private onConnectionMethod(method: AmqpMethod): void {
    if (this.state === "closing") {
      if (method.name === "connection.close-ok") this.socket.destroy();
      else if (method.name === "connection.close") {
        this.sendMethod(0, "connection.close-ok", {});
        this.socket.end();
      }
      return;
    }
    switch (method.name) {
      case "connection.start-ok":
        return this.onStartOk(method.args);
      case "connection.tune-ok":
        return this.onTuneOk(method.args);
      case "connection.open":
        return this.onOpen(method.args);
      case "connection.close":
        this.sendMethod(0, "connection.close-ok", {});
        this.teardownChannels();
        this.state = "closing";
        this.socket.end();
        return;
      case "connection.close-ok":
        return;
      case "connection.update-secret":
        throw protocolError(540, "connection.update-secret is not implemented", method.classId, method.methodId);
      default:
        throw protocolError(503, `unexpected method ${method.name} on channel 0`, method.classId, method.methodId);
    }
  }

  private onStartOk(args: MethodArgs["connection.start-ok"]): void {
    this.expectState("start", 10, 11);
    this.clientProperties = args.clientProperties as Record<string, unknown>;
    if (!(SUPPORTED_MECHANISMS as readonly string[]).includes(args.mechanism)) {
      throw protocolError(403, `unsupported authentication mechanism '${args.mechanism}'`, 10, 11);
    }
    const { username, password } = decodeCredentials(args.mechanism, args.response);
    const result = this.authenticator.authenticate(username, password, this.remoteAddress);
    if (!result.ok) {
      this.logger.warn({ remote: this.remoteAddress, user: username, reason: result.reason }, "login refused");
      throw protocolError(
        403,
        `Login was refused using authentication mechanism ${args.mechanism}. For details see the broker logfile.`,
        10,
        11,
      );
    }
    this.userName = username;
    this.state = "tune";
    this.sendMethod(0, "connection.tune", {
      channelMax: this.limits.channelMax,
      frameMax: this.limits.frameMaxBytes,
      heartbeat: this.limits.heartbeatSeconds,
    });
  }

  private onTuneOk(args: MethodArgs["connection.tune-ok"]): void {
    this.expectState("tune", 10, 31);
    const frameMax = args.frameMax === 0 ? this.limits.frameMaxBytes : args.frameMax;
    if (frameMax < FRAME_MIN_SIZE || frameMax > this.limits.frameMaxBytes) {
      throw protocolError(530, `frame_max=${args.frameMax} outside the allowed range ${FRAME_MIN_SIZE}..${this.limits.frameMaxBytes}`, 10, 31);
    }
    const channelMax = args.channelMax === 0 ? this.limits.channelMax : args.channelMax;
    if (channelMax > this.limits.channelMax) {
      throw protocolError(530, `channel_max=${args.channelMax} above the server's ${this.limits.channelMax}`, 10, 31);
    }
    this.frameMaxBytes = frameMax;
    this.parser.frameMaxBytes = frameMax;
    this.channelMax = channelMax;
    this.heartbeatSeconds = args.heartbeat;
    this.state = "open-wait";
    this.startHeartbeats();
  }

  private onOpen(args: MethodArgs["connection.open"]): void {
    this.expectState("open-wait", 10, 40);
    try {
      // RabbitMQ's order: the vhost must exist, then the user needs permissions in it (both 530).
      this.access = this.authenticator.openVhost(this.userName, args.virtualHost);
      this.vhost = this.broker.vhost(args.virtualHost);
    } catch (error) {
      throw toAmqpError(error, 10, 40);
    }
    this.state = "open";
    this.sendMethod(0, "connection.open-ok", {});
    this.logger.info({ remote: this.remoteAddress, user: this.userName, vhost: args.virtualHost, client: this.clientProperties.product }, "connection open");
  }

  private expectState(expected: ConnectionState, classId: number, methodId: number): void {
    if (this.state !== expected) {
      throw protocolError(503, `unexpected method during connection ${this.state} phase`, classId, methodId);
    }
  }

  // ---- heartbeats and output ----

  /**
   * Heartbeats every half interval when we have sent nothing else; the peer is declared dead after two
   * full intervals without a byte from it (as the spec and RabbitMQ do).
   */
  private startHeartbeats(): void {
    if (this.heartbeatSeconds === 0) return;
    const halfMs = (this.heartbeatSeconds * 1000) / 2;
    this.heartbeatTimer = setInterval(() => {
      if (!this.wroteSinceBeat) this.write(HEARTBEAT_FRAME);
      this.wroteSinceBeat = false;
      if (this.bytesReadSinceBeat > 0) this.silentBeats = 0;
      else if (++this.silentBeats >= 4) {
        this.logger.warn({ remote: this.remoteAddress, heartbeatSeconds: this.heartbeatSeconds }, "missed heartbeats from client, closing");
        this.socket.destroy();
      }
      this.bytesReadSinceBeat = 0;
    }, halfMs);
    this.heartbeatTimer.unref();
  }

  /**
   * Writes are corked and go out together. Replies and confirms (`urgent`) leave at the end of the
   * current tick. Content alone (deliveries, returns) leaves in the check phase: when a publish in this
   * turn also delivered its message, the store issues that publish's disk write first (its setImmediate
   * was queued when the message was appended, before the delivery), so the disk is not kept waiting for
   * the socket send, and the deliveries of one turn go out in one system call.
   */
  private write(bytes: Buffer, urgent = true): void {
    if (this.state === "closed" || this.socket.destroyed) return;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
    }
    if (urgent) {
      if (!this.flushOnTick) {
        this.flushOnTick = true;
        process.nextTick(this.flush);
      }
    } else if (!this.flushOnImmediate && !this.flushOnTick) {
      this.flushOnImmediate = true;
      setImmediate(this.flushFromImmediate);
    }
    this.wroteSinceBeat = true;
    this.socket.write(bytes);
    if (this.socket.writableLength > WRITE_HIGH_WATER_BYTES) this.writeBlocked = true;
  }

  private readonly flush = (): void => {
    this.flushOnTick = false;
    if (!this.corked) return;
    this.corked = false;
    this.socket.uncork();
  };

  private readonly flushFromImmediate = (): void => {
    this.flushOnImmediate = false;
    this.flush();
  };

  private onDrain(): void {
    if (!this.writeBlocked) return;
    this.writeBlocked = false;
    for (const channel of this.channels.values()) channel.resumeDeliveries();
  }

  private teardownChannels(): void {
    for (const channel of this.channels.values()) channel.teardown();
    this.channels.clear();
    this.broker.releaseOwner(this);
  }

  private onSocketClosed(): void {
    if (this.state === "closed" && this.channels.size === 0) {
      this.finish();
      return;
    }
    this.state = "closed";
    this.teardownChannels();
    this.finish();
  }

  private finish(): void {
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.closeTimer);
    this.onClosed(this);
  }
}

export { AmqpError };
