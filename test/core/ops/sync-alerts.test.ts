// Sync incidents notify the account's owner and the administrators once (bell, and email for those who
// asked for it), close when the account is healthy, and notify again when the problem comes back.
import t from 'tap';
import { openDb } from '../../../src/core/platform/db.ts';
import { createLocalQueue } from '../../../src/core/platform/jobs.ts';
import { runSyncAlertScan } from '../../../src/core/ops/sync-alerts.ts';
import { testConfig } from '../../support/env.ts';
import { createTestAccount, createTestUser } from '../../support/factories.ts';

const config = testConfig({ DOSSIER_SYNC_INTERVAL: '60' });
const db = await openDb(config, { migrate: false, poolMax: 3 });
const queue = createLocalQueue();
t.teardown(async () => {
  await queue.close();
  await db.close();
});

const exec = (sql: string, params: unknown[] = []) => db.em.fork().execute(sql, params);
const notes = async (userId: string, kind: string) =>
  (await db.em.fork().execute<{ n: number }[]>('select count(*)::int as n from notification where user_id = ? and kind = ?', [userId, kind]))[0]!.n;
const mails = async (email: string) =>
  (await db.em.fork().execute<{ n: number }[]>(`select count(*)::int as n from outbox where kind = 'staff_notification' and "to"::text like ?`, [`%${email}%`]))[0]!.n;

const { user: owner, email: ownerEmail } = await createTestUser(db, 'staff');
const { user: admin } = await createTestUser(db, 'admin');
const { account } = await createTestAccount(db, owner);
// An email copy needs a public mailbox to send from, and the user's wish.
await createTestAccount(db, admin, { visibility: 'public' });
await exec('update app_user set notify_by_email = true where id = ?', [owner.id]);
await exec('update mail_account set last_sync_at = now() where id = ?', [account.id]);
const scan = () => runSyncAlertScan(db, queue, { syncIntervalSeconds: config.syncIntervalSeconds, accountIds: [account.id] });

t.test('a healthy account raises nothing', async (t) => {
  t.same(await scan(), { opened: [], closed: [] });
});

t.test('needs_reauth: owner and admins, once', async (t) => {
  await exec(`update mail_account set status = 'needs_reauth' where id = ?`, [account.id]);
  t.same((await scan()).opened, [{ accountId: account.id, kind: 'needs_reauth' }]);
  t.same((await scan()).opened, [], 'the next check adds nothing');
  t.equal(await notes(owner.id, 'sync_needs_reauth'), 1, 'the owner is told once');
  t.equal(await notes(admin.id, 'sync_needs_reauth'), 1, 'an administrator is told once');
  t.equal(await mails(ownerEmail), 1, 'by email too, as the owner asked');
  await exec(`update mail_account set status = 'idle', last_sync_at = now() where id = ?`, [account.id]);
  t.same((await scan()).closed, [{ accountId: account.id, kind: 'needs_reauth' }], 'closed when healthy again');
});

t.test('stalled for three intervals: once per incident', async (t) => {
  await exec(`update mail_account set last_sync_at = now() - interval '150 seconds' where id = ?`, [account.id]);
  t.same((await scan()).opened, [], 'two and a half intervals is not stalled yet');
  await exec(`update mail_account set last_sync_at = now() - interval '1 hour' where id = ?`, [account.id]);
  t.same((await scan()).opened, [{ accountId: account.id, kind: 'stalled' }]);
  await scan();
  t.equal(await notes(owner.id, 'sync_stalled'), 1);
  t.equal(await notes(admin.id, 'sync_stalled'), 1);
  await exec('update mail_account set last_sync_at = now() where id = ?', [account.id]);
  t.same((await scan()).closed, [{ accountId: account.id, kind: 'stalled' }]);
  await exec(`update mail_account set last_sync_at = now() - interval '1 hour' where id = ?`, [account.id]);
  await scan();
  t.equal(await notes(owner.id, 'sync_stalled'), 2, 'a new incident after recovery notifies again');
  await exec('update mail_account set last_sync_at = now() where id = ?', [account.id]);
  await scan();
});

t.test('missing mail found by reconciliation', async (t) => {
  await exec(`update mailbox set missing_messages = 2 where account_id = ? and path = 'INBOX'`, [account.id]);
  t.same((await scan()).opened, [{ accountId: account.id, kind: 'missing' }]);
  await scan();
  t.equal(await notes(owner.id, 'sync_missing'), 1);
  await exec(`update mailbox set missing_messages = 0 where account_id = ?`, [account.id]);
  t.same((await scan()).closed, [{ accountId: account.id, kind: 'missing' }]);
});
