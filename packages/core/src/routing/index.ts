/**
 * The public face of exchange routing inside @leveret/core: routers for the four AMQP exchange types
 * and the headers-argument check. The package's src/index.ts re-exports what it wants from here.
 */
export { type CreateRouterOptions, createRouter, isRoutingType } from "./create-router.js";
export { DirectRouter } from "./direct-router.js";
export { FanoutRouter } from "./fanout-router.js";
export {
  compileHeadersPattern,
  type HeadersPattern,
  headersMatch,
  headerTablesEqual,
  headerValuesEqual,
  MAX_HEADER_VALUE_DEPTH,
  validateHeadersBindingArgs,
  X_MATCH_MODES,
  type XMatchMode,
} from "./headers-match.js";
export { HeadersRouter } from "./headers-router.js";
export { RouteCache } from "./route-cache.js";
export type { BindingKey, Router, RoutingType } from "./router.js";
export {
  DEFAULT_ROUTE_CACHE_ENTRIES,
  DEFAULT_ROUTE_CACHE_MAX_DESTINATIONS,
  TopicRouter,
  type TopicRouterOptions,
} from "./topic-router.js";
export { splitTopicWords, TopicTrie } from "./topic-trie.js";
