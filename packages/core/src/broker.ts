/**
 * The routing core of one broker: its vhosts over one message store. open() recovers every durable
 * definition and unsettled persistent message from the store before anything else may happen.
 *
 * Not here: sockets, the wire format, authentication (the adapter's), process lifecycle (the app's).
 */
import { notAllowed } from "./errors.js";
import type { PropertiesCodec } from "./message.js";
import type { MessageStore, RecoveredState } from "./store.js";
import { VHost } from "./vhost.js";
import { purgeVhost } from "./vhost-purge.js";

export interface BrokerOptions {
  store: MessageStore;
  /** Vhosts that exist from the start (default ["/"]). */
  vhosts?: readonly string[];
  /** Decodes the raw properties of recovered messages (the store keeps only the wire bytes). */
  propertiesCodec?: PropertiesCodec;
}

export interface RecoverySummary {
  exchanges: number;
  queues: number;
  bindings: number;
  messages: number;
}

export class Broker {
  readonly vhosts = new Map<string, VHost>();
  readonly store: MessageStore;
  private nextId = 1;
  private recovery: RecoverySummary = { exchanges: 0, queues: 0, bindings: 0, messages: 0 };

  private readonly propertiesCodec: PropertiesCodec | undefined;

  private constructor(options: BrokerOptions) {
    this.store = options.store;
    this.propertiesCodec = options.propertiesCodec;
    for (const name of options.vhosts ?? ["/"]) this.addVhost(name);
  }

  static async open(options: BrokerOptions): Promise<Broker> {
    const broker = new Broker(options);
    const codec = options.propertiesCodec;
    broker.restore(await options.store.recover(codec ? { decodeProperties: (raw) => codec.decode(raw) } : {}));
    return broker;
  }

  get recovered(): RecoverySummary {
    return this.recovery;
  }

  /** The vhost a connection asked for in connection.open. */
  vhost(name: string): VHost {
    const vhost = this.vhosts.get(name);
    if (!vhost) throw notAllowed(`vhost '${name}' not found`);
    return vhost;
  }

  /** Creates the vhost unless it exists (access control decides which vhosts exist). */
  ensureVhost(name: string): VHost {
    return this.vhosts.get(name) ?? this.addVhost(name);
  }

  /**
   * Deletes a vhost and, durably, every queue, exchange and binding in it (RabbitMQ's delete_vhost).
   * Returns false when there was no such vhost. No connection may be using it.
   */
  deleteVhost(name: string): boolean {
    const vhost = this.vhosts.get(name);
    if (!vhost) return false;
    purgeVhost(vhost);
    this.vhosts.delete(name);
    return true;
  }

  /** A connection went away: its exclusive queues are deleted in every vhost. */
  releaseOwner(owner: object): void {
    for (const vhost of this.vhosts.values()) vhost.releaseOwner(owner);
  }

  async close(): Promise<void> {
    for (const vhost of this.vhosts.values()) vhost.close();
    await this.store.close();
  }

  private addVhost(name: string): VHost {
    const options = this.propertiesCodec ? { propertiesCodec: this.propertiesCodec } : {};
    const vhost = new VHost(name, this.store, () => this.nextId++, options);
    this.vhosts.set(name, vhost);
    return vhost;
  }

  private restore(state: RecoveredState): void {
    this.nextId = Math.max(this.nextId, state.nextMessageId);
    const vhostOf = (name: string) => this.vhosts.get(name) ?? this.addVhost(name);
    for (const definition of state.exchanges) vhostOf(definition.vhost).restoreExchange(definition);
    const queuesById = new Map<string, ReturnType<VHost["addQueue"]>>();
    for (const definition of state.queues) {
      const queue = vhostOf(definition.vhost).addQueue({ ...definition, exclusiveOwner: undefined });
      queuesById.set(definition.id, queue);
    }
    for (const definition of state.bindings) vhostOf(definition.vhost).restoreBinding(definition);
    // Recovered messages stay on disk: each queue gets a compact row per message and reads the message
    // back when it is about to hand it out.
    state.messages.forEach((recovered) => {
      const { id, bodySize, expiration, priority, deliveredQueueIds } = recovered;
      for (const queueId of recovered.queueIds) {
        const deliveredBefore = deliveredQueueIds.includes(queueId);
        queuesById.get(queueId)?.enqueueRecovered({ id, bodySize, expiration, priority, deliveredBefore });
      }
    });
    for (const queue of queuesById.values()) queue.afterRecovery();
    const messages = state.messages.count;
    this.recovery = {
      exchanges: state.exchanges.length,
      queues: state.queues.length,
      bindings: state.bindings.length,
      messages,
    };
  }
}
