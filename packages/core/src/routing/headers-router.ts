/**
 * Headers exchange routing: a message goes to a destination when the headers table of the message
 * satisfies the arguments of one of its bindings (rules in headers-match.ts). The routing key is
 * ignored for routing but, as in RabbitMQ, is part of a binding's identity together with the arguments.
 *
 * Routing tests every binding (until each destination's first match), as RabbitMQ does: a headers
 * pattern has no key to index on. Arguments are reduced to a pattern once, at bind time.
 *
 * It does not validate `x-match`: callers run validateHeadersBindingArgs first and refuse the bind with
 * 406; `bind` asserts that they did.
 *
 * Buffers: argument values (Buffers included) are kept by reference in a shallow copy of the table;
 * callers must not mutate them after binding.
 */
import { assert } from "../errors.js";
import {
  compileHeadersPattern,
  type HeadersPattern,
  headersMatch,
  headerTablesEqual,
  validateHeadersBindingArgs,
} from "./headers-match.js";
import type { BindingKey, Router } from "./router.js";

interface HeadersBinding {
  readonly routingKey: string;
  readonly args: Record<string, unknown>;
  readonly pattern: HeadersPattern;
}

export class HeadersRouter<D> implements Router<D> {
  private readonly byDestination = new Map<D, HeadersBinding[]>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  bind(destination: D, routingKey: string, args: Record<string, unknown>): boolean {
    const problem = validateHeadersBindingArgs(args);
    assert(problem === undefined, `headers binding was not validated: ${problem}`);
    let bindings = this.byDestination.get(destination);
    if (bindings === undefined) {
      bindings = [];
      this.byDestination.set(destination, bindings);
    } else if (indexOfBinding(bindings, routingKey, args) >= 0) {
      return false;
    }
    const copy = { ...args };
    bindings.push({ routingKey, args: copy, pattern: compileHeadersPattern(copy) });
    this.count++;
    return true;
  }

  unbind(destination: D, routingKey: string, args: Record<string, unknown>): boolean {
    const bindings = this.byDestination.get(destination);
    if (bindings === undefined) return false;
    const index = indexOfBinding(bindings, routingKey, args);
    if (index < 0) return false;
    bindings.splice(index, 1);
    if (bindings.length === 0) this.byDestination.delete(destination);
    this.count--;
    return true;
  }

  unbindAll(destination: D): number {
    const bindings = this.byDestination.get(destination);
    if (bindings === undefined) return 0;
    this.byDestination.delete(destination);
    this.count -= bindings.length;
    assert(this.count >= 0, "headers binding count went negative");
    return bindings.length;
  }

  route(_routingKey: string, headers: Readonly<Record<string, unknown>> | undefined, out: Set<D>): void {
    for (const [destination, bindings] of this.byDestination) {
      for (const binding of bindings) {
        if (headersMatch(binding.pattern, headers)) {
          out.add(destination);
          break;
        }
      }
    }
  }

  *bindings(): IterableIterator<BindingKey<D>> {
    for (const [destination, bindings] of this.byDestination) {
      for (const binding of bindings) {
        yield { destination, routingKey: binding.routingKey, arguments: binding.args };
      }
    }
  }

  hasBindingsTo(destination: D): boolean {
    return this.byDestination.has(destination);
  }
}

function indexOfBinding(
  bindings: readonly HeadersBinding[],
  routingKey: string,
  args: Readonly<Record<string, unknown>>,
): number {
  return bindings.findIndex((b) => b.routingKey === routingKey && headerTablesEqual(b.args, args));
}
