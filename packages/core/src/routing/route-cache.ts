/**
 * A bounded least-recently-used map from routing key to the destinations it matched, for routers whose
 * match is more than a hash lookup (topic).
 *
 * Recency is a doubly linked list threaded through the entries, so a hit relinks a few pointers and
 * never mutates the Map (a delete + re-insert per hit leaves holes that V8 must periodically compact).
 * An index-based variant (slot links in Int32Arrays) measured no faster in the topic bench, so the
 * plainer form stays.
 *
 * It does not know when its answers go stale: the owner calls `clear()` on every change of bindings.
 * Clearing everything (rather than the keys a pattern could affect) keeps invalidation obviously
 * correct; binds are rare next to publishes, and a cleared cache refills at the cost of one trie walk
 * per key.
 *
 * Limits: at most `maxEntries` keys, and results larger than `maxDestinationsPerEntry` are not kept
 * (copying a huge result out of the cache costs as much as walking the trie, and it would pin memory).
 * Routing keys are shortstrs (at most 255 bytes), so memory is bounded by the two limits.
 *
 * Buffers: none.
 */
import { assert } from "../errors.js";

interface CacheEntry<D> {
  readonly routingKey: string;
  destinations: readonly D[];
  newer: CacheEntry<D> | undefined;
  older: CacheEntry<D> | undefined;
}

export class RouteCache<D> {
  private readonly byRoutingKey = new Map<string, CacheEntry<D>>();
  private newest: CacheEntry<D> | undefined = undefined;
  private oldest: CacheEntry<D> | undefined = undefined;

  constructor(
    readonly maxEntries: number,
    readonly maxDestinationsPerEntry: number,
  ) {
    assert(Number.isInteger(maxEntries) && maxEntries >= 0, `bad route cache size ${maxEntries}`);
    assert(
      Number.isInteger(maxDestinationsPerEntry) && maxDestinationsPerEntry >= 0,
      `bad route cache entry limit ${maxDestinationsPerEntry}`,
    );
  }

  get size(): number {
    return this.byRoutingKey.size;
  }

  get(routingKey: string): readonly D[] | undefined {
    const entry = this.byRoutingKey.get(routingKey);
    if (entry === undefined) return undefined;
    if (entry !== this.newest) {
      this.unlink(entry);
      this.linkNewest(entry);
    }
    return entry.destinations;
  }

  /** Whether a result of `destinationCount` would be kept; lets the caller skip copying it. */
  accepts(destinationCount: number): boolean {
    return this.maxEntries > 0 && destinationCount <= this.maxDestinationsPerEntry;
  }

  set(routingKey: string, destinations: readonly D[]): void {
    if (!this.accepts(destinations.length)) return;
    const existing = this.byRoutingKey.get(routingKey);
    if (existing !== undefined) {
      existing.destinations = destinations;
      this.unlink(existing);
      this.linkNewest(existing);
      return;
    }
    if (this.byRoutingKey.size >= this.maxEntries) {
      const oldest = this.oldest;
      assert(oldest !== undefined, "full route cache has no oldest entry");
      this.unlink(oldest);
      this.byRoutingKey.delete(oldest.routingKey);
    }
    const entry: CacheEntry<D> = { routingKey, destinations, newer: undefined, older: undefined };
    this.byRoutingKey.set(routingKey, entry);
    this.linkNewest(entry);
    assert(this.byRoutingKey.size <= this.maxEntries, "route cache grew past its limit");
  }

  clear(): void {
    this.byRoutingKey.clear();
    this.newest = undefined;
    this.oldest = undefined;
  }

  private unlink(entry: CacheEntry<D>): void {
    if (entry.newer === undefined) this.newest = entry.older;
    else entry.newer.older = entry.older;
    if (entry.older === undefined) this.oldest = entry.newer;
    else entry.older.newer = entry.newer;
    entry.newer = undefined;
    entry.older = undefined;
  }

  private linkNewest(entry: CacheEntry<D>): void {
    entry.older = this.newest;
    if (this.newest === undefined) this.oldest = entry;
    else this.newest.newer = entry;
    this.newest = entry;
  }
}
