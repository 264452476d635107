// The server plus a sync worker in this process on its own BullMQ connection, and the per-file Dovecot:
// for API tests whose requests need a worker (login checks, syncs, IDLE). The scheduler's interval is an
// hour, so only the test's own actions (and IDLE) start syncs. Nothing here asserts.
import { randomUUID } from 'node:crypto';
import { createBullQueue } from '../../src/core/platform/jobs.ts';
import { startWorker, type WorkerHandle } from '../../src/sync/worker.ts';
import { startTestApp, type TestApp } from './app.ts';
import { getDovecot, type Dovecot } from './dovecot.ts';
import type { Config } from '../../src/core/platform/config.ts';
import { testConfig } from './env.ts';
import { createMetricsRecorder, createRedisMetricsStore } from '../../src/core/platform/metrics.ts';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

export type AppWithWorker = { ta: TestApp; worker: WorkerHandle; dovecot: Dovecot; close: () => Promise<void> };

/** `workerId` is a prefix; a random suffix keeps concurrent test files apart. */
export async function startAppWithWorker(workerId: string, opts: { env?: Record<string, string>; dovecot?: Dovecot } = {}): Promise<AppWithWorker> {
  const config: Config = testConfig({ DOSSIER_SYNC_INTERVAL: '3600', ...opts.env });
  const ta = await startTestApp({ config });
  const dovecot = opts.dovecot ?? await getDovecot();
  const worker = await startWorker({ config, db: ta.db, blobs: ta.blobs, queue: createBullQueue(config.redisUrl!, config.queuePrefix), log: silent,
    // Counted into the test's own Redis prefix, where the app's GET /metrics reads them (as main.ts wires it).
    metrics: createMetricsRecorder(createRedisMetricsStore(ta.redis, config.queuePrefix)), workerId: `${workerId}-${randomUUID().slice(0, 6)}` });
  return {
    ta, worker, dovecot,
    close: async () => {
      await worker.deps.queue.close();
      await worker.stop();
      await ta.close();
    },
  };
}
