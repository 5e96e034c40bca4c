/**
 * The set of (destination, routing key) bindings of one exchange, indexed by destination, with the
 * arguments each binding was made with. Direct, fanout and topic routers keep their identity and
 * book-keeping here (bind idempotency, unbindAll, hasBindingsTo, bindings()) and their own index for
 * routing next to it.
 *
 * It does not route, and it ignores arguments for identity: for these exchange types the brief of the
 * routing core makes (destination, routing key) the identity, and the arguments of the first bind are
 * the ones reported by `bindings()`.
 *
 * Buffers: none. Arguments are stored as given (the routers copy them first).
 */
import type { BindingKey } from "./router.js";

export class BindingTable<D> {
  private readonly byDestination = new Map<D, Map<string, Record<string, unknown>>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Returns false if (destination, routingKey) is already present; the stored arguments are kept. */
  add(destination: D, routingKey: string, args: Record<string, unknown>): boolean {
    let keys = this.byDestination.get(destination);
    if (keys === undefined) {
      keys = new Map();
      this.byDestination.set(destination, keys);
    } else if (keys.has(routingKey)) {
      return false;
    }
    keys.set(routingKey, args);
    this.count++;
    return true;
  }

  remove(destination: D, routingKey: string): boolean {
    const keys = this.byDestination.get(destination);
    if (keys === undefined || !keys.delete(routingKey)) return false;
    if (keys.size === 0) this.byDestination.delete(destination);
    this.count--;
    return true;
  }

  /** Removes and returns the routing keys bound to `destination` (empty if none). */
  removeAll(destination: D): string[] {
    const keys = this.byDestination.get(destination);
    if (keys === undefined) return [];
    this.byDestination.delete(destination);
    this.count -= keys.size;
    return [...keys.keys()];
  }

  has(destination: D): boolean {
    return this.byDestination.has(destination);
  }

  destinations(): IterableIterator<D> {
    return this.byDestination.keys();
  }

  *entries(): IterableIterator<BindingKey<D>> {
    for (const [destination, keys] of this.byDestination) {
      for (const [routingKey, args] of keys) yield { destination, routingKey, arguments: args };
    }
  }
}
