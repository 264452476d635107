// Crash recovery with a real worker process: kill -9 in the middle of a sync, start another worker, and
// every message is stored exactly once with no orphan blobs. Runs on a database of its own, because a
// worker process adopts every account in its database.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { openDb, type Db } from '../../src/core/platform/db.ts';
import { createBullQueue } from '../../src/core/platform/jobs.ts';
import { createLocalBlobStore } from '../../src/core/blobs/blob-store.ts';
import { sweepOrphanBlobs } from '../../src/core/blobs/blob-sweep.ts';
import { getDovecot } from '../support/dovecot.ts';
import { TEST_REDIS_URL, testConfig, processEnv } from '../support/env.ts';
import { runDossier, waitWhileRunning, type Proc } from '../support/processes.ts';
import { query } from '../support/sync.ts';
import { createOwnDatabase } from '../support/own-database.ts';
import { createTestImapAccount, createTestMail, createTestUser } from '../support/factories.ts';

let db: Db;
const procs: Proc[] = [];
let own: Awaited<ReturnType<typeof createOwnDatabase>> | undefined;
t.before(async () => {
  own = await createOwnDatabase();
  db = await openDb({ databaseUrl: own.url, dataDir: '/nonexistent' }, { migrate: false, poolMax: 4 });
});
t.teardown(async () => {
  for (const p of procs) await p.stop('SIGKILL');
  await db?.close();
  await own?.drop().catch(() => undefined);
});


t.test('kill -9 mid-batch, restart: every message exactly once, no orphan blobs', async (t) => {
  const config = testConfig({ DATABASE_URL: own!.url, DOSSIER_SYNC_INTERVAL: '3600' });
  const env = processEnv(config);
  const dovecot = await getDovecot();
  const mail = await dovecot.addUser();
  // Enough mail for several batches, with attachments so blobs are written before each commit.
  const raws = Array.from({ length: 600 }, (_, i) => createTestMail({ subject: `Crash ${i}`, attachment: i % 3 === 0 ? { name: `a${i}.bin`, content: randomBytes(20_000 + i) } : undefined }));
  const t1 = Date.now();
  const uids: number[] = [];
  for (let i = 0; i < raws.length; i += 200) uids.push(...(await dovecot.appendMany(mail.user, raws.slice(i, i + 200))));
  t.comment(`appended in ${Date.now() - t1} ms`);
  const t0 = Date.now();
  const mark = (what: string) => t.comment(`${what} at ${Date.now() - t0} ms`);
  const owner = (await createTestUser(db)).user;
  const account = await createTestImapAccount({ db, config }, mail, { owner });
  const stored = async () => (await query<{ n: number }>(db,
    'select count(*)::int as n from message_location l join mailbox b on b.id = l.mailbox_id where b.account_id = ? and b.path = ? and l.removed_at is null', [account.id, 'INBOX']))[0]!.n;

  const first = runDossier('worker', env);
  procs.push(first);
  // The worker adopts the account (scheduler); once a batch is committed, the sync is mid-way.
  await waitWhileRunning('the first committed batch', async () => (await stored()) > 0, 60_000, first);
  mark('first batch committed');
  first.child.kill('SIGKILL');
  await first.exited;
  const atKill = await stored();
  t.ok(atKill > 0 && atKill < uids.length, `killed mid-sync (${atKill} of ${uids.length} stored)`);

  const second = runDossier('worker', env);
  procs.push(second);
  // "Sync now" (no queue key: the dead worker's key lock only expires later; the account lease is the guard).
  const queue = createBullQueue(TEST_REDIS_URL, config.queuePrefix);
  await queue.enqueue('sync-account', { accountId: account.id, reason: 'manual' }, { attempts: 1 });
  await waitWhileRunning('the sync to finish', async () => {
    const r = (await query<{ status: string; stored_messages: number }>(db, "select a.status, b.stored_messages from mail_account a join mailbox b on b.account_id = a.id and b.path = 'INBOX' where a.id = ?", [account.id]))[0];
    return r?.status === 'idle' && r.stored_messages === uids.length;
  }, 90_000, second);
  mark('restarted sync finished');
  await queue.close();
  await second.stop('SIGTERM');

  const locs = await query<{ uid: number; message_id: string }>(db,
    "select l.uid::int as uid, l.message_id from message_location l join mailbox b on b.id = l.mailbox_id where b.account_id = ? and b.path = 'INBOX' order by l.uid", [account.id]);
  t.same(locs.map((l) => l.uid), uids, 'every UID exactly once');
  t.equal(new Set(locs.map((l) => l.message_id)).size, uids.length, 'every message stored once (no duplicate content rows)');
  const messages = await query<{ n: number }>(db, 'select count(*)::int as n from message');
  t.equal(messages[0]!.n, uids.length, 'no stray content rows');

  const blobs = createLocalBlobStore(config.blobDir);
  const removed = await sweepOrphanBlobs(db.em.fork(), blobs, 0);
  t.comment(`${removed} orphan blob file(s) from the killed batch swept`);
  const files = new Set<string>();
  for await (const b of blobs.list()) files.add(b.sha256);
  const rows = new Set((await query<{ sha256: string }>(db, 'select sha256 from blob')).map((r) => r.sha256));
  const used = new Set((await query<{ sha256: string }>(db, 'select raw_blob as sha256 from message union select sha256 from attachment')).map((r) => r.sha256));
  t.same([...files].sort(), [...rows].sort(), 'every blob file has its row and every row its file');
  t.same([...used].filter((s) => !rows.has(s)), [], 'every raw source and attachment has its blob');
  const lease = await query<{ lease_owner: string | null }>(db, 'select lease_owner from mail_account where id = ?', [account.id]);
  t.equal(lease[0]!.lease_owner, null, 'the lease was released');
});
