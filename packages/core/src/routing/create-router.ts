/**
 * Picks the router for an exchange type. It does not know about x-consistent-hash or other plugin
 * types: an exchange of a type not listed here is refused by the caller before it gets this far.
 *
 * Buffers: none.
 */
import { DirectRouter } from "./direct-router.js";
import { FanoutRouter } from "./fanout-router.js";
import { HeadersRouter } from "./headers-router.js";
import type { Router, RoutingType } from "./router.js";
import { TopicRouter, type TopicRouterOptions } from "./topic-router.js";

export interface CreateRouterOptions {
  /** Passed to TopicRouter; ignored by the other types. */
  topic?: TopicRouterOptions;
}

export function createRouter<D>(type: RoutingType, options: CreateRouterOptions = {}): Router<D> {
  switch (type) {
    case "direct":
      return new DirectRouter<D>();
    case "fanout":
      return new FanoutRouter<D>();
    case "topic":
      return new TopicRouter<D>(options.topic);
    case "headers":
      return new HeadersRouter<D>();
    default: {
      const unknownType: never = type;
      throw new TypeError(`no router for exchange type ${JSON.stringify(unknownType)}`);
    }
  }
}

/** Whether `type` names an exchange type that createRouter can build. */
export function isRoutingType(type: string): type is RoutingType {
  return type === "direct" || type === "fanout" || type === "topic" || type === "headers";
}
