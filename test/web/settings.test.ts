// Settings in a real Chromium against the real server, a sync worker and Dovecot: a new administrator
// adds a mailbox (a wrong password is refused with the mail server's words first), picks folders, and
// watches the sync finish with per-folder counts; makes an API token (shown once) and a reason.
// Screenshots of Settings in English and Spanish go to test-results/.
import t from 'tap';
import type { Page } from 'playwright-core';
import { openPage, phoneViewport, saveScreenshot } from '../support/browser.ts';
import { startWebTest } from '../support/web.ts';
import { getDovecot } from '../support/dovecot.ts';
import { uniq } from '../support/env.ts';
import { createTestMail, createTestUser } from '../support/factories.ts';
import { startSmtpSink } from '../support/smtp-sink.ts';

// The API checks logins and syncs through jobs: a sync worker on the same queue answers them.
const { ta, base, browser, signIn, close } = await startWebTest({ workerId: 'web-settings' });
t.teardown(close);
const dovecot = await getDovecot();

/**
 * The mail accounts section as the user sees it at 1280×800 (the shared test database holds every test's
 * users and tags, so a full-page picture would be mostly other tests' rows).
 */
async function shootAccounts(page: Page, name: string) {
  await page.locator('#settings-accounts').evaluate((section) => section.scrollIntoView());
  await saveScreenshot(page, name, { fullPage: false });
}

t.test('a new administrator adds a mailbox and watches its sync finish', async (t) => {
  const mail = await dovecot.addUser({ prefix: 'office' });
  // Dovecot's auth process may still be starting: the harness's own IMAP login waits for it.
  await dovecot.appendMany(mail.user, [1, 2, 3].map((n) => createTestMail({ subject: `Invoice ${n}`, to: mail.email })));
  await dovecot.appendMany(mail.user, [createTestMail({ subject: 'Sent reply', from: mail.email })], { folder: 'Sent' });

  const { email, password } = await createTestUser(ta.db, 'admin', 'Ana Romero');
  const { context, page, problems } = await openPage(browser);
  t.teardown(() => context.close());
  await signIn(page, email, password, `/settings`);
  await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
  // (Public mailboxes that other tests added to the shared database are listed too: find ours by its name.)
  const accountName = `Office ${mail.user}`;

  await page.getByRole('button', { name: 'Add mailbox' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add mailbox' });
  await dialog.getByLabel('Name shown in Dossier').fill(accountName);
  await dialog.getByLabel('Email address').fill(mail.email);
  const imap = dialog.getByRole('group', { name: 'Incoming mail (IMAP)' });
  await imap.getByLabel('Server').fill(mail.host);
  await imap.getByLabel('Port').fill(String(mail.port));
  await imap.getByLabel('Security').selectOption({ label: 'None: plain text (only for a server on your own network)' });
  await imap.getByLabel('User name').fill(mail.user);
  await imap.getByLabel('Password').fill('not-the-password');
  const smtp = dialog.getByRole('group', { name: 'Outgoing mail (SMTP)' });
  // The SMTP side is checked too: a real SMTP peer that takes the same login.
  const sink = await startSmtpSink({ user: mail.user, password: mail.password, requireAuth: true });
  t.teardown(() => sink.close());
  await smtp.getByLabel('Server').fill(sink.host);
  await smtp.getByLabel('Security').selectOption({ label: 'None: plain text (only for a server on your own network)' });
  await smtp.getByLabel('Port').fill(String(sink.port));

  // The login is checked before anything is saved; the refusal carries the mail server's own words.
  await dialog.getByRole('button', { name: 'Check and add' }).click();
  const refusal = dialog.getByRole('alert');
  await refusal.waitFor();
  t.match(await refusal.innerText(), /^The mail server refused the user name or password\. The server said: ".+"$/, 'wrong password explained with the server\'s words');
  const listed = (await (await context.request.get(`${base}/api/mail-accounts`)).json()).items as { email: string }[];
  t.notOk(listed.some((a) => a.email === mail.email), 'nothing saved');

  // Every state the account's progress bar goes through, as the user saw it.
  // (A string, not a function: the test runner's transform would add helpers the page does not have.)
  await page.evaluate(`{
    const seen = [];
    window.progressSeen = seen;
    new MutationObserver(() => {
      const card = [...document.querySelectorAll('.account')].find((a) => a.querySelector('h3')?.textContent?.includes(${JSON.stringify(accountName)}));
      const bar = card?.querySelector('progress');
      if (!bar) return;
      const state = { value: bar.value, max: bar.max, complete: bar.getAttribute('data-complete'), label: bar.labels[0]?.textContent ?? '' };
      if (JSON.stringify(seen.at(-1)) !== JSON.stringify(state)) seen.push(state);
    }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  }`);
  await imap.getByLabel('Password').fill(mail.password);
  await dialog.getByRole('button', { name: 'Check and add' }).click();
  const picker = page.getByRole('dialog', { name: `Folders to sync for ${mail.email}` });
  await picker.getByText('Mailbox added.', { exact: false }).waitFor();
  const folders = picker.getByRole('group', { name: 'Folders' });
  await folders.getByRole('checkbox').first().waitFor();
  t.ok(await folders.getByRole('checkbox', { name: /INBOX/ }).isChecked(), 'INBOX always synced');
  t.ok(await folders.getByRole('checkbox', { name: /INBOX/ }).isDisabled(), 'and cannot be unticked');
  t.notOk(await folders.getByRole('checkbox', { name: 'Trash' }).isChecked(), 'Trash not synced by default');
  await picker.getByRole('button', { name: 'Save folders' }).click();
  await picker.waitFor({ state: 'detached' });

  // The account card: a progress bar that fills up, then the per-folder counts.
  const card = page.getByRole('article', { name: accountName });
  const bar = card.getByRole('progressbar');
  await bar.waitFor();
  await card.locator('progress[data-complete="true"]').waitFor({ timeout: 30_000 });
  t.same(await bar.evaluate((p: HTMLProgressElement) => [p.value, p.max]), [4, 4], 'the progress bar is full: every message stored');
  await card.getByText('Up to date').waitFor();
  const seen = await page.evaluate(() => (window as unknown as { progressSeen: { complete: string | null; label: string }[] }).progressSeen);
  t.ok(seen.some((s) => s.complete === 'false' && /^(Starting to sync|Syncing)/.test(s.label)), `the bar was shown unfinished while syncing: ${JSON.stringify(seen.slice(0, 3))}`);
  t.equal(seen.at(-1)?.complete, 'true', 'and finished');
  await card.getByText('4 messages stored').waitFor();
  const inboxRow = card.getByRole('row').filter({ has: page.getByRole('rowheader', { name: /INBOX/ }) });
  t.match(await inboxRow.innerText(), /3 of 3/, 'INBOX: 3 of 3 messages');
  t.match(await card.getByRole('row').filter({ hasText: 'Sent' }).innerText(), /1 of 1/, 'Sent: 1 of 1');
  await shootAccounts(page, 'settings-en');

  // Sync now is accepted and the card stays consistent.
  const synced = page.waitForResponse((res) => res.url().endsWith('/sync') && res.request().method() === 'POST');
  await card.getByRole('button', { name: 'Sync now' }).click();
  t.equal((await synced).status(), 202, 'sync now queued');

  await page.getByRole('combobox', { name: 'Language' }).selectOption('es');
  await page.getByRole('heading', { level: 1, name: 'Ajustes' }).waitFor();
  await page.getByRole('heading', { name: 'Cuentas de correo' }).waitFor();
  await card.getByText('4 mensajes guardados').waitFor();
  t.match(await inboxRow.innerText(), /3 de 3/, 'counts in Spanish');
  await shootAccounts(page, 'settings-es');
  t.same(problems, [], 'no script errors');
});

t.test('API tokens are shown once; administrators add reasons and users; the signature is saved', async (t) => {
  const { email, password } = await createTestUser(ta.db, 'admin', 'Bram Jansen');
  const { context, page, problems } = await openPage(browser);
  t.teardown(() => context.close());
  await signIn(page, email, password, `/settings`);
  await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();

  // Queries stay inside their section: the shared test database makes the users table long, and
  // page-wide role queries over thousands of cells are slow.
  const tokens = page.locator('#settings-tokens');
  await tokens.getByLabel('New token name').fill('Invoicing script');
  await tokens.getByRole('button', { name: 'Create token' }).click();
  const shown = tokens.getByLabel('Your new token "Invoicing script"');
  await shown.waitFor();
  const token = await shown.inputValue();
  t.ok(token.length >= 20, 'the token is shown');
  const viaToken = await fetch(`${base}/api/me`, { headers: { authorization: `Bearer ${token}` } });
  t.equal(viaToken.status, 200, 'and works as a Bearer token (no cookie)');
  await page.reload();
  await tokens.getByRole('cell', { name: 'Invoicing script', exact: true }).waitFor();
  t.equal(await tokens.getByLabel('Your new token "Invoicing script"').count(), 0, 'after a reload it is never shown again');

  const reason = uniq('Payroll');
  const reasonsGroup = page.locator('#settings-tags').getByRole('group', { name: 'Reasons' });
  await reasonsGroup.getByRole('textbox', { name: 'New reason' }).fill(reason);
  await reasonsGroup.getByRole('button', { name: 'Add', exact: true }).click();
  await reasonsGroup.getByText(reason).waitFor();
  const reasons = await (await context.request.get(`${base}/api/reasons`)).json();
  t.ok(reasons.items.some((r: { name: string }) => r.name === reason), 'the reason is saved');

  // Users (administrators): a new colleague who can then sign in.
  const colleague = `${uniq('marta')}@test.example`;
  const users = page.locator('#settings-users');
  await users.getByRole('button', { name: 'Add user' }).click();
  const userDialog = page.getByRole('dialog', { name: 'Add user' });
  await userDialog.getByLabel('Name').fill('Marta Vidal');
  await userDialog.getByLabel('Email').fill(colleague);
  await userDialog.getByLabel('First password').fill('a long first password');
  await userDialog.getByRole('button', { name: 'Create user' }).click();
  await users.locator('td', { hasText: colleague }).waitFor();
  const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: colleague, password: 'a long first password' }) });
  t.equal(login.status, 200, 'the new user can sign in');

  // The signature is saved on the user.
  const profile = page.locator('#settings-profile');
  await profile.getByLabel('Email signature').fill('Bram Jansen\nJansen & Partners');
  await profile.getByRole('button', { name: 'Save signature' }).click();
  await profile.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  t.equal((await (await context.request.get(`${base}/api/me`)).json()).user.signature, 'Bram Jansen\nJansen & Partners', 'signature saved');

  await page.setViewportSize(phoneViewport);
  await page.evaluate(() => window.scrollTo(0, 0));
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  t.ok(overflow <= 0, `Settings fit a phone (overflow ${overflow}px)`);
  await saveScreenshot(page, 'settings-phone');
  t.same(problems, [], 'no script errors');
});
