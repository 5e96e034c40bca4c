/**
 * Waiting that a run can cut short: every wait of a producer or of the drain phase ends early when its
 * AbortSignal fires (the duration ran out, the grace period expired, or a connection failed), so a
 * stalled broker can delay leveret-perf but never hang it.
 *
 * Does not reject on abort: callers look at the signal afterwards and decide what an early end means.
 */

/** Resolves when `arm` calls its callback, or when `signal` aborts, whichever is first. */
export function waitOrAbort(signal: AbortSignal, arm: (wake: () => void) => void): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    let settled = false;
    const wake = () => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", wake);
      resolve();
    };
    signal.addEventListener("abort", wake);
    arm(wake);
  });
}

/** Sleeps `delayMs`, or less if `signal` aborts first. */
export function sleep(delayMs: number, signal: AbortSignal): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return waitOrAbort(signal, (wake) => {
    timer = setTimeout(wake, Math.max(0, delayMs));
  }).finally(() => clearTimeout(timer));
}

/** Lets the event loop run I/O and timers (a resolved promise would not). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Polls `done` every `pollMs` until it returns true or `signal` aborts; returns what `done` said last.
 * Polling (rather than an event per message) keeps the receive path free of bookkeeping.
 */
export async function pollUntil(done: () => boolean, pollMs: number, signal: AbortSignal): Promise<boolean> {
  while (!done()) {
    if (signal.aborted) return done();
    await sleep(pollMs, signal);
  }
  return true;
}
