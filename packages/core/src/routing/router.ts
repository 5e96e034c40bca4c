/**
 * The contract every exchange type's router fulfils: keep an exchange's bindings and answer "which
 * destinations does this message go to?".
 *
 * Routers know nothing of queues, exchanges, vhosts, durability or the wire: a destination is an opaque
 * value compared by identity (the caller uses its queue and exchange objects), and persisting bindings
 * is the caller's job. Routers never throw for user input on the publish path; bad binding arguments are
 * caught by the caller with `validateHeadersBindingArgs` before `bind`.
 *
 * Buffers: routers hold no buffers of their own. Binding arguments are shallow-copied at `bind`; header
 * tables passed to `route` are read during the call and never kept.
 */

/** One binding as the router sees it: where it leads, its routing key (or pattern) and its arguments. */
export interface BindingKey<D> {
  destination: D;
  routingKey: string;
  arguments: Record<string, unknown>;
}

export interface Router<D> {
  /**
   * Adds a binding. Returns false if an identical binding already exists (same destination and routing
   * key, and for headers also equal arguments): RabbitMQ treats a repeated queue.bind as a no-op.
   */
  bind(destination: D, routingKey: string, args: Record<string, unknown>): boolean;
  /** Removes a binding; returns false if it was not there. */
  unbind(destination: D, routingKey: string, args: Record<string, unknown>): boolean;
  /** Removes every binding to `destination` (its queue or exchange was deleted); returns how many. */
  unbindAll(destination: D): number;
  /**
   * Adds every matching destination to `out`. `out` is a Set so that a destination matched by several
   * bindings (or by several exchanges on an e2e path) is delivered once. `headers` is the message's
   * headers table, or undefined when it has none. `out` is never cleared.
   */
  route(routingKey: string, headers: Readonly<Record<string, unknown>> | undefined, out: Set<D>): void;
  /**
   * For routers whose answer depends on the routing key alone and is one lookup (direct): the
   * destinations of `routingKey` as a shared array, so that a publish costs no Set and no array of its
   * own. Bindings that change replace the array rather than mutate it; callers must not modify it or
   * keep it past the publish. Absent on routers that cannot answer this way. (Readonly by type, not
   * frozen: loops that see both frozen and plain arrays run several times slower in V8.)
   */
  lookup?(routingKey: string): readonly D[];
  /** Every binding, in no promised order. Do not bind or unbind while iterating. */
  bindings(): IterableIterator<BindingKey<D>>;
  /** Number of bindings. */
  readonly size: number;
  hasBindingsTo(destination: D): boolean;
}

/** The four exchange types of AMQP 0-9-1 that route by their own rules. */
export type RoutingType = "direct" | "fanout" | "topic" | "headers";
