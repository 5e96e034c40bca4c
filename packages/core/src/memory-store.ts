/**
 * A store that keeps nothing: every commit succeeds at once and a restart starts empty. For tests of
 * the core and for brokers run without persistence. Its counters let tests see what would be stored.
 */
import type { Message } from "./message.js";
import type {
  BindingDefinition,
  ExchangeDefinition,
  MessageStore,
  QueueDefinition,
  RecoveredMessages,
  RecoveredState,
  StoredMessage,
  StoreStats,
} from "./store.js";

const NO_MESSAGES: RecoveredMessages = { count: 0, forEach: () => {} };

export class MemoryStore implements MessageStore {
  appendedMessages = 0;
  settledMessages = 0;
  readonly idle = true;

  async recover(): Promise<RecoveredState> {
    return { exchanges: [], queues: [], bindings: [], messages: NO_MESSAGES, nextMessageId: 1 };
  }
  saveExchange(_definition: ExchangeDefinition): void {}
  deleteExchange(_vhost: string, _name: string): void {}
  saveQueue(_definition: QueueDefinition): void {}
  deleteQueue(_queueId: string): void {}
  saveBinding(_definition: BindingDefinition): void {}
  deleteBinding(_definition: BindingDefinition): void {}
  appendMessage(_message: Message, _queueIds: readonly string[]): void {
    this.appendedMessages++;
  }
  readMessage(messageId: number): Promise<StoredMessage> {
    // Nothing here drops a body, so nobody can need one read back: asking is a bug.
    return Promise.reject(new Error(`the memory store keeps no bodies (message ${messageId})`));
  }
  markDelivered(_queueId: string, _messageId: number): void {}

  settle(_queueId: string, _messageId: number): void {
    this.settledMessages++;
  }
  commit(): Promise<void> {
    return Promise.resolve();
  }
  onFatal(_listener: (error: Error) => void): void {}
  onDiskFull(_listener: (full: boolean) => void): void {}
  stats(): StoreStats {
    return { diskBytes: 0, corruptRecordsSkipped: 0, logWrites: 0, inlineLogWrites: 0 };
  }
  async close(): Promise<void> {}
}
