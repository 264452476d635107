// The sync engine on the real services for tests: shared test database, own blob dir (or S3 from the config), a per-file Dovecot,
// the parse thread pool, and accounts created through core (the login check is the API tests' business).
import { randomUUID } from 'node:crypto';
import { openDb, type Db } from '../../src/core/platform/db.ts';
import type { Config } from '../../src/core/platform/config.ts';
import type { BlobStore } from '../../src/core/blobs/blob-store.ts';
import { createBlobStore } from '../../src/core/blobs/blob-stores.ts';
import { createLocalQueue, type JobQueue } from '../../src/core/platform/jobs.ts';
import { requestAccountSync } from '../../src/core/mail/accounts.ts';
import type { WorkerDeps } from '../../src/sync/worker-deps.ts';
import { createAccountRuntime, type AccountRuntime } from '../../src/sync/account-runtime.ts';
import { syncAccount, type SyncOutcome, type SyncReason } from '../../src/sync/sync-account.ts';
import { getDovecot, warmUpDovecot, type Dovecot } from './dovecot.ts';
import { testConfig } from './env.ts';

export type SyncEnv = {
  db: Db;
  config: Config;
  blobs: BlobStore;
  dovecot: Dovecot;
  deps: WorkerDeps;
  runtime: AccountRuntime;
  close: () => Promise<void>;
};

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

export async function startSyncEnv(opts: { config?: Config; queue?: JobQueue; verbose?: boolean } = {}): Promise<SyncEnv> {
  const config = opts.config ?? testConfig();
  // The shared PostgreSQL test database is migrated once per run; an embedded (PGlite) one is new here.
  const db = await openDb(config, { migrate: !config.databaseUrl, poolMax: 6 });
  // As the worker does: the local blob dir, or S3 when the config says so (the parse threads follow it too).
  const blobs = createBlobStore(config);
  const dovecot = await getDovecot();
  await warmUpDovecot(dovecot);
  const log = opts.verbose ? { info: (o: object, m?: string) => console.log(m, o), warn: (o: object, m?: string) => console.log('WARN', m, o), error: (o: object, m?: string) => console.log('ERROR', m, o) } : silent;
  const deps: WorkerDeps = { config, db, blobs, queue: opts.queue ?? createLocalQueue(), log, workerId: `test-${randomUUID().slice(0, 8)}` };
  const runtime = createAccountRuntime(deps, { parseThreads: 2 });
  deps.accounts = runtime;
  return {
    db, config, blobs, dovecot, deps, runtime,
    close: async () => {
      await runtime.close();
      await deps.queue.close();
      await db.close();
    },
  };
}

export function runSync(env: SyncEnv, accountId: string, reason: SyncReason = 'manual'): Promise<SyncOutcome> {
  return syncAccount(env.deps, { pool: env.runtime.pool }, accountId, { reason });
}

export async function query<T = Record<string, unknown>>(db: Db, sql: string, params: unknown[] = []): Promise<T[]> {
  return db.em.fork().execute<T[]>(sql, params);
}

/** Live locations of one account's folder, with their message's parse status. */
export async function listLocations(db: Db, accountId: string, path = 'INBOX') {
  return query<{ uid: number; message_id: string; flags: string[]; parse_status: string; subject: string; raw_blob: string; raw_size: number }>(db,
    `select l.uid::int as uid, l.message_id, l.flags, m.parse_status, m.subject, m.raw_blob, m.raw_size from message_location l
       join mailbox b on b.id = l.mailbox_id join message m on m.id = l.message_id
      where b.account_id = ? and b.path = ? and l.removed_at is null order by l.uid`, [accountId, path]);
}

export async function getFolder(db: Db, accountId: string, path = 'INBOX') {
  const rows = await query<{ id: string; server_messages: number; stored_messages: number; failed_messages: number; last_uid: number; uid_validity: string; synced_at: Date | null; progress_total: number }>(db,
    'select id, server_messages, stored_messages, failed_messages, last_uid::int as last_uid, uid_validity::text as uid_validity, synced_at, progress_total from mailbox where account_id = ? and path = ?', [accountId, path]);
  return rows[0];
}

/** Asks for the account's sync (as IDLE or the scheduler would) until `done` says the result is in. */
export async function syncUntil<T>(queue: JobQueue, accountId: string, done: () => Promise<T | null | undefined | false>, timeoutMs = 40_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await done();
    if (value) return value;
    if (Date.now() > until) throw new Error('timed out waiting for the sync to bring the result');
    await requestAccountSync(queue, accountId, 'manual');
    await new Promise((r) => setTimeout(r, 700));
  }
}
