// Reconnect pacing: exponential backoff with full jitter (so many workers that lost one server do not
// come back in lockstep), and a sleep that an abort ends early. imapflow never reconnects by itself.

export type BackoffOptions = { baseMs: number; maxMs: number };

/** Attempt 1 waits up to baseMs, each next one up to twice as long, never more than maxMs; random within. */
export function backoffDelayMs(attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.max(0, attempt - 1));
  // Half fixed, half random: never zero (a hot loop), still spread out.
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** Resolves after ms, or at once (without throwing) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
