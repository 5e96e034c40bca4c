/**
 * A channel in tx mode (tx.select) holds its publishes and acknowledgements until tx.commit, and drops
 * them on tx.rollback. Acknowledged deliveries stay unacked until the commit applies them.
 */
import type { AssembledContent } from "./content-assembler.js";

export type SettleOutcome = "ack" | "requeue" | "drop";

export interface PendingSettle {
  deliveryTag: number;
  multiple: boolean;
  outcome: SettleOutcome;
}

export class Transaction {
  publishes: AssembledContent[] = [];
  settles: PendingSettle[] = [];

  take(): { publishes: AssembledContent[]; settles: PendingSettle[] } {
    const taken = { publishes: this.publishes, settles: this.settles };
    this.publishes = [];
    this.settles = [];
    return taken;
  }
}
