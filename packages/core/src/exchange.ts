/**
 * An exchange: its declared properties and a router holding its bindings. Destinations are queues or
 * (exchange-to-exchange bindings) other exchanges; the vhost walks e2e paths.
 */
import type { Queue } from "./queue.js";
import type { Router } from "./routing/index.js";
import { createRouter } from "./routing/index.js";

export type ExchangeType = "direct" | "fanout" | "topic" | "headers";
export const EXCHANGE_TYPES: readonly string[] = ["direct", "fanout", "topic", "headers"];

export type Destination = Queue | Exchange;

export interface ExchangeOptions {
  name: string;
  vhost: string;
  type: ExchangeType;
  durable: boolean;
  autoDelete: boolean;
  internal: boolean;
  arguments: Record<string, unknown>;
}

export class Exchange {
  readonly name: string;
  readonly vhost: string;
  readonly type: ExchangeType;
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly internal: boolean;
  readonly arguments: Record<string, unknown>;
  readonly router: Router<Destination>;
  deleted = false;

  constructor(options: ExchangeOptions) {
    this.name = options.name;
    this.vhost = options.vhost;
    this.type = options.type;
    this.durable = options.durable;
    this.autoDelete = options.autoDelete;
    this.internal = options.internal;
    this.arguments = options.arguments;
    this.router = createRouter<Destination>(options.type);
  }

  /** The alternate exchange's name, if the `alternate-exchange` argument names one. */
  get alternateExchange(): string | undefined {
    const value = this.arguments["alternate-exchange"];
    return typeof value === "string" ? value : undefined;
  }
}
