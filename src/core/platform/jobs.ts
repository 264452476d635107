// The job contract: one typed map of job name -> payload, and two queues with the same behaviour —
// BullMQ on Redis (scaled mode) and an in-process queue (embedded mode). A missing handler is a type error.
import { Queue, Worker, DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { backoffDelayMs } from './backoff.ts';

export type JobMap = {
  /** Sync every folder of one account (scheduler tick, IDLE wake-up, or "sync now"). */
  'sync-account': { accountId: string; reason: 'schedule' | 'idle' | 'manual' | 'created' };
  /** Compare the server's UIDs per folder with the stored locations and fetch what is missing (hourly, and after a first pass). */
  'reconcile-account': { accountId: string; reason: 'schedule' | 'after-sync' | 'manual' };
  /** Open and close sync incidents (needs_reauth, stalled, missing mail): notify the owner and admins once per incident. */
  'sync-alert-scan': { reason: 'schedule' | 'manual' };
  /** Keep an IDLE connection on an account's INBOX so new mail arrives within seconds. */
  'watch-account': { accountId: string };
  /** Answer an imap_check row for the API: verify a login or list folders (the API never opens IMAP). */
  'check-imap': { checkId: string };
  /** Send one outbox row over SMTP, then copy it to Sent. */
  'send-outbox': { outboxId: string };
  /** Enqueue 'send-outbox' again for rows whose job was lost (enqueue failed after the commit, queue lost). */
  'resume-outbox': { staleMs: number };
  /** File existing mail for an address that was added, re-enabled or linked to a client. */
  'file-address': { address: string; actorId: string | null };
  /** Delete blob files no row refers to (left by a crash between write and commit). */
  'sweep-blobs': { graceMs: number };
  /** Send a file request's next reminder if it is still due (the job re-checks the database). */
  'file-request-reminder': { requestId: string };
  /** Periodic safety net: enqueue due reminders the queue lost, mark overdue requests, send stranded request mail. */
  'file-request-scan': { reason: 'schedule' | 'manual' };
  /** Notify a task's assignee when it falls due (the handler re-checks the database; a changed due time makes a new job). */
  'task-due': { taskId: string };
  /** Minutely safety net: notify due tasks whose job the queue lost (embedded restart, Redis flush). */
  'task-due-scan': { reason: 'schedule' | 'manual' };
  /** Mail a user's client-mail digest if notices wait and their 15-minute window is open (else it comes back delayed). */
  'client-mail-digest': { userId: string };
  /** Minutely: digests for every user with notices waiting (and any whose delayed job was lost). */
  'client-mail-digest-scan': { reason: 'schedule' | 'manual' };
  /** Round-trip check used by `dossier` health commands and tests. */
  'ping': { text: string; at: number };
};
export type JobName = keyof JobMap;

export type EnqueueOptions = {
  /** Run no earlier than this many ms from now. */
  delayMs?: number;
  /** Jobs sharing a key never run at the same time (across every worker). */
  key?: string;
  /** Enqueueing again while a job with this id is waiting is a no-op. */
  jobId?: string;
  /** Total attempts including the first (default 5), with exponential backoff from backoffMs (default 1000). */
  attempts?: number;
  backoffMs?: number;
};

export type JobContext = { attempt: number; signal: AbortSignal };
export type Handlers = { [N in JobName]: (payload: JobMap[N], ctx: JobContext) => Promise<void> };

export interface JobQueue {
  enqueue<N extends JobName>(name: N, payload: JobMap[N], opts?: EnqueueOptions): Promise<void>;
  /** Create or replace a repeating job (idempotent across restarts and processes). */
  schedule<N extends JobName>(schedulerId: string, everyMs: number, name: N, payload: JobMap[N], opts?: Pick<EnqueueOptions, 'key'>): Promise<void>;
  unschedule(schedulerId: string): Promise<void>;
  /** Start running jobs with these handlers (worker processes and embedded mode only). */
  work(handlers: Handlers, opts?: { concurrency?: number; onError?: (err: unknown, name: string) => void }): void;
  /** Jobs by state right now (waiting, active, delayed, failed...), for the metrics scrape. */
  counts(): Promise<Record<string, number>>;
  /** The BullMQ queue behind this one (scaled mode), for the admins' queue dashboard; null in embedded mode. */
  bullQueue(): Queue | null;
  /** Stop taking jobs, wait for in-flight ones, release connections. */
  close(): Promise<void>;
}

const DEFAULT_ATTEMPTS = 5;
const DEFAULT_BACKOFF_MS = 1000;
/** Handlers that fail with a PermanentJobError are not retried. */
export class PermanentJobError extends Error {}


// ---------------------------------------------------------------- BullMQ (scaled mode)

const QUEUE_NAME = 'dossier';
/** A key's lock outlives a dead holder (kill -9) by at most this long; the holder renews it while it runs. */
export const KEY_LOCK_TTL_MS = 10_000;
const KEY_LOCK_RENEW_MS = KEY_LOCK_TTL_MS / 4;

// Take a key's lock, or register as one of its waiters, atomically: the holder's release wakes every
// waiter it finds, so none is missed between "busy" and "waiting". Returns -1 when taken, else the lock's
// remaining ms (the waiter's fallback wake-up, should the holder die without releasing).
const TAKE_OR_WAIT = `if redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return -1 end
redis.call('sadd', KEYS[2], ARGV[3])
redis.call('pexpire', KEYS[2], ARGV[2] * 4)
return redis.call('pttl', KEYS[1])`;
// Release the lock if it is still ours and hand back the waiters to wake (all of them: the first to run
// takes the lock, the others wait again).
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('del', KEYS[1]) end
local waiters = redis.call('smembers', KEYS[2])
redis.call('del', KEYS[2])
return waiters`;
const RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";
// A waiter, once in the delayed set, checks again: the key is still held (register, so this holder's release
// wakes it; an earlier release may have found it not yet delayed) or it is free (1: promote yourself).
const STILL_WAITING = `if redis.call('exists', KEYS[1]) == 1 then
  redis.call('sadd', KEYS[2], ARGV[1])
  return 0
end
return 1`;

type Envelope = { payload: unknown; key?: string; attempts: number; backoffMs: number };

export function createBullQueue(redisUrl: string, prefix: string): JobQueue {
  const connection = () => new Redis(redisUrl, { maxRetriesPerRequest: null, enableReadyCheck: true });
  const queueConn = connection();
  const lockConn = connection();
  const queue = new Queue(QUEUE_NAME, { connection: queueConn, prefix });
  let worker: Worker | null = null;
  let workerConn: Redis | null = null;
  const aborts = new Set<AbortController>();

  const toBull = (opts: EnqueueOptions = {}) => ({
    delay: opts.delayMs,
    jobId: opts.jobId,
    attempts: opts.attempts ?? DEFAULT_ATTEMPTS,
    backoff: { type: 'exponential', delay: opts.backoffMs ?? DEFAULT_BACKOFF_MS },
    removeOnComplete: { age: 3600, count: 1000 },
    removeOnFail: { age: 7 * 86400 },
  });
  const envelope = (payload: unknown, opts: EnqueueOptions = {}): Envelope => ({
    payload, key: opts.key, attempts: opts.attempts ?? DEFAULT_ATTEMPTS, backoffMs: opts.backoffMs ?? DEFAULT_BACKOFF_MS,
  });

  // One-at-a-time per key: a token lock in Redis, renewed while the job runs. A job that finds its key
  // busy goes back to the delayed set without using up an attempt (BullMQ's DelayedError protocol) and is
  // promoted when the holder releases the key — no polling; its delay (the lock's remaining time) is only
  // the fallback for a holder that died.
  const withKeyLock = async (job: Job, key: string, token: string, run: () => Promise<void>) => {
    const lockKey = `${prefix}:${QUEUE_NAME}:keylock:${key}`;
    const waitKey = `${lockKey}:waiting`;
    const owner = randomUUID();
    const busyFor = Number(await lockConn.eval(TAKE_OR_WAIT, 2, lockKey, waitKey, owner, KEY_LOCK_TTL_MS, job.id!));
    if (busyFor !== -1) {
      await job.moveToDelayed(Date.now() + Math.max(busyFor, 0) + 50, token);
      // A release between our check and the move found us still active and could not wake us.
      if (Number(await lockConn.eval(STILL_WAITING, 2, lockKey, waitKey, job.id!)) === 1) await job.promote().catch(() => undefined);
      throw new DelayedError();
    }
    const renew = setInterval(() => {
      lockConn.eval(RENEW, 1, lockKey, owner, KEY_LOCK_TTL_MS).catch(() => {});
    }, KEY_LOCK_RENEW_MS);
    try {
      await run();
    } finally {
      clearInterval(renew);
      const waiters = (await lockConn.eval(RELEASE, 2, lockKey, waitKey, owner).catch(() => [])) as string[];
      await Promise.all(waiters.map(async (id) => (await queue.getJob(id))?.promote().catch(() => undefined)));
    }
  };

  return {
    async enqueue(name, payload, opts) {
      await queue.add(name, envelope(payload, opts), toBull(opts));
    },
    async schedule(schedulerId, everyMs, name, payload, opts) {
      await queue.upsertJobScheduler(schedulerId, { every: everyMs }, { name, data: envelope(payload, opts), opts: { attempts: 1, removeOnComplete: true, removeOnFail: { age: 86400 } } });
    },
    async unschedule(schedulerId) {
      await queue.removeJobScheduler(schedulerId);
    },
    async counts() {
      return queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed');
    },
    bullQueue: () => queue,
    work(handlers, opts = {}) {
      worker = new Worker(QUEUE_NAME, async (job: Job, token?: string) => {
        const env = job.data as Envelope;
        const handler = handlers[job.name as JobName] as (p: unknown, c: JobContext) => Promise<void>;
        if (!handler) throw new UnrecoverableError(`no handler for job ${job.name}`);
        const ac = new AbortController();
        aborts.add(ac);
        const run = async () => {
          try {
            await handler(env.payload, { attempt: job.attemptsMade + 1, signal: ac.signal });
          } catch (err) {
            // BullMQ skips the remaining attempts for an UnrecoverableError.
            if (err instanceof PermanentJobError) throw new UnrecoverableError(err.message);
            throw err;
          }
        };
        try {
          if (env.key) await withKeyLock(job, env.key, token!, run);
          else await run();
        } finally {
          aborts.delete(ac);
        }
      }, { connection: (workerConn = connection()), prefix, concurrency: opts.concurrency ?? 4 });
      worker.on('failed', (job, err) => { if (!(err instanceof DelayedError)) opts.onError?.(err, job?.name ?? '?'); });
      worker.on('error', (err) => opts.onError?.(err, 'worker'));
    },
    async close() {
      // Worker.close() waits for active jobs; long jobs (an IDLE watch) see the abort and return early.
      for (const ac of aborts) ac.abort();
      await worker?.close();
      await queue.close();
      // Connections we pass in are ours to close; BullMQ only closes the ones it creates.
      queueConn.disconnect();
      lockConn.disconnect();
      workerConn?.disconnect();
    },
  };
}

// ---------------------------------------------------------------- in-process (embedded mode)

type LocalJob = { name: JobName; payload: unknown; opts: EnqueueOptions; attempt: number; runAt: number; id: string };

export function createLocalQueue(): JobQueue {
  const pending: LocalJob[] = [];
  const waitingIds = new Set<string>();
  const busyKeys = new Set<string>();
  const schedulers = new Map<string, NodeJS.Timeout>();
  const inFlight = new Set<Promise<void>>();
  const aborts = new Set<AbortController>();
  let handlers: Handlers | null = null;
  let concurrency = 4;
  let onError: ((err: unknown, name: string) => void) | undefined;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

  const pump = () => {
    if (!handlers || closed) return;
    if (timer) { clearTimeout(timer); timer = null; }
    const now = Date.now();
    pending.sort((a, b) => a.runAt - b.runAt);
    for (let i = 0; i < pending.length && inFlight.size < concurrency; ) {
      const job = pending[i]!;
      if (job.runAt > now) break;
      if (job.opts.key && busyKeys.has(job.opts.key)) { i++; continue; }
      pending.splice(i, 1);
      if (job.opts.jobId) waitingIds.delete(job.opts.jobId);
      start(job);
    }
    const next = pending.find((j) => !(j.opts.key && busyKeys.has(j.opts.key)));
    if (next) timer = setTimeout(pump, Math.max(0, next.runAt - Date.now()));
  };

  const start = (job: LocalJob) => {
    if (job.opts.key) busyKeys.add(job.opts.key);
    const ac = new AbortController();
    aborts.add(ac);
    const handler = handlers![job.name] as (p: unknown, c: JobContext) => Promise<void>;
    const p = (async () => {
      try {
        await handler(job.payload, { attempt: job.attempt, signal: ac.signal });
      } catch (err) {
        onError?.(err, job.name);
        const attempts = job.opts.attempts ?? DEFAULT_ATTEMPTS;
        if (!(err instanceof PermanentJobError) && job.attempt < attempts && !closed) {
          pending.push({ ...job, attempt: job.attempt + 1, runAt: Date.now() + backoffDelayMs(job.attempt, { baseMs: job.opts.backoffMs ?? DEFAULT_BACKOFF_MS, jitter: 'none' }) });
        }
      } finally {
        aborts.delete(ac);
        if (job.opts.key) busyKeys.delete(job.opts.key);
      }
    })();
    inFlight.add(p);
    void p.finally(() => { inFlight.delete(p); setImmediate(pump); });
  };

  const push = (name: JobName, payload: unknown, opts: EnqueueOptions = {}) => {
    if (closed) return;
    if (opts.jobId) {
      if (waitingIds.has(opts.jobId)) return;
      waitingIds.add(opts.jobId);
    }
    pending.push({ name, payload, opts, attempt: 1, runAt: Date.now() + (opts.delayMs ?? 0), id: randomUUID() });
    setImmediate(pump);
  };

  return {
    async enqueue(name, payload, opts) {
      push(name, payload, opts);
    },
    async schedule(schedulerId, everyMs, name, payload, opts) {
      clearInterval(schedulers.get(schedulerId));
      const t = setInterval(() => push(name, payload, { ...opts, attempts: 1, jobId: `scheduler:${schedulerId}` }), everyMs);
      t.unref();
      schedulers.set(schedulerId, t);
      push(name, payload, { ...opts, attempts: 1, jobId: `scheduler:${schedulerId}` });
    },
    async unschedule(schedulerId) {
      clearInterval(schedulers.get(schedulerId));
      schedulers.delete(schedulerId);
    },
    async counts() {
      // The same state names as BullMQ's: a job whose time has not come (delay, backoff) is delayed.
      const now = Date.now();
      const delayed = pending.filter((j) => j.runAt > now).length;
      return { waiting: pending.length - delayed, active: inFlight.size, delayed };
    },
    bullQueue: () => null,
    work(h, opts = {}) {
      handlers = h;
      concurrency = opts.concurrency ?? 4;
      onError = opts.onError;
      setImmediate(pump);
    },
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      for (const t of schedulers.values()) clearInterval(t);
      for (const ac of aborts) ac.abort();
      await Promise.allSettled([...inFlight]);
    },
  };
}
