// The Clients pages in a real Chromium against the real server: a message filed to a client shows in
// the client's Log, is tagged with a reason and an area there, the log exports as a real .xlsx, a call
// is recorded by hand; and bulk contact settings are previewed (nothing saved) and then applied.
// Screenshots of the client Log in English and Spanish go to test-results/.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import type { BrowserContext } from 'playwright-core';
import { openPage, phoneViewport, saveScreenshot } from '../support/browser.ts';
import { startWebTest } from '../support/web.ts';
import { uniq, uniqEmail } from '../support/env.ts';
import { createTestAccount, createTestMessage, createTestUser } from '../support/factories.ts';

const { ta, base, browser, signIn, close } = await startWebTest();
t.teardown(close);

/** The page's own session for API calls the test makes on the user's behalf (cookie + CSRF token). */
async function api(context: BrowserContext) {
  const me = await context.request.get(`${base}/api/me`);
  const csrf = ((await me.json()) as { csrfToken: string }).csrfToken;
  const send = async (method: 'post' | 'patch' | 'put', url: string, data: unknown) => {
    const res = await context.request[method](`${base}/api${url}`, { data, headers: { 'x-csrf-token': csrf } });
    if (!res.ok()) throw new Error(`${method} ${url}: ${res.status()} ${await res.text()}`);
    return res.json();
  };
  const get = async (url: string) => (await context.request.get(`${base}/api${url}`)).json();
  return { send, get };
}

t.test('file a message to a client, tag it in the Log, export .xlsx, record a call', async (t) => {
  const { user, email, password } = await createTestUser(ta.db, 'admin', 'Carmen Ortega');
  const { context, page, problems } = await openPage(browser, { acceptDownloads: true });
  t.teardown(() => context.close());
  const { inbox } = await createTestAccount(ta.db, user);
  const subject = uniq('Modelo 303 del tercer trimestre');
  // Written two hours before it reached the mailbox (a slow server, a delayed send): lists show the first.
  const sentAt = new Date(Date.now() - 2 * 3600_000);
  const message = await createTestMessage(ta.db, ta.blobs, {
    locations: [{ mailbox: inbox, internalDate: new Date() }],
    sentAt,
    subject,
    from: { address: uniqEmail('cliente'), name: 'Lucía Pérez' },
    text: 'Adjunto las facturas del trimestre.',
  });

  await signIn(page, email, password, '/clients');
  await page.getByRole('heading', { level: 1, name: 'Clients' }).waitFor();
  const { send, get } = await api(context);
  const reason = uniq('Tax return');
  const area = uniq('VAT');
  await send('post', '/reasons', { name: reason });
  await send('post', '/areas', { name: area });

  // A new client, through the UI.
  const clientName = uniq('Panadería Ortega');
  await page.getByRole('button', { name: 'New client' }).click();
  await page.getByRole('dialog').getByLabel('Name').fill(clientName);
  await page.getByRole('dialog').getByLabel('Tax id').fill('B12345678');
  await page.getByRole('button', { name: 'Create client' }).click();
  await page.getByRole('heading', { level: 1, name: clientName }).waitFor();
  const clientId = new URL(page.url()).pathname.split('/')[2]!;
  t.match(clientId, /^[0-9a-f-]{36}$/, 'lands on the new client page');

  // The unfiled message is filed to the client (what the inbox's "file to client" does).
  const unfiled = await get(`/messages?filed=false&accountId=${inbox.account.id}`);
  t.ok(unfiled.items.some((m: { id: string }) => m.id === message.id), 'the message starts unfiled');
  await send('post', `/messages/${message.id}/clients`, { clientId });

  await page.getByRole('navigation', { name: 'Client sections' }).getByRole('link', { name: 'Log' }).click();
  await page.getByRole('heading', { name: 'Communication log' }).waitFor();
  const log = page.getByRole('table', { name: `Communication log of ${clientName}` });
  const row = log.getByRole('row').filter({ hasText: subject });
  await row.waitFor();
  t.match(await row.innerText(), /Email/, 'the filed email is in the Log with its kind');
  t.match(await row.innerText(), /Carmen Ortega/, 'filed by hand: the one who filed it is the author');
  t.match(await row.innerText(), /Lucía Pérez/, 'a third party\'s mail (no contact of the client, not the firm): Initiated by names who wrote it');
  t.notMatch(await row.innerText(), /\bFirm\b/, 'not "Firm"');

  // Tag reason and area in the detail pane.
  await row.getByRole('button', { name: subject }).click();
  const detail = page.getByRole('complementary');
  await detail.getByRole('heading', { name: subject }).waitFor();
  t.match(await detail.innerText(), /Lucía Pérez/, 'detail shows the sender');
  await detail.getByLabel('Reason').selectOption({ label: reason });
  await detail.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  await detail.getByLabel('Area').selectOption({ label: area });
  await row.getByRole('cell', { name: area }).waitFor();
  t.match(await row.innerText(), new RegExp(reason), 'the table shows the reason');
  const records = await get(`/clients/${clientId}/communications`);
  t.match(records.items[0], { kind: 'email', messageId: message.id, reason: { name: reason }, area: { name: area } }, 'tags saved on the server');

  // Export: a real download of a real .xlsx (a ZIP container: "PK").
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export .xlsx' }).click()]);
  t.match(download.suggestedFilename(), /\.xlsx$/, 'an .xlsx file name');
  const bytes = await readFile((await download.path())!);
  t.equal(bytes.subarray(0, 2).toString('latin1'), 'PK', 'the file is an xlsx (zip) container');
  t.ok(bytes.length > 1000, 'with content');

  // A manual call record.
  const callSubject = uniq('Called about the missing invoices');
  await page.getByRole('button', { name: 'New record' }).click();
  const dialog = page.getByRole('dialog', { name: 'New record' });
  await dialog.getByLabel('Kind').selectOption('call');
  await dialog.getByLabel('Subject').fill(callSubject);
  await dialog.getByLabel('Initiated by').selectOption('firm');
  await dialog.getByLabel('Reason').selectOption({ label: reason });
  await dialog.getByLabel('Notes').fill('She will send them on Monday.');
  await dialog.getByRole('button', { name: 'Save' }).click();
  const callRow = log.getByRole('row').filter({ hasText: callSubject });
  await callRow.waitFor();
  t.match(await callRow.innerText(), /Call/, 'the call is in the Log');
  t.match(await callRow.innerText(), /Carmen Ortega/, 'with its author');
  const after = await get(`/clients/${clientId}/communications?kind=call`);
  t.match(after.items, [{ subject: callSubject, kind: 'call', initiatedBy: 'firm', author: { name: 'Carmen Ortega' }, notes: 'She will send them on Monday.' }], 'saved by the server');

  // Edit the call: the detail pane is open on the record just saved; Edit changes it.
  await detail.getByRole('heading', { name: callSubject }).waitFor();
  await detail.getByRole('button', { name: 'Edit' }).click();
  const editDialog = page.getByRole('dialog', { name: 'Edit record' });
  t.equal(await editDialog.getByLabel('Subject').inputValue(), callSubject, 'the edit form starts from the record');
  await editDialog.getByLabel('Kind').selectOption('meeting');
  await editDialog.getByRole('button', { name: 'Save' }).click();
  await callRow.getByText('Meeting').waitFor();
  t.equal((await get(`/clients/${clientId}/communications?kind=meeting`)).items.length, 1, 'the kind changed on the server');

  // A record made by mistake is deleted after a confirmation.
  const mistake = uniq('Wrong client');
  await page.getByRole('button', { name: 'New record' }).click();
  await page.getByRole('dialog', { name: 'New record' }).getByLabel('Subject').fill(mistake);
  await page.getByRole('dialog', { name: 'New record' }).getByRole('button', { name: 'Save' }).click();
  await log.getByRole('row').filter({ hasText: mistake }).waitFor();
  let asked = '';
  page.once('dialog', (d) => {
    asked = d.message();
    void d.accept();
  });
  await detail.getByRole('button', { name: 'Delete record' }).click();
  await log.getByRole('row').filter({ hasText: mistake }).waitFor({ state: 'detached' });
  t.equal(asked, 'Delete this record from the log?', 'asked before deleting');
  t.equal((await get(`/clients/${clientId}/communications?q=${encodeURIComponent(mistake)}`)).items.length, 0, 'deleted on the server');

  // The search filter narrows the table.
  await page.getByRole('search').getByLabel('Search').fill(callSubject);
  await log.getByRole('row').filter({ hasText: subject }).waitFor({ state: 'detached' });
  t.equal(await log.getByRole('row').count(), 2, 'header + the one matching record');
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await log.getByRole('row').filter({ hasText: subject }).waitFor();
  await row.getByRole('button', { name: subject }).click();
  await detail.getByRole('heading', { name: subject }).waitFor();
  await page.evaluate(() => window.scrollTo(0, 0));
  await saveScreenshot(page, 'client-log-en');

  // The Emails tab lists the filed message and links to the message view.
  await page.getByRole('navigation', { name: 'Client sections' }).getByRole('link', { name: 'Emails' }).click();
  const link = page.getByRole('link', { name: subject });
  await link.waitFor();
  t.match(await link.getAttribute('href'), new RegExp(`^/inbox/${message.id}\\?back=`), 'links to the message');
  const emailRow = page.getByRole('row').filter({ hasText: subject });
  t.equal(await emailRow.locator('time').getAttribute('datetime'), sentAt.toISOString(), 'dated by its Date header, as in Inbox+ and the Log');
  await link.click();
  await page.getByRole('heading', { level: 1, name: subject }).waitFor();
  t.equal(await page.locator('.headers time').first().getAttribute('datetime'), sentAt.toISOString(), 'the message shows the Date header');
  t.ok(await page.locator('.headers').getByText('Received', { exact: true }).isVisible(), 'and when it arrived, which lists do not show');
  await page.getByRole('button', { name: 'Back', exact: true }).click();
  await page.waitForURL(`${base}/clients/${clientId}/emails`);
  await link.waitFor();
  t.pass('Back returns to the client\'s Emails tab, not to Inbox+');

  // The Audit tab lists what was done to this client.
  await page.getByRole('navigation', { name: 'Client sections' }).getByRole('link', { name: 'Audit' }).click();
  await page.getByRole('heading', { name: 'Audit trail' }).waitFor();
  await page.getByRole('cell', { name: 'Carmen Ortega' }).first().waitFor();
  t.ok((await page.getByRole('row').count()) > 2, 'changes recorded with who made them');
  await page.getByRole('cell', { name: 'Client created', exact: true }).waitFor();
  t.ok(await page.getByRole('cell', { name: 'Log record added', exact: true }).first().isVisible(), 'actions in words');

  // Spanish: the same Log, translated, dates in Spanish.
  await page.getByRole('navigation', { name: 'Client sections' }).getByRole('link', { name: 'Log' }).click();
  await page.getByLabel('Language').selectOption('es');
  await page.getByRole('heading', { name: 'Registro de comunicaciones' }).waitFor();
  await page.getByRole('row').filter({ hasText: callSubject }).getByText('Reunión').waitFor();
  t.ok(await page.getByRole('link', { name: 'Exportar .xlsx' }).isVisible(), 'export link translated');
  await page.getByRole('button', { name: callSubject }).click();
  await page.getByRole('complementary').getByRole('heading', { name: callSubject }).waitFor();
  await page.evaluate(() => window.scrollTo(0, 0));
  await saveScreenshot(page, 'client-log-es');

  // Phone width: the page itself never scrolls sideways (wide tables scroll inside their frame).
  await page.setViewportSize(phoneViewport);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  t.ok(overflow <= 0, `no sideways scrolling at phone width (overflow ${overflow}px)`);
  await saveScreenshot(page, 'client-log-es-phone');
  t.same(problems, [], 'no script errors');
});

t.test('bulk contact settings: a dry run changes nothing, then apply, with the report', async (t) => {
  const { email, password } = await createTestUser(ta.db, 'staff', 'Pieter de Vries');
  const { context, page, problems } = await openPage(browser);
  t.teardown(() => context.close());
  await signIn(page, email, password, '/clients');
  await page.getByRole('heading', { level: 1, name: 'Clients' }).waitFor();
  const { send, get } = await api(context);

  const prefix = uniq('Bulk');
  const ids: string[] = [];
  for (const n of [1, 2]) {
    const client = await send('post', '/clients', { name: `${prefix} client ${n}` });
    await send('post', '/contacts', { name: `Contact ${n}`, emails: [{ address: uniqEmail(`bulk${n}`) }], clientIds: [client.id] });
    ids.push(client.id);
  }

  await page.getByLabel('Search clients').fill(prefix);
  const table = page.getByRole('table', { name: 'Clients' });
  await table.getByRole('row').filter({ hasText: `${prefix} client 2` }).waitFor();
  t.equal(await table.getByRole('row').count(), 3, 'the search finds the two clients');
  t.same(await table.getByRole('row').nth(1).getByRole('cell').allInnerTexts().then((c) => c.slice(3, 6)), ['1', 'On', 'On'], 'contacts, notify and sync columns');

  await page.getByLabel('Select all clients shown').check();
  await page.getByText('2 selected').waitFor();
  await page.getByRole('button', { name: 'Contact settings…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Contact settings for 2 clients' });
  t.ok(await dialog.getByRole('button', { name: 'Apply' }).isDisabled(), 'apply waits for a preview');
  await dialog.getByLabel('Notify contacts').selectOption('disable');
  await dialog.getByRole('button', { name: 'Preview' }).click();
  await dialog.getByText('Preview (nothing saved yet)').waitFor();
  t.match(await dialog.getByRole('region', { name: 'Result' }).innerText(), /2 addresses would change\./, 'the dry run reports what would change');
  for (const id of ids) t.equal((await get(`/clients/${id}`)).notify, true, 'nothing saved by the preview');

  await dialog.getByRole('button', { name: 'Apply' }).click();
  await dialog.getByText('Done').waitFor();
  const report = await dialog.getByRole('region', { name: 'Result' }).innerText();
  t.match(report, /2 addresses changed\./, 'the report after applying');
  t.match(report, new RegExp(`${prefix} client 1: 1 changed, 0 unchanged`), 'per client');
  for (const id of ids) t.equal((await get(`/clients/${id}`)).notify, false, 'notify is off on the server');
  await saveScreenshot(page, 'clients-bulk-report-en');
  await dialog.getByRole('button', { name: 'Close' }).first().click();
  await table.getByRole('row').nth(1).getByRole('cell', { name: 'Off' }).waitFor();
  t.same(await table.getByRole('row').nth(1).getByRole('cell').allInnerTexts().then((c) => c.slice(4, 6)), ['Off', 'On'], 'the list shows notify off, sync still on');
  t.same(problems, [], 'no script errors');
});
