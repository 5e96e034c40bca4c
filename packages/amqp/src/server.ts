/**
 * The AMQP 0-9-1 listener: accepts TCP connections and gives each a ServerConnection over the shared
 * routing core. close() forces every connection closed with 320 CONNECTION_FORCED (as RabbitMQ does on
 * shutdown) and waits for them to go.
 */
import { once } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import type { Broker } from "@leveret/core";
import { ReplyToRegistry } from "./channel/reply-to-registry.js";
import { type Authenticator, StaticAuthenticator } from "./connection/authenticator.js";
import { type ConnectionLimits, type ConnectionLogger, ServerConnection } from "./connection/server-connection.js";

export interface AmqpServerOptions {
  /** The routing core; may instead be attached later with attach(), e.g. after recovery. */
  broker?: Broker;
  /** Largest frame we accept and propose in connection.tune (default 131072). */
  frameMaxBytes?: number;
  /** Highest channel number (default 2047). */
  channelMax?: number;
  /** Heartbeat interval proposed in connection.tune (default 60; 0 disables). */
  heartbeatSeconds?: number;
  /** Largest message body accepted (default 128 MiB); larger publishes get 406. */
  maxMessageSizeBytes?: number;
  authenticator?: Authenticator;
  /** Announced as the server's version. */
  version?: string;
  logger?: ConnectionLogger;
}

const SILENT_LOGGER: ConnectionLogger = { info() {}, warn() {} };

export class AmqpServer {
  private readonly server: Server;
  private readonly connections = new Set<ServerConnection>();
  private readonly limits: ConnectionLimits;
  private readonly authenticator: Authenticator;
  private broker: Broker | undefined;
  private readonly replyTo = new ReplyToRegistry();
  private alarm: string | undefined;
  /** Sockets accepted before the broker was attached; paused, so none of their bytes are lost. */
  private waiting: Socket[] = [];

  constructor(private readonly options: AmqpServerOptions) {
    this.broker = options.broker;
    this.limits = {
      frameMaxBytes: options.frameMaxBytes ?? 131072,
      channelMax: options.channelMax ?? 2047,
      heartbeatSeconds: options.heartbeatSeconds ?? 60,
      maxMessageSizeBytes: options.maxMessageSizeBytes ?? 128 * 1024 * 1024,
    };
    this.authenticator = options.authenticator ?? new StaticAuthenticator();
    this.server = createServer({ pauseOnConnect: true }, (socket) => this.accept(socket));
  }

  /**
   * Lets the listener bind its port before recovery (so a port in use fails fast) and serve once the
   * routing core is ready; connections made in between wait, paused.
   */
  attach(broker: Broker): void {
    this.broker = broker;
    const waiting = this.waiting;
    this.waiting = [];
    for (const socket of waiting) if (!socket.destroyed) this.accept(socket);
  }

  /** Starts (reason) or clears (undefined) a resource alarm on every connection, now and future. */
  setAlarm(reason: string | undefined): void {
    this.alarm = reason;
    for (const connection of this.connections) connection.setAlarm(reason);
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Resolves with the bound address (port 0 picks a free port). */
  async listen(port: number, host?: string): Promise<{ host: string; port: number }> {
    this.server.listen(port, host);
    await once(this.server, "listening");
    const address = this.server.address();
    if (address === null || typeof address === "string") throw new Error("server has no TCP address");
    return { host: address.address, port: address.port };
  }

  async close(reason = "shutdown"): Promise<void> {
    this.server.close();
    for (const socket of this.waiting) socket.destroy();
    this.waiting = [];
    for (const connection of this.connections) connection.forceClose(reason);
    const deadline = Date.now() + 5000;
    while (this.connections.size > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  private accept(socket: Socket): void {
    if (!this.broker) {
      this.waiting.push(socket);
      return;
    }
    const connection = new ServerConnection(
      socket,
      this.broker,
      this.limits,
      this.authenticator,
      this.options.version ?? "0.0.0",
      this.options.logger ?? SILENT_LOGGER,
      (closed) => this.connections.delete(closed),
      this.replyTo,
    );
    this.connections.add(connection);
    if (this.alarm !== undefined) connection.setAlarm(this.alarm);
  }
}
