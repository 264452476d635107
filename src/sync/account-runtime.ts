// What the sync engine keeps per worker process: the parse thread pool and the IDLE watchers. Built by
// startWorker (or a test), closed on shutdown; nothing here starts at import time.
import type { AccountRuntime, WorkerDeps } from './worker-deps.ts';
import { requestAccountSync } from '../core/mail/accounts.ts';
import { createParsePool } from './parse-pool.ts';
import { createWatcherRegistry } from './idle.ts';

export type { AccountRuntime };

export function createAccountRuntime(deps: WorkerDeps, opts: { adoptAll?: boolean; parseThreads?: number } = {}): AccountRuntime {
  const pool = createParsePool(deps.config, { threads: opts.parseThreads, resolver: deps.dnsResolver });
  const watchers = createWatcherRegistry(deps, {
    adoptAll: opts.adoptAll ?? false,
    onNewMail: (accountId) => requestAccountSync(deps.queue, accountId, 'idle'),
  });
  return {
    pool,
    watchers,
    async close() {
      await watchers.stop();
      await pool.close();
    },
  };
}
