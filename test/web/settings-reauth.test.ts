// Settings → mail accounts when the mail server stops accepting the password, in a real Chromium against
// the real server, a sync worker and Dovecot: the problem in plain words with the server's own, then a
// re-entered password checked before it is saved, and the sync resumed. (Apart from settings.test.ts
// to keep each browser file short.)
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { openPage, saveScreenshot } from '../support/browser.ts';
import { startWebTest } from '../support/web.ts';
import { getDovecot } from '../support/dovecot.ts';
import { createTestMail, createTestUser } from '../support/factories.ts';

// The API checks logins and syncs through jobs: a sync worker on the same queue answers them.
const { ta, base, browser, signIn, close } = await startWebTest({ workerId: 'web-reauth' });
t.teardown(close);
const dovecot = await getDovecot();

t.test('a refused password is explained, and re-entering it resumes the sync', async (t) => {
  const mail = await dovecot.addUser({ prefix: 'reauth' });
  await dovecot.appendMany(mail.user, [createTestMail({ subject: 'Before the password change', to: mail.email })]);
  const { email, password } = await createTestUser(ta.db, 'staff', 'Iris Smit');
  const { context, page, problems } = await openPage(browser);
  t.teardown(() => context.close());
  await signIn(page, email, password, `/settings`);
  await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
  const csrf = (await (await context.request.get(`${base}/api/me`)).json()).csrfToken as string;
  const server = { host: mail.host, port: mail.port, secure: false, username: mail.user, password: mail.password };
  const created = await context.request.post(`${base}/api/mail-accounts`, {
    headers: { 'x-csrf-token': csrf },
    data: { name: `Iris ${mail.user}`, email: mail.email, visibility: 'private', imap: server },
  });
  t.equal(created.status(), 201, 'account added');
  const accountId = (await created.json()).id as string;
  const card = page.getByRole('article', { name: `Iris ${mail.user}` });
  await card.getByText('1 message stored').waitFor({ timeout: 30_000 });

  // The password is changed on the mail server; each sync is refused until the account asks for it.
  const newPassword = `changed-${randomUUID().slice(0, 8)}`;
  await dovecot.setPassword(mail.user, newPassword);
  const failures = async () => (await ta.db.em.fork().execute<{ n: number }[]>('select auth_failures::int as n from mail_account where id = ?', [accountId]))[0]!.n;
  for (let attempt = 1; attempt <= 3; attempt++) {
    await card.getByRole('button', { name: 'Sync now' }).click();
    for (let i = 0; i < 100 && (await failures()) < attempt; i++) await new Promise((r) => setTimeout(r, 200));
  }
  await card.getByText('Password needed').waitFor();
  const alert = card.getByRole('alert');
  t.match(await alert.innerText(), /^The mail server no longer accepts the password\. Re-enter it to resume syncing\. .+/, 'explained, with the server\'s own words after');
  await page.evaluate(() => window.scrollTo(0, 0));
  await saveScreenshot(page, 'settings-needs-reauth-en');

  await card.getByRole('button', { name: 'Re-enter password' }).click();
  const dialog = page.getByRole('dialog', { name: `New password for ${mail.email}` });
  await dialog.getByLabel('Password').fill('still wrong');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await dialog.getByRole('alert').getByText('The mail server refused the user name or password.').waitFor();
  t.pass('a wrong new password is refused before it is saved');
  await dialog.getByLabel('Password').fill(newPassword);
  await dialog.getByRole('button', { name: 'Save' }).click();
  await dialog.waitFor({ state: 'detached' });
  await card.getByText('Up to date').waitFor({ timeout: 30_000 });
  t.equal(await card.getByRole('alert').count(), 0, 'the problem is gone');
  t.same(problems, [], 'no script errors');
});
