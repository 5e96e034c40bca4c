/**
 * Keeps one AMQP connection alive: dials the configured URLs in turn, reconnects after a loss with
 * exponential backoff and jitter, and on every new connection re-attaches the registered components
 * (topology, publishers, consumers, RPC) in registration order before announcing `connected`.
 *
 * Why not amqplib's own `recovery` option: it dials a single URL and restores only the connection,
 * not channels, consumers or unconfirmed publishes, so the SDK would still need all the
 * re-attachment below; owning the loop also gives URL fail-over and one place for the events.
 *
 * Does not touch messages or buffers; components own theirs.
 */
import { EventEmitter } from "node:events";
import amqplib, { type ChannelModel } from "amqplib";
import { backoffDelayMs } from "./backoff.js";
import { ClientClosedError, ConnectFailedError } from "./errors.js";
import { dialUrl, type NormalizedClientOptions, redactUrl, socketOptions } from "./options.js";

/** Something that lives on the connection and must be rebuilt on each new one. */
export interface Attachable {
  /** Called on every new connection, in registration order; `generation` increases by one each time. */
  attach(model: ChannelModel, generation: number): Promise<void>;
  /** Called synchronously once that connection is gone, before any reconnect attempt. */
  detach(error: Error): void;
  /** Called once if the client gives up reconnecting: pending work must fail with `error`. */
  abandon(error: Error): void;
}

export type ConnectionState = "connecting" | "connected" | "reconnecting" | "closed";

export interface ConnectedEvent {
  /** The URL connected to, password redacted. */
  url: string;
  /** 1 for the first connection, then one more per reconnect. */
  generation: number;
}

export interface ReconnectingEvent {
  /** Consecutive failed attempts so far (0 right after a loss). */
  attempt: number;
  delayMs: number;
  /** The URL the next attempt dials, password redacted. */
  url: string;
  error: Error;
}

// amqplib words a refused login this way; retrying with the same credentials cannot succeed.
const ACCESS_REFUSED = /terminated by server: 403\b/;

export class ConnectionManager extends EventEmitter {
  private model: ChannelModel | null = null;
  private generation = 0;
  private readonly components: Attachable[] = [];
  private stopped = false;
  private failure: Error | null = null;
  private connectedOnce = false;
  private failures = 0;
  private urlIndex = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly waiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  private blockedReason: string | null = null;
  private stateValue: ConnectionState = "connecting";

  constructor(private readonly options: NormalizedClientOptions) {
    super();
  }

  get state(): ConnectionState {
    return this.stateValue;
  }

  /** True while the broker has sent connection.blocked (it is short of memory or disk). */
  get blocked(): boolean {
    return this.blockedReason !== null;
  }

  get connected(): boolean {
    return this.stateValue === "connected";
  }

  /** The current connection, or null while disconnected. Components use it for one-off channels. */
  get currentModel(): ChannelModel | null {
    return this.model;
  }

  start(): void {
    setImmediate(() => void this.attempt());
  }

  /** Adds a component; attached at once when a connection is up, and after every reconnect. */
  async register(component: Attachable): Promise<void> {
    this.components.push(component);
    // While a connection is up or being set up: the attach loop works on a copy of the list, so a
    // component added meanwhile is attached here, exactly once.
    const model = this.model;
    if (model !== null) await component.attach(model, this.generation);
  }

  unregister(component: Attachable): void {
    const index = this.components.indexOf(component);
    if (index !== -1) this.components.splice(index, 1);
  }

  /** Resolves when connected (components attached); rejects once the client is closed or gave up. */
  waitForConnection(): Promise<void> {
    if (this.stateValue === "connected") return Promise.resolve();
    if (this.stopped) return Promise.reject(this.failure ?? new ClientClosedError());
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Stops reconnecting and closes the connection; components must have finished their work first. */
  async close(): Promise<void> {
    if (this.stopped && this.model === null) return;
    this.stopped = true;
    this.stateValue = "closed";
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.settleWaiters(new ClientClosedError());
    const model = this.model;
    this.model = null;
    if (model !== null) {
      model.removeAllListeners("close");
      await model.close().catch(() => undefined);
    }
  }

  private async attempt(): Promise<void> {
    this.timer = null;
    if (this.stopped) return;
    const url = this.options.urls[this.urlIndex % this.options.urls.length]!;
    let model: ChannelModel;
    try {
      model = await amqplib.connect(dialUrl(url, this.options), socketOptions(this.options));
    } catch (error) {
      this.onAttemptFailed(asError(error));
      return;
    }
    if (this.stopped) {
      await model.close().catch(() => undefined);
      return;
    }
    this.failures = 0;
    this.generation += 1;
    const generation = this.generation;
    this.model = model;
    this.bind(model);
    for (const component of [...this.components]) {
      if (this.model !== model) return;
      try {
        await component.attach(model, generation);
      } catch (error) {
        // A dead connection fails every attach; only a live one's failures are news.
        if (this.model === model) this.emitError(asError(error));
      }
    }
    if (this.model !== model) return;
    this.connectedOnce = true;
    this.stateValue = "connected";
    this.settleWaiters(null);
    this.emit("connected", { url: redactUrl(url), generation } satisfies ConnectedEvent);
  }

  private bind(model: ChannelModel): void {
    // amqplib emits 'error' before 'close' on a failed connection; 'close' carries the same error.
    model.on("error", () => undefined);
    model.on("close", (error?: Error) =>
      this.onLost(model, error ?? new Error("the broker closed the connection")),
    );
    model.on("blocked", (reason: string) => {
      this.blockedReason = reason;
      this.emit("blocked", { reason });
    });
    model.on("unblocked", () => {
      this.blockedReason = null;
      this.emit("unblocked");
    });
  }

  private onLost(model: ChannelModel, error: Error): void {
    if (this.model !== model) return;
    this.model = null;
    this.blockedReason = null;
    for (const component of [...this.components]) component.detach(error);
    if (this.stopped) return;
    this.stateValue = "reconnecting";
    this.emit("disconnected", { error });
    // Fail over: a broker that just dropped us is the least likely to take us back at once.
    this.urlIndex += 1;
    this.failures = 0;
    this.schedule(error);
  }

  private onAttemptFailed(error: Error): void {
    if (this.stopped) return;
    this.failures += 1;
    const limit = this.connectedOnce ? this.options.maxAttempts : this.options.initialAttempts;
    const refused = ACCESS_REFUSED.test(error.message);
    if (this.failures >= limit || (refused && !this.connectedOnce)) {
      this.giveUp(new ConnectFailedError(this.failures, error));
      return;
    }
    this.urlIndex += 1;
    this.schedule(error);
  }

  private schedule(error: Error): void {
    const delayMs = backoffDelayMs(this.options.backoff, this.failures + 1);
    const url = this.options.urls[this.urlIndex % this.options.urls.length]!;
    if (this.stateValue !== "connecting") this.stateValue = "reconnecting";
    this.emit("reconnecting", {
      attempt: this.failures,
      delayMs,
      url: redactUrl(url),
      error,
    } satisfies ReconnectingEvent);
    this.timer = setTimeout(() => void this.attempt(), delayMs);
  }

  private giveUp(error: Error): void {
    this.stopped = true;
    this.failure = error;
    this.stateValue = "closed";
    this.settleWaiters(error);
    for (const component of [...this.components]) component.abandon(error);
    this.emitError(error);
  }

  private settleWaiters(error: Error | null): void {
    for (const waiter of this.waiters.splice(0)) {
      if (error === null) waiter.resolve();
      else waiter.reject(error);
    }
  }

  /** Background errors go to 'error' listeners; without one they are dropped, never thrown. */
  emitError(error: Error): void {
    if (this.listenerCount("error") > 0) this.emit("error", error);
  }
}

export function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
