// Settings → Add mailbox → Connect Microsoft 365 in a real Chromium: the browser leaves for the provider's own
// sign-in page (a real OpenID provider standing in for Microsoft Entra), signs in there, and comes back to
// Settings with the account connected and its mail syncing over IMAP with XOAUTH2 (Dovecot validating the
// token by introspection). No password is typed into Dossier at any point.
import t from 'tap';
import { openPage, saveScreenshot } from '../support/browser.ts';
import { startWebTest } from '../support/web.ts';
import { startDovecot } from '../support/dovecot.ts';
import { microsoftEnv, startOAuthProvider } from '../support/oauth-provider.ts';
import { startSmtpSink } from '../support/smtp-sink.ts';
import { freePort } from '../support/processes.ts';
import { createTestMail, createTestUser } from '../support/factories.ts';
import { uniq } from '../support/env.ts';

// The provider registers Dossier's callback URL, so the server's address is chosen before either starts.
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const provider = await startOAuthProvider({ redirectUri: `${base}/api/oauth/callback` });
const dovecot = await startDovecot({ oauth2: { introspectionUrl: provider.introspectionUrl } });
const sink = await startSmtpSink({ requireAuth: true, oauth2: { introspect: (token) => provider.introspect(token) } });
const web = await startWebTest({
  workerId: 'web-oauth',
  port,
  env: microsoftEnv(provider, { imap: dovecot.port, smtp: sink.port }, base),
});
t.teardown(async () => {
  await web.close();
  await sink.close();
  await provider.close();
  await dovecot.stop();
});

t.test('Connect Microsoft 365: the provider\'s page, back to Settings, the mailbox syncing', async (t) => {
  const mailbox = `${uniq('ms')}@firm.test`;
  const mail = await dovecot.addUser({ name: mailbox });
  await dovecot.appendMany(mail.user, [createTestMail({ subject: 'Waiting in Microsoft 365', to: mailbox })]);
  const { email, password } = await createTestUser(web.ta.db, 'staff', 'Olga Berg');
  const { context, page, problems } = await openPage(web.browser);
  t.teardown(() => context.close());
  await web.signIn(page, email, password, '/settings');
  await page.getByRole('button', { name: 'Add mailbox' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('button', { name: 'Connect Microsoft 365' }).click();

  // The provider's own page, on its own origin: Dossier never sees what is typed here.
  await page.waitForURL((url) => url.href.startsWith(provider.issuer));
  t.equal(new URL(page.url()).origin, new URL(provider.issuer).origin, 'the browser is at the provider');
  await page.getByLabel('Email').fill(mailbox);
  await page.getByRole('button', { name: 'Sign in and allow' }).click();

  await page.waitForURL((url) => url.href.startsWith(`${base}/settings`));
  await page.getByText('Mailbox connected. Dossier is fetching its mail now.').waitFor();
  const card = page.getByRole('article').filter({ hasText: mailbox });
  await card.getByText('Signs in with Microsoft 365').waitFor();
  await card.getByText('1 message stored').waitFor({ timeout: 60_000 });
  t.pass('connected and synced over XOAUTH2');
  t.notOk(new URL(page.url()).search.includes('connected'), 'the one-time result is taken out of the address');
  await saveScreenshot(page, 'settings-oauth-connected-en');

  // The account's own view: the shared test database holds other tests' filed mail, newer than this one.
  const accounts = (await (await context.request.get(`${base}/api/mail-accounts`)).json()).items as { id: string; email: string }[];
  const account = accounts.find((a) => a.email === mailbox)!;
  await page.goto(`${base}/inbox?accountId=${account.id}`);
  await page.locator('.message-row', { hasText: 'Waiting in Microsoft 365' }).waitFor({ timeout: 30_000 });
  t.same(problems, [], 'no console errors or failed requests');
});
