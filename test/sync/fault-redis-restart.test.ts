// Faults (issue 14): Redis killed (-9) and restarted in the middle of a scaled-mode sync. A private redis-server with
// AOF (appendfsync always) on a free port, a real worker process, and mail delivered while Redis is down: afterwards
// every message is listed exactly once through the API. Runs on a database of its own: a worker adopts every account.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { TEST_DATABASE_URL, testConfig, processEnv } from '../support/env.ts';
import { getDovecot } from '../support/dovecot.ts';
import { runDossier, waitWhileRunning, type Proc } from '../support/processes.ts';
import { listEveryPage, signIn, startTestApp, type TestApp } from '../support/app.ts';
import { startPrivateRedis, type PrivateRedis } from '../support/private-services.ts';
import { query } from '../support/sync.ts';
import { createOwnDatabase } from '../support/own-database.ts';
import { createTestImapAccount, createTestMail, createTestUser } from '../support/factories.ts';

t.setTimeout(240_000);

const MESSAGES = 400;
let redis: PrivateRedis | undefined;
let own: Awaited<ReturnType<typeof createOwnDatabase>> | undefined;
let ta: TestApp | undefined;
const procs: Proc[] = [];
t.teardown(async () => {
  for (const p of procs) await p.stop('SIGKILL');
  await ta?.close().catch(() => undefined);
  await redis?.close();
  await own?.drop().catch(() => undefined);
});


t.test('Redis killed and restarted mid-sync: the worker goes on, every message exactly once through the API', async (t) => {
  t.ok(TEST_DATABASE_URL, 'shared PostgreSQL for the own database');
  redis = await startPrivateRedis();
  own = await createOwnDatabase();
  const config = testConfig({ DATABASE_URL: own.url, REDIS_URL: redis.url, DOSSIER_SYNC_INTERVAL: '3600' });
  ta = await startTestApp({ config });
  // This process's own Redis connections reconnect by themselves; their refused connects are expected here.
  ta.redis.on('error', () => undefined);
  const db = ta.db;
  const env = processEnv(config);
  const dovecot = await getDovecot();
  const mail = await dovecot.addUser();
  const raws = Array.from({ length: MESSAGES }, (_, i) => createTestMail({ subject: `Redis ${i}`, attachment: i % 4 === 0 ? { name: `a${i}.bin`, content: randomBytes(20_000 + i) } : undefined }));
  for (let i = 0; i < raws.length; i += 200) await dovecot.appendMany(mail.user, raws.slice(i, i + 200));
  const { user: owner, email } = await createTestUser(db);
  const account = await createTestImapAccount({ db, config }, mail, { owner });
  const stored = async () => (await query<{ n: number }>(db,
    "select count(*)::int as n from message_location l join mailbox b on b.id = l.mailbox_id where b.account_id = ? and b.path = 'INBOX' and l.removed_at is null", [account.id]))[0]!.n;

  const t0 = Date.now();
  const worker = runDossier('worker', env);
  procs.push(worker);
  // The worker adopts the account through its scheduler job, which lives in Redis.
  await waitWhileRunning('the first committed batch', async () => (await stored()) > 0, 90_000, worker);
  await redis.kill();
  const killedAt = Date.now();
  const atKill = await stored();
  t.comment(`Redis killed at ${Date.now() - t0} ms with ${atKill} of ${MESSAGES} stored`);
  t.ok(atKill < MESSAGES, 'killed mid-sync');
  // Mail delivered while Redis is down: the IDLE watcher's wake-up cannot be queued until Redis is back.
  const during = [createTestMail({ subject: 'Redis during 1' }), createTestMail({ subject: 'Redis during 2' })];
  for (const raw of during) await dovecot.deliver(mail.user, raw);
  // The running sync does not need Redis: it goes on committing batches. Redis stays down until that first
  // sync is through, so its BullMQ job can only be completed (or found stalled and run again) after the restart.
  await waitWhileRunning('the sync to go on without Redis', async () => (await stored()) >= MESSAGES, 60_000, worker);
  t.comment(`${await stored()} stored while Redis was down (${Date.now() - t0} ms)`);
  t.ok(await stored() > atKill, 'batches were committed while Redis was down');
  // An outage of some seconds at least, so the clients are in their reconnect back-off, not retrying at once.
  while (Date.now() - killedAt < 5000) await new Promise((r) => setTimeout(r, 100));
  await redis.start();
  t.comment(`Redis restarted at ${Date.now() - t0} ms`);
  t.equal(worker.child.exitCode, null, 'the worker survived the outage');
  const after = createTestMail({ subject: 'Redis after' });
  await dovecot.deliver(mail.user, after);

  const total = MESSAGES + during.length + 1;
  await waitWhileRunning('every message, including those delivered during and after the outage', async () => (await stored()) >= total, 90_000, worker);
  t.comment(`all ${total} stored at ${Date.now() - t0} ms`);

  const session = await signIn(ta.app, email);
  const items = await listEveryPage<{ id: string; subject: string }>((url) => session.request('GET', url), `/api/messages?accountId=${account.id}`, 50);
  const subjects = items.map((m) => m.subject).sort();
  const expected = [...Array.from({ length: MESSAGES }, (_, i) => `Redis ${i}`), 'Redis during 1', 'Redis during 2', 'Redis after'].sort();
  t.same(subjects, expected, 'every message listed exactly once through GET /api/messages');
  t.equal(new Set(items.map((m) => m.id)).size, total, 'no id twice');
  const dup = await query<{ n: number }>(db, 'select count(*)::int as n from (select uid from message_location group by mailbox_id, uid_validity, uid having count(*) > 1) d');
  t.equal(dup[0]!.n, 0, 'no UID stored twice');
  t.equal(worker.child.exitCode, null, 'the worker still runs');
  await worker.stop('SIGTERM');
});
