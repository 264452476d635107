// GET /metrics: absent without DOSSIER_METRICS_TOKEN, refused without the right bearer token, and after
// a sync run by a worker (on BullMQ, its counters in Redis) it shows messages synced, sync errors by kind,
// lag per account, queue depths, job durations and HTTP latency in Prometheus text format.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { startAppWithWorker, type AppWithWorker } from '../support/app-worker.ts';
import { startTestApp } from '../support/app.ts';
import { createTestImapAccount, createTestMail } from '../support/factories.ts';
import { requestAccountSync } from '../../src/core/mail/accounts.ts';
import { query } from '../support/sync.ts';

const token = randomBytes(24).toString('hex');
let aw: AppWithWorker;
t.before(async () => {
  aw = await startAppWithWorker('metrics', { env: { DOSSIER_METRICS_TOKEN: token } });
});
t.teardown(() => aw.close());

const until = async (what: string, fn: () => Promise<boolean>, ms = 60_000) => {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};
const scrape = (authorization?: string) => aw.ta.app.inject({ method: 'GET', url: '/metrics', headers: authorization ? { authorization } : {} });

t.test('no token configured: there is no /metrics', async (t) => {
  const plain = await startTestApp();
  t.teardown(plain.close);
  t.equal((await plain.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 404);
  t.equal((await plain.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${token}` } })).statusCode, 404);
});

t.test('a missing or wrong token gets 401', async (t) => {
  t.equal((await scrape()).statusCode, 401);
  t.equal((await scrape(`Bearer ${token}x`)).statusCode, 401);
  t.equal((await scrape(`Bearer ${token.slice(0, -1)}`)).statusCode, 401);
  t.equal((await scrape(`Basic ${token}`)).statusCode, 401);
});

t.test('after a sync the named metrics are there', async (t) => {
  const mail = await aw.dovecot.addUser();
  await aw.dovecot.appendMany(mail.user, [createTestMail(), createTestMail(), createTestMail()]);
  const account = await createTestImapAccount(aw.ta, mail);
  const refused = await createTestImapAccount(aw.ta, { ...mail }, { password: 'not the password' });
  const synced = async (id: string, column: 'last_sync_at' | 'last_error') =>
    (await query<{ v: unknown }>(aw.ta.db, `select ${column} as v from mail_account where id = ?`, [id]))[0]?.v != null;
  await requestAccountSync(aw.ta.queue, account.id);
  await requestAccountSync(aw.ta.queue, refused.id);
  await until('the sync', () => synced(account.id, 'last_sync_at'));
  await until('the refused login', () => synced(refused.id, 'last_error'));
  // The job's duration is recorded when its handler returns, just after the account row is written.
  let text = '';
  await until('the job duration', async () => {
    const res = await scrape(`Bearer ${token}`);
    t.equal(res.statusCode, 200);
    text = res.body;
    return /dossier_job_duration_seconds_count\{job="sync-account",outcome="ok"\} 2/.test(text);
  });
  const res = await scrape(`Bearer ${token}`);
  t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  text = res.body;
  t.match(text, /^dossier_messages_synced_total 3$/m, 'messages synced');
  t.match(text, /^dossier_sync_errors_total\{kind="auth"\} 1$/m, 'sync errors by kind');
  t.match(text, new RegExp(`^dossier_sync_lag_seconds\\{account_id="${account.id}"\\} [0-9.e-]+$`, 'm'), 'lag per account');
  t.match(text, new RegExp(`^dossier_account_status\\{account_id="${refused.id}",status="error"\\} 1$`, 'm'));
  t.match(text, /^dossier_queue_jobs\{state="waiting"\} \d+$/m, 'queue depths');
  t.match(text, /^dossier_queue_jobs\{state="failed"\} \d+$/m);
  t.match(text, /^dossier_job_duration_seconds_bucket\{job="sync-account",outcome="ok",le="\+Inf"\} 2$/m, 'job durations');
  t.match(text, /^dossier_http_request_duration_seconds_count\{route="\/metrics",method="GET",status="401"\} 4$/m, 'HTTP latency by route pattern, method and status');
});
