// Contacts in several clients in a real Chromium (issue 15): on the client's Overview a contact of two clients
// is set to ask which client; their new mail then waits in Inbox+'s "Needs a client" view (with its count) and in
// no client's log, and choosing a client there files it and takes it out of the view.
import t from 'tap';
import { openPage } from '../support/browser.ts';
import { startWebTest } from '../support/web.ts';
import { uniq, uniqEmail } from '../support/env.ts';
import { createFiledTestMessage, createTestAccount, createTestClient, createTestContact, createTestUser, listMessageRecords } from '../support/factories.ts';

const { ta, base, browser, signIn, close } = await startWebTest();
t.teardown(close);
const filing = { blobs: ta.blobs, maxAttachmentBytes: ta.config.maxAttachmentBytes };

t.test('ask which client → Needs a client (counted) → choose a client', async (t) => {
  const { user, email, password } = await createTestUser(ta.db, 'staff', 'Marta Ruiz');
  const { context, page, problems } = await openPage(browser);
  t.teardown(() => context.close());
  const { inbox } = await createTestAccount(ta.db, user);
  const home = await createTestClient(ta.db, uniq('Garcia household'));
  const company = await createTestClient(ta.db, uniq('Garcia Imports SL'));
  const address = uniqEmail('garcia');
  // Added by the mailbox's owner: their consent to file their private mail (issue 12).
  await createTestContact(ta.db, filing, { name: 'Luis Garcia', emails: [address], clientIds: [home.id, company.id], actor: user });

  await signIn(page, email, password, `/clients/${home.id}`);
  const choice = page.getByLabel('Mail from this contact goes to');
  await choice.waitFor();
  t.equal(await choice.inputValue(), 'all', 'all clients by default');
  // Saved, then the card reloads the contact (its first load is done: the select is shown): the choice shown is the stored one.
  const saved = page.waitForResponse((r) => r.url().includes('/api/contacts/') && r.request().method() === 'PATCH');
  const reloaded = page.waitForResponse((r) => r.url().includes('/api/contacts/') && r.request().method() === 'GET');
  await choice.selectOption({ label: 'Ask each time (Needs a client)' });
  t.equal((await saved).status(), 200);
  await reloaded;
  t.equal(await choice.inputValue(), 'ask');

  const subject = uniq('Invoices for both');
  const { message } = await createFiledTestMessage(ta.db, ta.blobs, { subject, from: { address, name: 'Luis Garcia' }, locations: [{ mailbox: inbox }] }, filing);
  t.same(await listMessageRecords(ta.db, message.id), [], 'in no client\'s log');

  await page.goto(`${base}/inbox`);
  const views = page.getByRole('navigation', { name: 'Inbox views' });
  const tab = views.getByRole('link', { name: /Needs a client/ });
  await tab.getByLabel('1 message needs a client').waitFor();
  await tab.click();
  await page.waitForURL(/ambiguous=true/);
  const row = page.locator('.message-item', { hasText: subject });
  // The view lists only the waiting message (all mail, once loaded, has the firm's filed mail too).
  await page.waitForFunction(() => document.querySelectorAll('.message-item').length === 1 && !!document.querySelector('.message-item .row-file'));
  await row.waitFor();
  t.equal(await page.locator('.message-item').count(), 1, 'only the waiting message');
  await row.getByRole('button', { name: 'Choose client' }).click();
  const dialog = page.getByRole('dialog', { name: 'File to client' });
  await dialog.getByLabel('Search clients').fill(company.name);
  await dialog.getByRole('button', { name: company.name }).click();
  await page.getByText('Nothing waits for a client').waitFor();
  await tab.locator('.badge').waitFor({ state: 'detached' });
  t.equal(await tab.locator('.badge').count(), 0, 'the count is gone');
  t.same((await listMessageRecords(ta.db, message.id)).map((r) => r.client_id), [company.id], 'filed to the chosen client only');
  t.same(problems, [], 'no console errors');
});
