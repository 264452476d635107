// Faults (issue 14): the server's side changes under a sync. UIDVALIDITY changing twice (once between runs, once in
// the middle of one) and messages expunged while a sync runs: afterwards every message the server still has is listed
// exactly once through the API, and nothing expunged is.
import t from 'tap';
import { listLocations, query, runSync, startSyncEnv, type SyncEnv } from '../support/sync.ts';
import { listEveryPage, signIn, startTestApp, type TestApp } from '../support/app.ts';
import { createTestImapAccount, createTestMail, createTestUser } from '../support/factories.ts';

let env: SyncEnv;
let ta: TestApp;
t.before(async () => {
  env = await startSyncEnv();
  ta = await startTestApp({ config: env.config });
});
t.teardown(async () => {
  await ta?.close();
  await env?.close();
});

const until = async (what: string, fn: () => Promise<boolean>, ms: number) => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
};

async function apiSubjects(email: string, accountId: string): Promise<string[]> {
  const s = await signIn(ta.app, email);
  // A page size that does not divide the counts, so page boundaries fall everywhere.
  const items = await listEveryPage<{ subject: string }>((u) => s.request('GET', u), `/api/messages?accountId=${accountId}`, 7);
  return items.map((m) => m.subject).sort();
}

const liveCount = async (accountId: string, path: string) => (await query<{ n: number }>(env.db,
  'select count(*)::int as n from message_location l join mailbox b on b.id = l.mailbox_id where b.account_id = ? and b.path = ? and l.removed_at is null', [accountId, path]))[0]!.n;

t.test('UIDVALIDITY changes twice, the second time in the middle of a sync: each message once, nothing re-saved', async (t) => {
  const mail = await env.dovecot.addUser();
  await env.dovecot.createFolder(mail.user, 'Clients');
  const subjectsOf = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix} ${i}`);
  await env.dovecot.appendMany(mail.user, subjectsOf('First', 250).map((subject) => createTestMail({ subject })), { folder: 'Clients' });
  const { user: owner, email } = await createTestUser(env.db);
  const account = await createTestImapAccount(env, mail, { owner, folders: ['Clients'] });
  t.equal((await runSync(env, account.id)).outcome, 'done');
  const v1 = (await env.dovecot.folderStatus(mail.user, 'Clients')).uidvalidity;
  const contentRows = async () => (await query<{ n: number }>(env.db,
    'select count(distinct l.message_id)::int as n from message_location l join mailbox b on b.id = l.mailbox_id where b.account_id = ?', [account.id]))[0]!.n;

  // First change, between runs, with new mail in the recreated folder.
  const v2 = (await env.dovecot.recreateFolder(mail.user, 'Clients')).uidvalidity;
  t.not(v2, v1, 'UIDVALIDITY changed once');
  await env.dovecot.appendMany(mail.user, subjectsOf('Second', 3).map((subject) => createTestMail({ subject })), { folder: 'Clients' });
  t.equal((await runSync(env, account.id)).outcome, 'done');
  t.equal(await liveCount(account.id, 'Clients'), 253, 'the folder re-listed under the new UIDVALIDITY');

  // Second change while a sync re-lists the folder: forget the stored state's validity by recreating once more
  // and let the sync start fetching, then recreate it again under it.
  const v3 = (await env.dovecot.recreateFolder(mail.user, 'Clients')).uidvalidity;
  t.not(v3, v2, 'UIDVALIDITY changed twice');
  const [box] = await query<{ id: string }>(env.db, "select id from mailbox where account_id = ? and path = 'Clients'", [account.id]);
  const running = runSync(env, account.id);
  // The reset marks the old locations removed; the first re-listed batch brings some back.
  await until('the re-listing to be under way', async () => {
    const r = await query<{ uid_validity: string; n: number }>(env.db,
      'select b.uid_validity::text, (select count(*)::int from message_location l where l.mailbox_id = b.id and l.removed_at is null and l.uid_validity = b.uid_validity) as n from mailbox b where b.id = ?', [box!.id]);
    return r[0]!.uid_validity === String(v3) && r[0]!.n > 0;
  }, 30_000);
  const v4 = (await env.dovecot.recreateFolder(mail.user, 'Clients')).uidvalidity;
  t.not(v4, v3, 'UIDVALIDITY changed a third time, under a running sync');
  await env.dovecot.appendMany(mail.user, subjectsOf('Third', 2).map((subject) => createTestMail({ subject })), { folder: 'Clients' });
  const outcome = await running;
  t.comment(`the run under the change: ${JSON.stringify(outcome).slice(0, 300)}`);
  // Whatever that run made of it, the next run finds the folder as it is.
  t.equal((await runSync(env, account.id)).outcome, 'done');

  const locs = await listLocations(env.db, account.id, 'Clients');
  const serverUids = await env.dovecot.listUids(mail.user, 'Clients');
  t.same(locs.map((l) => l.uid), serverUids, 'the live locations are exactly the server\'s UIDs');
  const [state] = await query<{ uid_validity: string }>(env.db, 'select uid_validity::text from mailbox where id = ?', [box!.id]);
  t.equal(state!.uid_validity, String(v4), 'the folder is at the latest UIDVALIDITY');
  const expected = [...subjectsOf('First', 250), ...subjectsOf('Second', 3), ...subjectsOf('Third', 2)].sort();
  t.same(await apiSubjects(email, account.id), expected, 'every message listed exactly once through the API');
  t.equal(await contentRows(), 255, 'one content row per message: the re-listings linked what was stored');
});

t.test('messages expunged while a sync runs: the rest stored once, the expunged ones not listed', async (t) => {
  const mail = await env.dovecot.addUser();
  const subjects = Array.from({ length: 400 }, (_, i) => `Exp ${i}`);
  const uids = await env.dovecot.appendMany(mail.user, subjects.map((subject) => createTestMail({ subject })));
  const { user: owner, email } = await createTestUser(env.db);
  const account = await createTestImapAccount(env, mail, { owner });
  const running = runSync(env, account.id);
  await until('the first committed batch', async () => (await liveCount(account.id, 'INBOX')) > 0, 30_000);
  // Some already stored, the rest listed but not fetched yet (the listing comes before the first batch).
  const gone = [...uids.slice(0, 30).filter((_, i) => i % 3 === 0), ...uids.slice(200).filter((_, i) => i % 4 === 1)];
  await env.dovecot.expunge(mail.user, 'INBOX', gone);
  const stillStoring = (await liveCount(account.id, 'INBOX')) < 400 - gone.length;
  t.comment(`expunged ${gone.length} while the sync ran (${stillStoring ? 'mid-fetch' : 'after its fetch'})`);
  const outcome = await running;
  t.equal(outcome.outcome, 'done', JSON.stringify(outcome).slice(0, 300));
  // Expunges of mail already stored are seen by the next run (or already by this one's expunge check).
  t.equal((await runSync(env, account.id)).outcome, 'done');

  const locs = await listLocations(env.db, account.id);
  const goneSet = new Set(gone);
  const kept = uids.filter((u) => !goneSet.has(u));
  t.same(locs.map((l) => l.uid), kept, 'exactly the UIDs the server still has, each once');
  const expected = subjects.filter((_, i) => !goneSet.has(uids[i]!)).sort();
  t.same(await apiSubjects(email, account.id), expected, 'every remaining message listed exactly once through the API, no expunged one');
});
