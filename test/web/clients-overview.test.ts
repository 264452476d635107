// The client page's Overview and Documents tabs and the CSV import, in a real Chromium against the real
// server: adding a contact address previews and then files the mail it matches, the address switches
// save as they are flipped; documents upload, rename, become visible to the client and download; a CSV
// import is checked (nothing saved) before it runs.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import type { BrowserContext } from 'playwright-core';
import { openPage, phoneViewport, saveScreenshot } from '../support/browser.ts';
import { startWebTest } from '../support/web.ts';
import { uniq, uniqEmail } from '../support/env.ts';
import { createTestAccount, createTestMessage, createTestUser } from '../support/factories.ts';

const { ta, base, browser, signIn, close } = await startWebTest();
t.teardown(close);

async function api(context: BrowserContext) {
  const me = await context.request.get(`${base}/api/me`);
  const csrf = ((await me.json()) as { csrfToken: string }).csrfToken;
  return {
    post: async (url: string, data: unknown) => (await context.request.post(`${base}/api${url}`, { data, headers: { 'x-csrf-token': csrf } })).json(),
    get: async (url: string) => (await context.request.get(`${base}/api${url}`)).json(),
  };
}

t.test('adding a contact address previews and files its mail; the switches save', async (t) => {
  const { user, email, password } = await createTestUser(ta.db, 'staff', 'Sofía Marín');
  const { context, page, problems } = await openPage(browser);
  t.teardown(() => context.close());
  const { inbox } = await createTestAccount(ta.db, user);
  const address = uniqEmail('gerente');
  const subject = uniq('Nóminas de octubre');
  await createTestMessage(ta.db, ta.blobs, { locations: [{ mailbox: inbox }], subject, from: { address, name: 'Jorge Gil' } });

  await signIn(page, email, password, '/clients');
  await page.getByRole('heading', { level: 1, name: 'Clients' }).waitFor();
  const { post, get } = await api(context);
  const client = await post('/clients', { name: uniq('Talleres Gil') });
  await page.goto(`${base}/clients/${client.id}`);
  await page.getByRole('heading', { level: 1, name: client.name }).waitFor();
  await page.getByText('No contacts yet.', { exact: false }).waitFor();

  await page.getByRole('button', { name: 'Add contact' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add contact' });
  await dialog.getByLabel('Contact name').fill('Jorge Gil');
  await dialog.getByLabel('Email address (optional)').fill(address);
  await dialog.getByText('Adding this address files 1 existing message to this client.').waitFor();
  t.pass('the filing preview counts the message the address would file');
  await dialog.getByRole('button', { name: 'Add', exact: true }).click();
  await page.getByRole('status').filter({ hasText: '1 existing message was filed to this client.' }).waitFor();

  const settings = page.getByRole('group', { name: `Settings for ${address}` });
  await settings.waitFor();
  t.ok(await settings.getByRole('switch', { name: 'Sync mail' }).isChecked(), 'sync on by default');
  t.ok(await settings.getByRole('switch', { name: 'Notify' }).isChecked(), 'notify on by default');
  t.notOk(await settings.getByRole('switch', { name: 'Save attachments' }).isChecked(), 'auto-save off by default');

  const saved = () => page.waitForResponse((res) => res.url().includes('/api/contact-emails/') && res.request().method() === 'PATCH');
  let answer = saved();
  await settings.getByRole('switch', { name: 'Save attachments' }).check();
  t.equal((await answer).status(), 200, 'auto-save saved');
  answer = saved();
  await settings.getByLabel('Writes in').selectOption('es');
  await answer;
  answer = saved();
  await page.getByRole('group', { name: 'Notify about' }).getByRole('checkbox', { name: 'Reminders' }).uncheck();
  await answer;
  const contacts = (await get(`/clients/${client.id}`)).contactList;
  const contact = await get(`/contacts/${contacts[0].id}`);
  t.match(contact.emails[0], { address, sync: true, notify: true, autoSaveAttachments: true, language: 'es' }, 'every switch is on the server');
  t.notOk(contact.emails[0].notifyCategories.includes('reminders'), 'reminders no longer notified');
  await page.evaluate(() => window.scrollTo(0, 0));
  await saveScreenshot(page, 'client-overview-en');

  await page.getByRole('navigation', { name: 'Client sections' }).getByRole('link', { name: 'Log' }).click();
  const row = page.getByRole('row').filter({ hasText: subject });
  await row.waitFor();
  t.match(await row.innerText(), /Client/, 'the filed email was initiated by the client (its sender is now a contact)');

  await page.setViewportSize(phoneViewport);
  await page.getByRole('navigation', { name: 'Client sections' }).getByRole('link', { name: 'Overview' }).click();
  await settings.waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  t.ok(overflow <= 0, `overview fits a phone (overflow ${overflow}px)`);
  await saveScreenshot(page, 'client-overview-phone');
  t.same(problems, [], 'no script errors');
});

t.test('documents: upload, rename, visible to the client, download', async (t) => {
  const { email, password } = await createTestUser(ta.db, 'staff', 'Ruud Bakker');
  const { context, page, problems } = await openPage(browser, { acceptDownloads: true });
  t.teardown(() => context.close());
  await signIn(page, email, password, '/clients');
  await page.getByRole('heading', { level: 1, name: 'Clients' }).waitFor();
  const { post, get } = await api(context);
  const client = await post('/clients', { name: uniq('Bakkerij Bakker') });
  await page.goto(`${base}/clients/${client.id}/documents`);
  await page.getByRole('heading', { name: 'Documents', exact: true }).waitFor();

  const content = Buffer.from(`jaaroverzicht ${uniq('x')}\n`);
  await page.getByLabel('Files').setInputFiles({ name: 'jaaroverzicht 2025.txt', mimeType: 'text/plain', buffer: content });
  await page.getByLabel('Category').first().fill('Annual accounts');
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  await page.getByText('1 document uploaded.').waitFor();
  const row = page.getByRole('row').filter({ hasText: 'jaaroverzicht 2025.txt' });
  t.match(await row.innerText(), /Annual accounts/, 'listed with its category');
  t.match(await row.innerText(), /Upload/, 'and its source');

  t.ok(await row.getByRole('switch').isChecked(), 'an upload is visible to the client by default');
  await row.getByText('Visible', { exact: true }).waitFor();
  await page.getByRole('navigation', { name: 'Client sections' }).getByRole('link', { name: 'Overview' }).click();
  const card = page.getByRole('region', { name: 'Visible to client' });
  await card.getByText("1 document the client's contacts may receive").waitFor();
  t.match(await card.innerText(), /jaaroverzicht 2025\.txt/, 'the overview lists what is visible to the client');
  await page.getByRole('navigation', { name: 'Client sections' }).getByRole('link', { name: 'Documents' }).click();
  await row.waitFor();

  // The switch shows its new state at once; the server has it when the PATCH has answered.
  const saved = page.waitForResponse((r) => r.request().method() === 'PATCH' && r.url().includes('/documents/'));
  await row.getByRole('switch').uncheck();
  await row.getByText('Hidden', { exact: true }).waitFor();
  await saved;
  let docs = (await get(`/clients/${client.id}/documents`)).items;
  t.equal(docs[0].visibleToClient, false, 'hidden from the client on the server');

  await row.getByRole('button', { name: 'Edit jaaroverzicht 2025.txt' }).click();
  const dialog = page.getByRole('dialog', { name: 'Edit document' });
  await dialog.getByLabel('Name').fill('Jaaroverzicht 2025 (final).txt');
  await dialog.getByRole('button', { name: 'Save' }).click();
  const renamed = page.getByRole('link', { name: 'Jaaroverzicht 2025 (final).txt' });
  await renamed.waitFor();
  docs = (await get(`/clients/${client.id}/documents`)).items;
  t.equal(docs[0].name, 'Jaaroverzicht 2025 (final).txt', 'renamed on the server');

  const [download] = await Promise.all([page.waitForEvent('download'), renamed.click()]);
  t.equal(download.suggestedFilename(), 'Jaaroverzicht 2025 (final).txt', 'downloads under its name');
  t.same(await readFile((await download.path())!), content, 'the same bytes');
  t.same(problems, [], 'no script errors');
});

t.test('CSV import: checked first (nothing saved), then imported', async (t) => {
  const { email, password } = await createTestUser(ta.db, 'staff', 'Elena Soto');
  const { context, page, problems } = await openPage(browser);
  t.teardown(() => context.close());
  await signIn(page, email, password, '/clients');
  await page.getByRole('heading', { level: 1, name: 'Clients' }).waitFor();
  const { get } = await api(context);
  const name = uniq('Importada');
  const csv = `client,tax id,contact,email\n${name} S.L.,B87654321,Ana Soto,${uniqEmail('ana')}\n${name} Dos,,Luis Soto,not-an-address\n`;

  await page.getByRole('button', { name: 'Import CSV' }).click();
  const dialog = page.getByRole('dialog', { name: 'Import clients from CSV' });
  await dialog.getByLabel('CSV file').setInputFiles({ name: 'clients.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await dialog.getByRole('button', { name: 'Check file' }).click();
  const report = dialog.getByRole('region', { name: 'Result' });
  await report.getByText('Check result (nothing saved yet)').waitFor();
  t.match(await report.innerText(), /Line \d+: /, 'the bad address is reported with its line');
  t.equal((await get(`/clients?q=${encodeURIComponent(name)}`)).items.length, 0, 'the check saved nothing');

  await dialog.getByRole('button', { name: 'Import', exact: true }).click();
  await report.getByText('Imported').waitFor();
  const created = (await get(`/clients?q=${encodeURIComponent(name)}`)).items;
  t.ok(created.some((c: { name: string }) => c.name === `${name} S.L.`), 'the good line is imported');
  await dialog.getByRole('button', { name: 'Close' }).first().click();
  await page.getByLabel('Search clients').fill(name);
  await page.getByRole('link', { name: `${name} S.L.` }).waitFor();
  t.same(problems, [], 'no script errors');
});
