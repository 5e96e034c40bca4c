/**
 * Direct exchange routing: a message goes to every destination bound with exactly its routing key
 * (byte-for-byte, case-sensitive; the empty key is a key like any other).
 *
 * It does not look at headers, and binding arguments play no part in routing or identity.
 *
 * Buffers: none.
 */
import { assert } from "../errors.js";
import { BindingTable } from "./binding-table.js";
import type { BindingKey, Router } from "./router.js";

const NO_DESTINATIONS: readonly never[] = [];

export class DirectRouter<D> implements Router<D> {
  private readonly table = new BindingTable<D>();
  /** routing key -> destinations bound with it; the publish path is one Map lookup. */
  private readonly byRoutingKey = new Map<string, Set<D>>();
  /** The same, as arrays for lookup(); rebuilt for a key when its bindings change, never mutated. */
  private readonly snapshots = new Map<string, readonly D[]>();

  get size(): number {
    return this.table.size;
  }

  bind(destination: D, routingKey: string, args: Record<string, unknown>): boolean {
    if (!this.table.add(destination, routingKey, { ...args })) return false;
    let destinations = this.byRoutingKey.get(routingKey);
    if (destinations === undefined) {
      destinations = new Set();
      this.byRoutingKey.set(routingKey, destinations);
    }
    assert(!destinations.has(destination), "direct index out of step with the binding table");
    destinations.add(destination);
    this.snapshots.set(routingKey, [...destinations]);
    return true;
  }

  unbind(destination: D, routingKey: string, _args: Record<string, unknown>): boolean {
    if (!this.table.remove(destination, routingKey)) return false;
    this.dropFromIndex(destination, routingKey);
    return true;
  }

  unbindAll(destination: D): number {
    const routingKeys = this.table.removeAll(destination);
    for (const routingKey of routingKeys) this.dropFromIndex(destination, routingKey);
    return routingKeys.length;
  }

  route(routingKey: string, _headers: Readonly<Record<string, unknown>> | undefined, out: Set<D>): void {
    const destinations = this.byRoutingKey.get(routingKey);
    if (destinations === undefined) return;
    for (const destination of destinations) out.add(destination);
  }

  lookup(routingKey: string): readonly D[] {
    return this.snapshots.get(routingKey) ?? NO_DESTINATIONS;
  }

  bindings(): IterableIterator<BindingKey<D>> {
    return this.table.entries();
  }

  hasBindingsTo(destination: D): boolean {
    return this.table.has(destination);
  }

  private dropFromIndex(destination: D, routingKey: string): void {
    const destinations = this.byRoutingKey.get(routingKey);
    assert(destinations?.delete(destination) === true, "direct index lost a binding");
    if (destinations.size === 0) {
      this.byRoutingKey.delete(routingKey);
      this.snapshots.delete(routingKey);
    } else {
      this.snapshots.set(routingKey, [...destinations]);
    }
  }
}
