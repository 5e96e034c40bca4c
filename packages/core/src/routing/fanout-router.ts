/**
 * Fanout exchange routing: a message goes to every bound destination, whatever its routing key.
 *
 * The routing key of a binding does not affect routing but is part of its identity, as in RabbitMQ:
 * binding a queue twice with different keys makes two bindings, and the queue still gets each message
 * once (the `out` Set dedups).
 *
 * Buffers: none.
 */
import { BindingTable } from "./binding-table.js";
import type { BindingKey, Router } from "./router.js";

export class FanoutRouter<D> implements Router<D> {
  private readonly table = new BindingTable<D>();

  get size(): number {
    return this.table.size;
  }

  bind(destination: D, routingKey: string, args: Record<string, unknown>): boolean {
    return this.table.add(destination, routingKey, { ...args });
  }

  unbind(destination: D, routingKey: string, _args: Record<string, unknown>): boolean {
    return this.table.remove(destination, routingKey);
  }

  unbindAll(destination: D): number {
    return this.table.removeAll(destination).length;
  }

  route(_routingKey: string, _headers: Readonly<Record<string, unknown>> | undefined, out: Set<D>): void {
    for (const destination of this.table.destinations()) out.add(destination);
  }

  bindings(): IterableIterator<BindingKey<D>> {
    return this.table.entries();
  }

  hasBindingsTo(destination: D): boolean {
    return this.table.has(destination);
  }
}
