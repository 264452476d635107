// Faults (issue 14): PostgreSQL stopped (immediate: every backend killed, crash recovery at start) in the middle of a
// batch and started again. A private PostgreSQL on a free port (never the machine's: every test file shares that one),
// a real worker process: it keeps going after the restart, and every message is listed exactly once through the API.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { openDb } from '../../src/core/platform/db.ts';
import { testConfig, processEnv } from '../support/env.ts';
import { getDovecot } from '../support/dovecot.ts';
import { runDossier, waitWhileRunning, type Proc } from '../support/processes.ts';
import { listEveryPage, signIn, startTestApp, type TestApp } from '../support/app.ts';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-services.ts';
import { query } from '../support/sync.ts';
import { createTestImapAccount, createTestMail, createTestUser } from '../support/factories.ts';

t.setTimeout(240_000);

const MESSAGES = 400;
let pg: PrivatePostgres | undefined;
let ta: TestApp | undefined;
const procs: Proc[] = [];
t.teardown(async () => {
  for (const p of procs) await p.stop('SIGKILL');
  await ta?.close().catch(() => undefined);
  await pg?.close();
});


t.test('PostgreSQL stopped mid-batch and restarted: the worker keeps going, every message exactly once through the API', async (t) => {
  pg = await startPrivatePostgres();
  const url = await pg.createDatabase('dossier_fault');
  // Scheduled runs every 5 s: a run that failed while the database was down is followed by the next one.
  const config = testConfig({ DATABASE_URL: url, DOSSIER_SYNC_INTERVAL: '5' });
  await (await openDb(config)).close(); // migrates
  ta = await startTestApp({ config });
  const db = ta.db;
  const env = processEnv(config, { DOSSIER_SYNC_INTERVAL: '5' });
  const dovecot = await getDovecot();
  const mail = await dovecot.addUser();
  const raws = Array.from({ length: MESSAGES }, (_, i) => createTestMail({ subject: `Pg ${i}`, attachment: i % 4 === 0 ? { name: `a${i}.bin`, content: randomBytes(20_000 + i) } : undefined }));
  for (let i = 0; i < raws.length; i += 200) await dovecot.appendMany(mail.user, raws.slice(i, i + 200));
  const { user: owner, email } = await createTestUser(db);
  const account = await createTestImapAccount({ db, config }, mail, { owner });
  const stored = async () => (await query<{ n: number }>(db,
    "select count(*)::int as n from message_location l join mailbox b on b.id = l.mailbox_id where b.account_id = ? and b.path = 'INBOX' and l.removed_at is null", [account.id]))[0]!.n;

  const t0 = Date.now();
  const worker = runDossier('worker', env);
  procs.push(worker);
  await waitWhileRunning('the first committed batch', async () => (await stored()) > 0, 90_000, worker);
  const before = await stored();
  await pg.stopImmediate();
  const downAt = Date.now();
  t.comment(`PostgreSQL stopped at ${downAt - t0} ms, ${before} of ${MESSAGES} stored`);
  t.ok(before < MESSAGES, 'stopped mid-sync');
  // Mail delivered while the database is down.
  await dovecot.deliver(mail.user, createTestMail({ subject: 'Pg during' }));
  // Down for a few seconds: batches in flight fail, lease renewals fail, the pool's idle connections are gone.
  while (Date.now() - downAt < 4000) await new Promise((r) => setTimeout(r, 100));
  await pg.start();
  t.comment(`PostgreSQL started again at ${Date.now() - t0} ms`);
  t.equal(worker.child.exitCode, null, 'the worker survived the outage');
  await dovecot.deliver(mail.user, createTestMail({ subject: 'Pg after' }));

  const total = MESSAGES + 2;
  await waitWhileRunning('every message, including those delivered during and after the outage', async () => (await stored()) >= total, 120_000, worker);
  t.comment(`all ${total} stored at ${Date.now() - t0} ms`);

  const session = await signIn(ta.app, email);
  const items = await listEveryPage<{ id: string; subject: string }>((u) => session.request('GET', u), `/api/messages?accountId=${account.id}`, 50);
  const expected = [...Array.from({ length: MESSAGES }, (_, i) => `Pg ${i}`), 'Pg during', 'Pg after'].sort();
  t.same(items.map((m) => m.subject).sort(), expected, 'every message listed exactly once through GET /api/messages');
  const orphans = await query<{ n: number }>(db, 'select count(*)::int as n from message m where not exists (select 1 from message_location l where l.message_id = m.id)');
  t.equal(orphans[0]!.n, 0, 'no content row without its location (nothing half-committed)');
  const noBlob = await query<{ n: number }>(db, 'select count(*)::int as n from message m where not exists (select 1 from blob b where b.sha256 = m.raw_blob)');
  t.equal(noBlob[0]!.n, 0, 'every message has its raw source');
  t.equal(worker.child.exitCode, null, 'the worker still runs');
  await worker.stop('SIGTERM');
});
