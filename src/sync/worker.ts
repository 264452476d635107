// Starts job processing in this process: handlers, the sync engine (parse threads, IDLE watchers) and
// the recurring schedules. Returns a handle whose stop() ends the watchers and threads (after the queue).
import type { WorkerDeps } from './worker-deps.ts';
import { createHandlers } from './handlers.ts';
import { createAccountRuntime } from './account-runtime.ts';
import { accountJobKey, accountSchedulerId, scheduleReconciliation } from '../core/mail/accounts.ts';
import { listMailAccountIds } from '../core/mail/account-sync-status.ts';
import type { Handlers, JobName } from '../core/platform/jobs.ts';

const HOUR = 3600_000;

export type WorkerHandle = { deps: WorkerDeps; stop: () => Promise<void> };

export async function startWorker(input: WorkerDeps): Promise<WorkerHandle> {
  const deps: WorkerDeps = { ...input };
  deps.accounts ??= createAccountRuntime(deps, { adoptAll: deps.adoptAccounts ?? false });
  deps.queue.work(timeJobs(createHandlers(deps), deps), {
    concurrency: deps.config.workerConcurrency,
    onError: (err, name) => deps.log.warn({ err, job: name }, 'job failed'),
  });
  await deps.queue.schedule('sweep-blobs', 6 * HOUR, 'sweep-blobs', { graceMs: HOUR });
  // Reminders live in the database; this finds any the queue lost (embedded restart, Redis flush).
  await deps.queue.schedule('file-request-scan', HOUR / 60, 'file-request-scan', { reason: 'schedule' });
  await deps.queue.schedule('task-due-scan', HOUR / 60, 'task-due-scan', { reason: 'schedule' });
  await deps.queue.schedule('client-mail-digest-scan', HOUR / 60, 'client-mail-digest-scan', { reason: 'schedule' });
  await deps.queue.schedule('resume-outbox', HOUR / 12, 'resume-outbox', { staleMs: HOUR / 12 });
  if (deps.adoptAccounts) {
    await scheduleEveryAccount(deps);
    // Sync incidents (needs_reauth, stalled, missing mail) are opened and closed from the database each minute.
    // Deployments only, like the accounts' schedules: it notifies every administrator of every account.
    await deps.queue.schedule('sync-alert-scan', HOUR / 60, 'sync-alert-scan', { reason: 'schedule' });
  }
  return { deps, stop: () => deps.accounts!.close() };
}

/**
 * One job scheduler per account (idempotent upsert): schedules survive in Redis, but the in-process
 * queue of embedded mode keeps them in memory only, and a lost Redis loses them too.
 */
async function scheduleEveryAccount(deps: WorkerDeps): Promise<void> {
  for (const id of await listMailAccountIds(deps.db.em.fork())) {
    await deps.queue.schedule(accountSchedulerId(id), deps.config.syncIntervalSeconds * 1000, 'sync-account', { accountId: id, reason: 'schedule' }, { key: accountJobKey(id) });
    await scheduleReconciliation(deps.queue, id);
  }
}

/** Every job's run time, by name and outcome, for GET /metrics. */
function timeJobs(handlers: Handlers, deps: WorkerDeps): Handlers {
  const metrics = deps.metrics;
  if (!metrics) return handlers;
  const timed = { ...handlers };
  for (const name of Object.keys(handlers) as JobName[]) {
    const run = handlers[name] as (p: unknown, c: Parameters<Handlers[JobName]>[1]) => Promise<void>;
    (timed as Record<JobName, typeof run>)[name] = async (payload, ctx) => {
      const started = performance.now();
      let outcome: 'ok' | 'error' = 'error';
      try {
        await run(payload, ctx);
        outcome = 'ok';
      } finally {
        metrics.jobFinished(name, outcome, (performance.now() - started) / 1000);
      }
    };
  }
  return timed;
}
