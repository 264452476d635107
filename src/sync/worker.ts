// Starts job processing in this process: handlers plus the recurring housekeeping schedules.
import type { WorkerDeps } from './worker-deps.ts';
import { createHandlers } from './handlers.ts';

const HOUR = 3600_000;

export async function startWorker(deps: WorkerDeps): Promise<void> {
  deps.queue.work(createHandlers(deps), {
    concurrency: deps.config.workerConcurrency,
    onError: (err, name) => deps.log.warn({ err, job: name }, 'job failed'),
  });
  await deps.queue.schedule('sweep-blobs', 6 * HOUR, 'sweep-blobs', { graceMs: HOUR });
}
