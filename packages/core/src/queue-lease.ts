/**
 * x-expires: a queue that stays unused for its expiry period is deleted. "Unused", in RabbitMQ's
 * words: no consumers, and no queue.declare (passive ones count) or basic.get within the period.
 * Every such use renews the lease; while a consumer is attached the lease does not run at all.
 * Messages in the queue do not keep it alive.
 *
 * Not here: the deletion itself (the queue's owner does it from onExpired). After a restart a durable
 * queue's lease starts afresh, as in RabbitMQ.
 */
/** Node's setTimeout holds at most this delay; a longer lease waits in several steps. */
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

export class QueueLease {
  private timer: NodeJS.Timeout | undefined;
  private deadlineMs = 0;

  constructor(
    private readonly expiresMs: number,
    private readonly onExpired: () => void,
  ) {}

  /** The queue was used now; `inUse` while consumers are attached (the lease then waits). */
  renew(inUse: boolean): void {
    this.stop();
    if (inUse) return;
    this.deadlineMs = Date.now() + this.expiresMs;
    this.wait(this.expiresMs);
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private wait(delayMs: number): void {
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        const leftMs = this.deadlineMs - Date.now();
        if (leftMs > 0) this.wait(leftMs);
        else this.onExpired();
      },
      Math.min(delayMs, MAX_TIMER_DELAY_MS),
    );
    this.timer.unref?.();
  }
}
