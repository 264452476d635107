// What every job handler may use: built once per process by main.ts (the composition root).
import type { Config } from '../core/platform/config.ts';
import type { Db } from '../core/platform/db.ts';
import type { JobMap, JobQueue } from '../core/platform/jobs.ts';
import type { BlobStore } from '../core/blobs/blob-store.ts';
import type { LiveEvents } from '../core/platform/live-events.ts';
import type { ParsePool } from './parse-pool.ts';
import type { MetricsRecorder } from '../core/platform/metrics.ts';
import type { DnsResolver } from './sender-auth.ts';

/** The IDLE watchers of one process (idle.ts). */
export type WatcherRegistry = {
  /** Make sure some worker watches this account (this one, if it can take the lease). */
  ensure(accountId: string): void;
  /** Accounts this process watches right now. */
  watching(): string[];
  stop(): Promise<void>;
};

/**
 * What the sync engine keeps per worker process: the parse thread pool and the IDLE watchers (built by
 * account-runtime.ts). Declared here, with the deps that carry it, so that the modules building it
 * import these types without importing one another.
 */
export type AccountRuntime = {
  pool: ParsePool;
  watchers: WatcherRegistry;
  close(): Promise<void>;
};

export type Log = { info: (obj: object, msg?: string) => void; warn: (obj: object, msg?: string) => void; error: (obj: object, msg?: string) => void };

export type WorkerDeps = {
  config: Config;
  db: Db;
  queue: JobQueue;
  blobs: BlobStore;
  log: Log;
  /** Live events for open browsers: new mail and sync progress (absent in tests that do not listen). */
  events?: LiveEvents | null;
  /** Counts for GET /metrics (synced messages, sync errors, job durations); absent: nothing is counted. */
  metrics?: MetricsRecorder | null;
  /** Unique per worker process: the owner name written into account leases. */
  workerId: string;
  /** The sync engine's per-process state (parse threads, IDLE watchers); startWorker creates it when absent. */
  accounts?: AccountRuntime;
  /** Where sender verification looks up DKIM keys and DMARC records; absent: the system's DNS. */
  dnsResolver?: DnsResolver;
  /** Schedule and watch every mail account in the database on start (deployments; tests leave it off). */
  adoptAccounts?: boolean;
  /** Test hook: observe ping jobs. */
  onPing?: (payload: JobMap['ping']) => void;
};
