/**
 * Topic exchange routing (AMQP 0-9-1 / RabbitMQ semantics): binding keys are patterns of dot-separated
 * words where "*" matches exactly one word and "#" matches zero or more; see topic-trie.ts for the
 * precise word rules.
 *
 * Publishes consult a bounded LRU cache of routing key -> matched destinations first and walk the trie
 * on a miss. Every successful bind, unbind or unbindAll clears the cache, so an answer is never stale.
 *
 * It does not look at headers, and binding arguments play no part in routing or identity.
 *
 * Buffers: none.
 */
import { assert } from "../errors.js";
import { BindingTable } from "./binding-table.js";
import { RouteCache } from "./route-cache.js";
import type { BindingKey, Router } from "./router.js";
import { TopicTrie } from "./topic-trie.js";

export interface TopicRouterOptions {
  /**
   * Distinct routing keys whose results are cached; 0 disables the cache. The default holds the
   * bench's working set of 10,000 keys with room to spare. An entry costs about 100 bytes plus its key
   * (at most 255) and 8 per destination, so a full cache of short keys and small results is 2-3 MB;
   * it only fills that far on an exchange that really sees that many distinct keys.
   */
  routeCacheEntries?: number;
  /**
   * Results with more destinations than this are not cached: copying them out costs about as much as
   * walking the trie again, and they would dominate the cache's memory.
   */
  routeCacheMaxDestinations?: number;
}

export const DEFAULT_ROUTE_CACHE_ENTRIES = 16_384;
export const DEFAULT_ROUTE_CACHE_MAX_DESTINATIONS = 256;

export class TopicRouter<D> implements Router<D> {
  private readonly table = new BindingTable<D>();
  private readonly trie = new TopicTrie<D>();
  private readonly cache: RouteCache<D>;
  /** Reused on cache misses; route is never re-entered. */
  private readonly scratch = new Set<D>();

  constructor(options: TopicRouterOptions = {}) {
    this.cache = new RouteCache(
      options.routeCacheEntries ?? DEFAULT_ROUTE_CACHE_ENTRIES,
      options.routeCacheMaxDestinations ?? DEFAULT_ROUTE_CACHE_MAX_DESTINATIONS,
    );
  }

  get size(): number {
    return this.table.size;
  }

  /** Routing keys currently cached (for tests and metrics). */
  get cachedRoutes(): number {
    return this.cache.size;
  }

  bind(destination: D, pattern: string, args: Record<string, unknown>): boolean {
    if (!this.table.add(destination, pattern, { ...args })) return false;
    assert(this.trie.add(pattern, destination), "topic trie out of step with the binding table");
    this.cache.clear();
    return true;
  }

  unbind(destination: D, pattern: string, _args: Record<string, unknown>): boolean {
    if (!this.table.remove(destination, pattern)) return false;
    this.removeFromTrie(pattern, destination);
    this.cache.clear();
    return true;
  }

  unbindAll(destination: D): number {
    const patterns = this.table.removeAll(destination);
    for (const pattern of patterns) this.removeFromTrie(pattern, destination);
    if (patterns.length > 0) this.cache.clear();
    return patterns.length;
  }

  route(routingKey: string, _headers: Readonly<Record<string, unknown>> | undefined, out: Set<D>): void {
    const cached = this.cache.get(routingKey);
    if (cached !== undefined) {
      for (const destination of cached) out.add(destination);
      return;
    }
    const matched = this.scratch;
    matched.clear();
    this.trie.match(routingKey, matched);
    for (const destination of matched) out.add(destination);
    if (this.cache.accepts(matched.size)) this.cache.set(routingKey, [...matched]);
    matched.clear();
  }

  bindings(): IterableIterator<BindingKey<D>> {
    return this.table.entries();
  }

  hasBindingsTo(destination: D): boolean {
    return this.table.has(destination);
  }

  private removeFromTrie(pattern: string, destination: D): void {
    assert(this.trie.remove(pattern, destination), "topic trie lost a binding");
  }
}
