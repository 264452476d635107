// Two-step sign-in in a real Chromium: a user sets it up from Settings by the QR code (which must encode
// the otpauth URL of the key shown beside it), sees the recovery codes once, then signs in with a code
// from the app, and later with a recovery code. Screenshot of the set-up goes to test-results/.
import t from 'tap';
import * as OTPAuth from 'otpauth';
import { encode } from 'uqr';
import { createTestUser } from '../support/factories.ts';
import { openPage, saveScreenshot } from '../support/browser.ts';
import { startWebTest } from '../support/web.ts';

const { ta, browser, signIn, close } = await startWebTest();
t.teardown(close);

t.test('set up two-step sign-in with the QR code, then sign in with a code and with a recovery code', async (t) => {
  const { email, password } = await createTestUser(ta.db, 'staff', 'Lucía Ortega');
  const { context, page, problems } = await openPage(browser);
  t.teardown(() => context.close());
  await signIn(page, email, password, '/settings');
  const section = page.locator('#settings-security');
  await section.getByRole('button', { name: 'Set up two-step sign-in' }).click();

  const qr = section.getByRole('img', { name: 'QR code for your authenticator app' });
  await qr.waitFor();
  const secret = (await section.locator('.totp-secret').innerText()).replace(/\s/g, '');
  t.match(secret, /^[A-Z2-7]{32}$/, 'the key is shown as text too');
  // What an authenticator app would read from the QR code: the otpauth URL of this key for this user.
  const expected = new OTPAuth.TOTP({ issuer: 'Dossier', label: email, secret: OTPAuth.Secret.fromBase32(secret) }).toString();
  const matrix = encode(expected, { ecc: 'M', border: 2 });
  let path = '';
  matrix.data.forEach((row, y) => row.forEach((dark, x) => {
    if (dark) path += `M${x} ${y}h1v1h-1z`;
  }));
  t.equal(await qr.locator('path').getAttribute('d'), path, 'the QR code encodes the otpauth URL of the key shown');
  await saveScreenshot(page, 'two-factor-setup', { fullPage: false });

  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) });
  await section.getByLabel('Code from the app').fill('000000' === totp.generate() ? '111111' : '000000');
  await section.getByRole('button', { name: 'Turn on' }).click();
  await section.getByRole('alert').filter({ hasText: 'not correct' }).waitFor();
  await section.getByLabel('Code from the app').fill(totp.generate());
  await section.getByRole('button', { name: 'Turn on' }).click();
  const list = section.getByRole('list', { name: 'Your recovery codes' });
  await list.getByRole('listitem').first().waitFor();
  const codes = await list.getByRole('listitem').allInnerTexts();
  t.equal(codes.length, 10, 'ten recovery codes are shown');
  await section.getByRole('button', { name: 'I have saved these codes' }).click();
  await section.getByText('10 recovery codes left.').waitFor();
  t.equal(await section.getByText('Your recovery codes').count(), 0, 'the codes are not shown again');

  // A new browser: password, then the code the login page asks for.
  const second = await openPage(browser);
  t.teardown(() => second.context.close());
  await signIn(second.page, email, password, '/settings');
  const codeField = second.page.getByLabel('Authentication code');
  await codeField.waitFor();
  await codeField.fill(totp.generate({ timestamp: Date.now() + 30_000 }));
  await second.page.getByRole('button', { name: 'Sign in' }).click();
  await second.page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
  t.pass('signed in with the code from the app');

  const third = await openPage(browser);
  t.teardown(() => third.context.close());
  await signIn(third.page, email, password, '/settings');
  await third.page.getByLabel('Authentication code').fill(codes[0]!);
  await third.page.getByRole('button', { name: 'Sign in' }).click();
  await third.page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
  await third.page.locator('#settings-security').getByText('9 recovery codes left.').waitFor();
  t.pass('signed in with a recovery code, which is then used up');
  t.same([...problems, ...second.problems, ...third.problems], [], 'no script errors');
});
