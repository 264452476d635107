// Several workers (issue 14): worker A syncs and watches every account; B stands by. A is killed (-9),
// mail is delivered right after, and it must be visible through the API within 20 s: the per-account
// locks (the queue key in Redis, the leases in the database) are short leases that a dead holder loses
// within seconds, and B takes the accounts over. Runs on a database of its own: workers adopt every account.
import t from 'tap';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { openDb, type Db } from '../../src/core/platform/db.ts';
import { getDovecot, type MailUser } from '../support/dovecot.ts';
import type { MailAccount } from '../../src/core/mail/mail-account.entity.ts';
import { TEST_REDIS_URL, testConfig, processEnv } from '../support/env.ts';
import { freePort, runDossier, waitForHttp, waitWhileRunning, type Proc } from '../support/processes.ts';
import { query } from '../support/sync.ts';
import { createOwnDatabase } from '../support/own-database.ts';
import { createTestImapAccount, createTestMail, createTestUser } from '../support/factories.ts';

// Three processes start and sync before the kill: more than the runner's default per-file budget under load.
t.setTimeout(300_000);

const ACCOUNTS = 4;
const RESUME_WITHIN_MS = 20_000;

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


t.test('a worker killed with -9: its accounts resume on another worker, new mail visible through the API within 20 s', async (t) => {
  const config = testConfig({ DATABASE_URL: own!.url, DOSSIER_SYNC_INTERVAL: '3600' });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = processEnv(config, { PORT: String(port) });
  const dovecot = await getDovecot();
  const { user: owner, email, password } = await createTestUser(db);
  const accounts: { mail: MailUser; account: MailAccount }[] = [];
  for (let i = 0; i < ACCOUNTS; i++) {
    const mail = await dovecot.addUser();
    await dovecot.appendMany(mail.user, [createTestMail({ subject: `Before ${i}` })]);
    accounts.push({ mail, account: await createTestImapAccount({ db, config }, mail, { owner }) });
  }
  const ids = accounts.map((a) => a.account.id);
  const watchers = async () => query<{ id: string; watch_owner: string | null }>(db, 'select id, watch_owner from mail_account where id = any(?::uuid[])', [`{${ids.join(',')}}`]);
  const pidOf = (owner: string | null) => owner?.split('/')[1];

  const server = runDossier('server', env);
  const a = runDossier('worker', env);
  procs.push(server, a);
  const t0 = Date.now();
  await waitForHttp(`${base}/api/health`, server, 90_000);
  t.comment(`server up after ${Date.now() - t0} ms`);
  // A adopts every account: synced once, and A holds each one's IDLE watch.
  await waitWhileRunning('worker A to sync and watch every account', async () => {
    const stored = await query<{ n: number }>(db, "select count(*)::int as n from message_location l join mailbox b on b.id = l.mailbox_id where b.path = 'INBOX'");
    const w = await watchers();
    return stored[0]!.n === ACCOUNTS && w.every((r) => pidOf(r.watch_owner) === String(a.child.pid));
  }, 90_000, [a, server]);
  t.comment(`A synced and watches every account after ${Date.now() - t0} ms`);

  const b = runDossier('worker', env);
  procs.push(b);
  // B is attached to the queue (BullMQ lists its worker connection) and so ready to take over.
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const bull = new Queue('dossier', { connection: redis, prefix: config.queuePrefix });
  t.teardown(async () => {
    await bull.close();
    redis.disconnect();
  });
  await waitWhileRunning('worker B to attach', async () => (await bull.getWorkers()).length >= 2, 60_000, [b]);
  t.comment(`B attached after ${Date.now() - t0} ms`);

  const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  t.equal(login.status, 200, 'signed in');
  const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const subjectsOf = async (accountId: string) => {
    const res = await fetch(`${base}/api/messages?accountId=${accountId}&limit=50`, { headers: { cookie } });
    if (res.status !== 200) throw new Error(`GET /api/messages: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { items: { subject: string }[] }).items.map((m) => m.subject);
  };
  for (const [i, { account }] of accounts.entries()) t.same(await subjectsOf(account.id), [`Before ${i}`], `account ${i} synced before the kill`);

  a.child.kill('SIGKILL');
  await a.exited;
  const killedAt = Date.now();
  for (const [i, { mail }] of accounts.entries()) await dovecot.deliver(mail.user, createTestMail({ subject: `After ${i}` }));

  const visibleAfter = new Map<number, number>();
  await waitWhileRunning('the mail delivered after the kill to be visible', async () => {
    for (const [i, { account }] of accounts.entries()) {
      if (!visibleAfter.has(i) && (await subjectsOf(account.id)).includes(`After ${i}`)) visibleAfter.set(i, Date.now() - killedAt);
    }
    return visibleAfter.size === ACCOUNTS;
  }, 60_000, [b, server]);
  const times = [...visibleAfter.values()].sort((x, y) => x - y);
  t.comment(`visible after the kill: ${times.join(', ')} ms (median ${times[Math.floor(times.length / 2)]} ms)`);
  t.ok(times.at(-1)! <= RESUME_WITHIN_MS, `every account resumed within ${RESUME_WITHIN_MS / 1000} s (slowest ${times.at(-1)} ms)`);
  await waitWhileRunning('B to watch every account', async () => (await watchers()).every((r) => pidOf(r.watch_owner) === String(b.child.pid)), 30_000, [b]);
  t.pass('worker B holds every IDLE watch');
  for (const [i, { account }] of accounts.entries()) {
    const subjects = await subjectsOf(account.id);
    t.same([...subjects].sort(), [`After ${i}`, `Before ${i}`], `account ${i}: each message once`);
  }
  await b.stop('SIGTERM');
  await server.stop('SIGTERM');
});
