// Reconciliation against a real Dovecot: a lost location row, and mail the cursor passed without storing
// it, are found by comparing the server's UIDs with the stored locations and fetched exactly once; the
// folder's `missing` in GET /api/sync-health's query follows what is left.
import t from 'tap';
import { getFolder, listLocations, query, runSync, startSyncEnv, type SyncEnv } from '../support/sync.ts';
import { createTestImapAccount, createTestMail, createTestUser } from '../support/factories.ts';
import { reconcileAccount } from '../../src/sync/reconcile-account.ts';
import { listSyncHealth } from '../../src/core/mail/sync-health.ts';

let env: SyncEnv;
t.before(async () => {
  env = await startSyncEnv();
});
t.teardown(() => env.close());

const reconcile = (accountId: string) => reconcileAccount(env.deps, { pool: env.runtime.pool }, accountId);
const rowsOf = async (accountId: string, uid: number) =>
  (await query<{ n: number }>(env.db, `select count(*)::int as n from message_location l join mailbox b on b.id = l.mailbox_id
    where b.account_id = ? and b.path = 'INBOX' and l.uid = ?`, [accountId, uid]))[0]!.n;

t.test('a deleted location row is fetched again, once', async (t) => {
  const mail = await env.dovecot.addUser();
  const uids = await env.dovecot.appendMany(mail.user, Array.from({ length: 5 }, (_, i) => createTestMail({ subject: `Kept ${i}` })));
  const account = await createTestImapAccount(env, mail);
  t.equal((await runSync(env, account.id)).outcome, 'done');
  const before = await listLocations(env.db, account.id);
  t.equal(before.length, 5);
  const lost = before[2]!;
  await query(env.db, `delete from message_location where uid = ? and mailbox_id = (select id from mailbox where account_id = ? and path = 'INBOX')`, [lost.uid, account.id]);
  t.equal((await listLocations(env.db, account.id)).length, 4);

  const r = await reconcile(account.id);
  t.equal(r.outcome, 'done', JSON.stringify(r));
  if (r.outcome !== 'done') return;
  t.match(r.folders.INBOX, { missingBefore: 1, fetched: 1, missing: 0 });
  const after = await listLocations(env.db, account.id);
  t.same(after.map((l) => l.uid), uids, 'every UID stored again');
  t.equal(after.find((l) => l.uid === lost.uid)!.message_id, lost.message_id, 'the stored content is linked again, not stored twice');

  const again = await reconcile(account.id);
  t.match(again, { outcome: 'done', folders: { INBOX: { missingBefore: 0, fetched: 0, missing: 0 } } });
  t.equal(await rowsOf(account.id, lost.uid), 1, 'exactly one location for the UID');
  t.equal((await getFolder(env.db, account.id))!.stored_messages, 5);
});

t.test('mail the cursor passed is fetched by reconciliation, once', async (t) => {
  const mail = await env.dovecot.addUser();
  await env.dovecot.appendMany(mail.user, [createTestMail(), createTestMail()]);
  const account = await createTestImapAccount(env, mail);
  await runSync(env, account.id);
  const [skipped] = await env.dovecot.appendMany(mail.user, [createTestMail({ subject: 'Skipped by the cursor' })]);
  // The cursor moves past the new UID without storing it (as a lost download once could make it).
  await query(env.db, `update mailbox set last_uid = ? where account_id = ? and path = 'INBOX'`, [skipped, account.id]);
  await runSync(env, account.id);
  t.equal((await listLocations(env.db, account.id)).length, 2, 'the sync alone does not see it');
  const owner = (await createTestUser(env.db, 'admin')).user;
  const health = async () => (await listSyncHealth(env.db.em.fork(), owner)).find((a) => a.accountId === account.id)!.folders.find((f) => f.path === 'INBOX')!;
  t.match(await health(), { serverCount: 3, storedCount: 2, missing: 1 }, 'sync health shows the gap');

  const r = await reconcile(account.id);
  t.match(r, { outcome: 'done', folders: { INBOX: { server: 3, missingBefore: 1, fetched: 1, missing: 0 } } });
  const locs = await listLocations(env.db, account.id);
  t.same(locs.map((l) => l.subject).includes('Skipped by the cursor'), true);
  t.match(await health(), { serverCount: 3, storedCount: 3, missing: 0 }, 'and no gap after reconciliation');

  await runSync(env, account.id);
  await reconcile(account.id);
  t.equal(await rowsOf(account.id, skipped!), 1, 'exactly once after another sync and reconciliation');
  t.equal((await listLocations(env.db, account.id)).length, 3);
});
