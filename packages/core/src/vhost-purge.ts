/**
 * Empties a vhost that is being deleted: every queue (with its messages) and every exchange a client
 * declared goes, through the vhost's own delete paths, so the store records each deletion and a
 * restart does not bring them back. The built-in exchanges ("" and amq.*) are never stored and need no
 * deletion.
 *
 * Not here: removing the vhost from the broker (Broker.deleteVhost) or its permissions (AccessControl).
 * The caller makes sure no connection uses the vhost any more.
 */
import { DEFAULT_EXCHANGE, type VHost } from "./vhost.js";

export interface PurgeSummary {
  queues: number;
  exchanges: number;
}

export function purgeVhost(vhost: VHost): PurgeSummary {
  let queues = 0;
  for (const queue of [...vhost.queues.values()]) {
    // The owner argument only matters for exclusive queues; passing their own owner deletes them too.
    vhost.deleteQueue(queue.name, false, false, queue.exclusiveOwner ?? vhost);
    queues++;
  }
  let exchanges = 0;
  for (const exchange of [...vhost.exchanges.values()]) {
    if (exchange.name === DEFAULT_EXCHANGE || exchange.name.startsWith("amq.")) continue;
    // An auto-delete exchange may already have gone with the last of its bindings.
    if (vhost.exchanges.get(exchange.name) !== exchange) continue;
    vhost.deleteExchange(exchange.name, false);
    exchanges++;
  }
  return { queues, exchanges };
}
