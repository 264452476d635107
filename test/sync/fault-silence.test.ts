// Faults (issue 14): a connection that goes silent — no FIN, no RST, nothing more in either direction, as a path that
// drops packets (a NAT entry expired, a firewall restarted) leaves it — in the middle of a FETCH and while in IDLE.
// The TCP proxy black-holes the connection; the worker must find it dead by its own timeouts (DOSSIER_IMAP_TIMEOUT,
// here 2 s; imapflow answers silence in IDLE with a NOOP and gives up when that goes unanswered), reconnect, and
// bring in the mail delivered during the silence. Without the timeout (120 s by default) nothing would arrive in time.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { listLocations, runSync, startSyncEnv, type SyncEnv } from '../support/sync.ts';
import { testConfig } from '../support/env.ts';
import { listEveryPage, signIn } from '../support/app.ts';
import { startAppWithWorker, type AppWithWorker } from '../support/app-worker.ts';
import { requestAccountSync } from '../../src/core/mail/accounts.ts';
import { createTestImapAccount, createTestMail, createTestUser } from '../support/factories.ts';

const TIMEOUT_S = '2';
/** Silence found (2 × the timeout at most), a reconnect and a sync: well inside this on a loaded machine. */
const ARRIVES_WITHIN_MS = 30_000;

let proxy: TcpProxy | undefined;
t.teardown(async () => {
  await proxy?.close();
});

const until = async (what: string, fn: () => Promise<boolean>, ms: number) => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
};

t.test('a connection silent mid-FETCH: found dead by the timeout, the sync reconnects, nothing lost or twice', async (t) => {
  const env: SyncEnv = await startSyncEnv({ config: testConfig({ DOSSIER_IMAP_TIMEOUT: TIMEOUT_S }) });
  t.teardown(() => env.close());
  proxy = await startTcpProxy({ host: env.dovecot.host, port: env.dovecot.port });
  const mail = await env.dovecot.addUser();
  const raws = Array.from({ length: 60 }, (_, i) => createTestMail({ subject: `Silent ${i}`, attachment: { name: `s${i}.bin`, content: randomBytes(8_000) } }));
  const uids = await env.dovecot.appendMany(mail.user, raws);
  const account = await createTestImapAccount(env, mail, { host: proxy.host, port: proxy.port });
  // The sync's connection goes silent some way into the sources (the listing is a few KB).
  proxy.silenceAfterBytes(200_000, 'next');
  const before = proxy.connections;
  const started = Date.now();
  const syncing = runSync(env, account.id);
  await until('the connection to go silent', async () => proxy!.silentConnections > 0, 60_000);
  const silentAt = Date.now();
  // Delivered while the sync's connection hangs: the reconnected run must bring it in too.
  const [during] = await env.dovecot.appendMany(mail.user, [createTestMail({ subject: 'Silent during' })]);

  const outcome = await syncing;
  const tookMs = Date.now() - silentAt;
  t.comment(`silent ${silentAt - started} ms into the sync; the run ended ${tookMs} ms after the silence`);
  t.equal(outcome.outcome, 'done', JSON.stringify(outcome).slice(0, 300));
  t.ok(proxy.connections - before >= 2, 'it reconnected');
  t.ok(tookMs < ARRIVES_WITHIN_MS, `the silence was noticed within ${ARRIVES_WITHIN_MS / 1000} s`);
  t.equal(proxy.silentConnections, 0, 'the silent connection was closed by the client');
  const locs = await listLocations(env.db, account.id);
  t.same(locs.map((l) => l.uid), [...uids, during], 'every message once, the one delivered during the silence included');
  t.ok(locs.every((l) => l.parse_status === 'ok'), 'all whole and parsed');
});

t.test('a connection silent while in IDLE: NOOP finds it dead, the watcher reconnects, mail delivered meanwhile arrives through the API', async (t) => {
  const aw: AppWithWorker = await startAppWithWorker('silence', { env: { DOSSIER_IMAP_TIMEOUT: TIMEOUT_S } });
  t.teardown(() => aw.close());
  const { ta, dovecot, worker } = aw;
  proxy ??= await startTcpProxy({ host: dovecot.host, port: dovecot.port });
  const mail = await dovecot.addUser();
  await dovecot.appendMany(mail.user, [createTestMail({ subject: 'Idle before' })]);
  const { user: owner, email } = await createTestUser(ta.db);
  const account = await createTestImapAccount({ db: ta.db, config: ta.config }, mail, { owner, host: proxy.host, port: proxy.port });
  const session = await signIn(ta.app, email);
  const subjects = async () => (await listEveryPage<{ subject: string }>((u) => session.request('GET', u), `/api/messages?accountId=${account.id}`, 50)).map((m) => m.subject).sort();

  const base = proxy.connections;
  await requestAccountSync(ta.queue, account.id, 'manual');
  await until('the first sync', async () => (await subjects()).length === 1, 30_000);
  // The one open connection is the watcher's, sitting in IDLE, and the sync it asks for when it starts (for mail
  // that came while nobody watched) has come and gone: connections so far = first sync, IDLE, that catch-up sync.
  const idling = () => {
    const tails = proxy!.clientTails();
    return tails.length === 1 && / IDLE\r\n$/.test(tails[0]!);
  };
  await until('the worker to hold IDLE, and nothing else open', async () => worker.deps.accounts!.watchers.watching().includes(account.id) && idling() && proxy!.connections - base >= 3, 30_000);
  proxy.silenceAfterBytes(0, 'open');
  t.equal(proxy.silentConnections, 1, 'the IDLE connection is silent');
  const silentAt = Date.now();
  await dovecot.deliver(mail.user, createTestMail({ subject: 'Idle during' }));

  await until('the mail delivered during the silence', async () => (await subjects()).includes('Idle during'), ARRIVES_WITHIN_MS);
  const arrivedMs = Date.now() - silentAt;

  t.comment(`arrived ${arrivedMs} ms after the silence began`);
  // Only the timeout can have brought it: the NOOP goes out after the timeout's quiet, and goes unanswered as long.
  t.ok(arrivedMs >= Number(TIMEOUT_S) * 1000 * 0.75, 'it came after the silence was noticed, not by another way');
  t.same(await subjects(), ['Idle before', 'Idle during'], 'each message once');
  await until('the silent connection to be closed by the client', async () => proxy!.silentConnections === 0, 10_000);
  t.pass('the silent IDLE connection was dropped');
  await until('IDLE to be held again', async () => worker.deps.accounts!.watchers.watching().includes(account.id) && proxy!.openConnections >= 1, 20_000);
  const again = Date.now();
  await dovecot.deliver(mail.user, createTestMail({ subject: 'Idle after' }));
  await until('mail after the recovery, by IDLE', async () => (await subjects()).includes('Idle after'), 20_000);
  t.comment(`new mail after the recovery visible in ${Date.now() - again} ms`);
  t.same(await subjects(), ['Idle after', 'Idle before', 'Idle during'], 'each message once');
});
