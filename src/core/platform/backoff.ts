// Retry pacing, one rule for every retry in Dossier: exponential backoff (attempt 1 waits up to baseMs,
// each next one up to twice as long, never more than maxMs). With full jitter (the delay is random
// between 0 and that ceiling, as AWS recommends) clients that failed together do not come back in
// lockstep; without, it is the plain exponential schedule BullMQ uses for job retries.

export type BackoffOptions = { baseMs: number; maxMs?: number; jitter?: 'full' | 'none' };

export function backoffDelayMs(attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(opts.maxMs ?? Infinity, opts.baseMs * 2 ** Math.max(0, attempt - 1));
  return (opts.jitter ?? 'full') === 'full' ? Math.round(random() * ceiling) : ceiling;
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
