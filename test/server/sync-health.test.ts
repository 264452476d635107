// GET /api/sync-health: admins see every account, staff their own and the public ones; each folder's
// counts come from what the sync stored, with `missing` = server count − stored count.
import t from 'tap';
import { Mailbox } from '../../src/core/mail/mail-account.entity.ts';
import { startTestApp, userSession, type TestApp } from '../support/app.ts';
import { createTestAccount } from '../support/factories.ts';

let ta: TestApp;
t.before(async () => {
  ta = await startTestApp();
});
t.teardown(() => ta.close());

type Item = { accountId: string; name: string; status: string; lastSyncAt: string | null; lastError: string | null; folders: { path: string; serverCount: number; storedCount: number; missing: number; lastSyncAt: string | null }[] };

t.test('sync health per visible account and folder', async (t) => {
  const admin = await userSession(ta, 'admin');
  const alice = await userSession(ta, 'staff');
  const bob = await userSession(ta, 'staff');
  const mine = await createTestAccount(ta.db, alice.user);
  const others = await createTestAccount(ta.db, bob.user);
  const shared = await createTestAccount(ta.db, admin.user, { visibility: 'public' });
  const syncedAt = new Date('2026-12-01T10:00:00Z');
  const em = ta.db.em.fork();
  const inbox = await em.findOneOrFail(Mailbox, { id: mine.inbox.id });
  Object.assign(inbox, { serverMessages: 120, storedMessages: 117, syncedAt });
  await em.flush();

  const seen = async (s: typeof admin) => {
    const res = await s.request('GET', '/api/sync-health');
    t.equal(res.statusCode, 200);
    return (res.json() as { items: Item[] }).items;
  };
  const ids = (items: Item[]) => new Set(items.map((i) => i.accountId));

  const forAlice = await seen(alice);
  t.ok(ids(forAlice).has(mine.account.id) && ids(forAlice).has(shared.account.id), 'staff see their own and public accounts');
  t.notOk(ids(forAlice).has(others.account.id), 'but not another user\'s private account');
  const item = forAlice.find((i) => i.accountId === mine.account.id)!;
  t.match(item, { name: mine.account.name, status: 'idle', lastSyncAt: null, lastError: null });
  t.same(item.folders, [
    { path: 'INBOX', serverCount: 120, storedCount: 117, missing: 3, lastSyncAt: syncedAt.toISOString() },
    { path: 'Sent', serverCount: 0, storedCount: 0, missing: 0, lastSyncAt: null },
  ], 'stored counts per folder');

  const forAdmin = await seen(admin);
  for (const a of [mine, others, shared]) t.ok(ids(forAdmin).has(a.account.id), 'admins see every account');

  const anon = await ta.app.inject({ method: 'GET', url: '/api/sync-health' });
  t.equal(anon.statusCode, 401, 'signed-out callers get nothing');
});
