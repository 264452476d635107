// The web shell in a real Chromium against the real server: sign in (after a wrong password), the
// signed-in layout, switching to Spanish (saved on the user, survives a reload), sign out, and the
// layout at phone width. Screenshots go to test-results/.
import t from 'tap';
import { openPage, phoneViewport, saveScreenshot } from '../support/browser.ts';
import { startWebTest } from '../support/web.ts';
import { createTestUser } from '../support/factories.ts';

const { ta, base, browser, signIn, close } = await startWebTest();
t.teardown(close);

t.test('sign in, switch language, sign out', async (t) => {
  const { email, password } = await createTestUser(ta.db, 'staff', 'Marta Ruiz');
  const { context, page, problems } = await openPage(browser);
  t.teardown(() => context.close());

  // A deep link while signed out leads to the login page, which remembers where the user was going.
  await page.goto(`${base}/clients`);
  await page.getByLabel('Email address').waitFor();
  t.equal(new URL(page.url()).pathname, '/login', 'signed-out visit goes to the login page');
  t.equal(new URL(page.url()).searchParams.get('next'), '/clients', 'which keeps the page asked for');
  // Focus and the document title are set in effects, just after the render: wait for them, don't race.
  await page.waitForFunction(() => document.activeElement?.id === 'login-email');
  t.pass('ready to type the email address');

  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  t.equal(await page.getByRole('alert').innerText(), 'The email address or password is not correct.', 'wrong password explained');
  t.equal(new URL(page.url()).pathname, '/login', 'still on the login page');

  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Clients' }).waitFor();
  t.equal(new URL(page.url()).pathname, '/clients', 'lands on the page asked for');

  const nav = page.getByRole('navigation', { name: 'Main' });
  t.same(await nav.getByRole('link').allInnerTexts(), ['Inbox', 'Clients', 'Requests', 'Log', 'Tasks', 'Settings'], 'main navigation');
  t.equal(await nav.getByRole('link', { name: 'Clients' }).getAttribute('aria-current'), 'page', 'current page marked');
  await nav.getByRole('link', { name: 'Inbox' }).click();
  await page.getByRole('heading', { level: 1, name: 'Inbox' }).waitFor();
  t.equal(new URL(page.url()).pathname, '/inbox', 'navigation changes the address');
  await page.waitForFunction(() => document.title === 'Inbox · Dossier');
  t.pass('and the document title');
  await saveScreenshot(page, 'shell-inbox-en');

  await page.getByLabel('Language').selectOption('es');
  await page.getByRole('heading', { level: 1, name: 'Bandeja de entrada' }).waitFor();
  t.equal(await page.locator('html').getAttribute('lang'), 'es', '<html lang> follows');
  const navEs = page.getByRole('navigation', { name: 'Principal' });
  t.same(await navEs.getByRole('link').allInnerTexts(), ['Bandeja de entrada', 'Clientes', 'Solicitudes', 'Registro', 'Tareas', 'Ajustes'], 'navigation in Spanish');
  const me = await context.request.get(`${base}/api/me`);
  t.equal((await me.json()).user.language, 'es', 'saved on the user');

  // Forget this browser's choice: after the reload the language can only come from the user.
  await page.evaluate(() => localStorage.clear());
  await page.reload();
  await page.getByRole('heading', { level: 1, name: 'Bandeja de entrada' }).waitFor();
  t.pass('still Spanish after a reload');
  await navEs.getByRole('link', { name: 'Ajustes' }).click();
  await page.getByRole('heading', { level: 1, name: 'Ajustes' }).waitFor();
  await saveScreenshot(page, 'shell-settings-es');

  await page.getByRole('button', { name: 'Menú de la cuenta de Marta Ruiz' }).click();
  await page.getByRole('button', { name: 'Cerrar sesión' }).click();
  await page.getByLabel('Correo electrónico').waitFor();
  t.equal(new URL(page.url()).pathname, '/login', 'back at the login page');
  t.equal(await page.getByRole('status').innerText(), 'Has cerrado la sesión.', 'told they signed out, in their language');
  t.equal((await context.request.get(`${base}/api/me`)).status(), 401, 'the session is over on the server');
  await saveScreenshot(page, 'shell-signed-out-es');

  await page.goto(`${base}/settings`);
  await page.getByLabel('Correo electrónico').waitFor();
  t.equal(new URL(page.url()).pathname, '/login', 'signed-in pages need a session again');
  t.same(problems, [], 'no script errors');
});

t.test('the signed-in layout fits a phone screen', async (t) => {
  const { email, password } = await createTestUser(ta.db, 'admin', 'Joost van der Berg');
  const { context, page, problems } = await openPage(browser, { viewport: phoneViewport, isMobile: true, hasTouch: true });
  t.teardown(() => context.close());

  await signIn(page, email, password, `/`);
  await page.getByRole('heading', { level: 1, name: 'Inbox' }).waitFor();

  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  t.ok(overflow <= 0, `no sideways scrolling (overflow ${overflow}px)`);
  for (const name of ['Inbox', 'Clients', 'Requests', 'Log', 'Tasks', 'Settings']) {
    t.ok(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name }).isVisible(), `${name} visible`);
  }
  await page.getByRole('button', { name: 'Account menu for Joost van der Berg' }).click();
  t.ok(await page.getByRole('button', { name: 'Sign out' }).isVisible(), 'sign out reachable');
  await saveScreenshot(page, 'shell-phone-menu');
  t.same(problems, [], 'no script errors');
});

t.test('a session that ends mid-use leads back to the login page, then to where the user was', async (t) => {
  const { email, password } = await createTestUser(ta.db, 'staff', 'Lena Vos');
  const { context, page, problems } = await openPage(browser);
  t.teardown(() => context.close());
  await signIn(page, email, password, `/settings`);
  await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();

  // The session cookie disappears (expired, or signed out elsewhere); the next API call gets 401.
  await context.clearCookies();
  // The signed-in top bar's switch (its PATCH gets the 401); a background refresh (bell, task count) may get
  // there first, and then the login page's own switch must not be touched.
  await page.locator('.topbar').getByLabel('Language').selectOption('nl', { timeout: 5_000 }).catch(() => undefined);
  await page.getByLabel('Email address').waitFor();
  t.equal(new URL(page.url()).pathname, '/login', 'the 401 leads to the login page');
  t.equal(await page.getByRole('status').innerText(), 'Your session has ended. Sign in again to continue.', 'with the reason');

  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
  t.equal(new URL(page.url()).pathname, '/settings', 'back where the user was');
  t.same(problems, [], 'no script errors');
});

// Last: it uses up this server's login allowance for 127.0.0.1 (the limiter's keys are this file's own).
// Mind the budget: the login limit is 5 a minute per address and the tests above already sign in 5 times
// from 127.0.0.1, so a new sign-in goes in a new test file (own server, own limiter prefix).
t.test('too many attempts are explained with the wait, not as a wrong password', async (t) => {
  const { email } = await createTestUser(ta.db);
  const { context, page } = await openPage(browser);
  t.teardown(() => context.close());
  await page.goto(`${base}/login`);
  await page.getByLabel('Email address').fill(email);
  let status = 0;
  for (let attempt = 1; attempt <= 7 && status !== 429; attempt++) {
    await page.getByLabel('Password').fill(`wrong password ${attempt}`);
    const answered = page.waitForResponse((res) => res.url().endsWith('/api/auth/login'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    status = (await answered).status();
  }
  t.equal(status, 429, 'the server rate-limited the attempts');
  const alert = await page.getByRole('alert').filter({ hasText: 'Too many attempts' }).innerText();
  t.match(alert, /^Too many attempts\. Try again in \d+ seconds\.$/, 'rate limit shown with the wait from Retry-After');
});
