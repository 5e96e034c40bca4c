/**
 * x-expires: a queue that stays unused for its expiry period is deleted. "Unused", in RabbitMQ's
 * words: no consumers, and no queue.declare (passive ones count) or basic.get within the period.
 * Every such use renews the lease; while a consumer is attached the lease does not run at all.
 * Messages in the queue do not keep it alive.
 *
 * Not here: the deletion itself (the queue's owner does it from onExpired). After a restart a durable
 * queue's lease starts afresh, as in RabbitMQ.
 */
export class QueueLease {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly expiresMs: number,
    private readonly onExpired: () => void,
  ) {}

  /** The queue was used now; `inUse` while consumers are attached (the lease then waits). */
  renew(inUse: boolean): void {
    this.stop();
    if (inUse) return;
    // Node timers hold at most 2^31-1 ms; a longer lease fires early and simply renews itself.
    const delayMs = Math.min(this.expiresMs, 2 ** 31 - 1);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (delayMs < this.expiresMs) {
        const rest = new QueueLease(this.expiresMs - delayMs, this.onExpired);
        rest.renew(false);
        this.timer = rest.timer;
        return;
      }
      this.onExpired();
    }, delayMs);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
