// Settings → Sync health in a real Chromium against the real server: a staff member's mailbox with mail
// missing shows its status, last problem and, per folder, the server's and Dossier's counts and the gap;
// opened at the bell's link /settings/sync-health. (Counts are set as a sync would
// leave them; the sync and reconciliation themselves are tested in test/sync.)
import t from 'tap';
import { openPage, saveScreenshot } from '../support/browser.ts';
import { startWebTest } from '../support/web.ts';
import { createTestAccount, createTestUser } from '../support/factories.ts';
import { Mailbox, MailAccount } from '../../src/core/mail/mail-account.entity.ts';

const { ta, browser, signIn, close } = await startWebTest();
t.teardown(close);

t.test('a mailbox with missing mail', async (t) => {
  const { user, email, password } = await createTestUser(ta.db, 'staff', 'Hana Visser');
  const { account, inbox } = await createTestAccount(ta.db, user);
  const em = ta.db.em.fork();
  Object.assign(await em.findOneOrFail(Mailbox, { id: inbox.id }), { serverMessages: 120, storedMessages: 117, syncedAt: new Date() });
  Object.assign(await em.findOneOrFail(MailAccount, { id: account.id }), { status: 'error', lastSyncAt: new Date(), lastError: 'Cannot reach the mail server: the connection timed out' });
  await em.flush();

  const { context, page, problems } = await openPage(browser);
  t.teardown(() => context.close());
  await signIn(page, email, password, '/settings/sync-health');
  const section = page.locator('#settings-sync-health');
  await section.getByRole('heading', { name: 'Sync health' }).waitFor();
  const box = section.locator(`[data-account="${account.id}"]`);
  await box.getByRole('heading', { name: account.name }).waitFor();
  t.ok(await box.getByText('Problem', { exact: true }).isVisible(), 'the status in words');
  t.ok(await box.getByText('3 messages missing').isVisible(), 'the gap, summed');
  t.ok(await box.getByText('Cannot reach the mail server: the connection timed out').isVisible(), 'the last problem');
  const row = box.getByRole('row').filter({ hasText: 'INBOX' });
  t.same((await row.getByRole('cell').allTextContents()).slice(0, 4), ['INBOX', '120', '117', '3'], 'server, stored, missing per folder');
  await saveScreenshot(page, 'settings-sync-health', { fullPage: false });
  t.same(problems, [], 'no console errors');
});
