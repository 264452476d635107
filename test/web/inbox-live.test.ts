// A live Inbox+ in a real Chromium: mail delivered to Dovecot while the Inbox is open appears without a
// reload, brought by the event stream (IDLE → sync → event → one list request), not by polling: the test
// counts the page's list requests.
import t from 'tap';
import { addMailbox, clientMessage, signInNewUser, startMailStack, waitForInbox } from './inbox-helpers.ts';

const stack = await startMailStack();
t.teardown(() => stack.close());

t.test('a mail delivered while the Inbox is open appears without a reload, and the page does not poll', async (t) => {
  const mail = await stack.dovecot.addUser({ prefix: 'live' });
  await stack.dovecot.deliver(mail.user, clientMessage({ to: mail.email, subject: 'Already there', minutesAgo: 60 }).raw);
  const { context, page, problems } = await signInNewUser(stack, 'Live Viewer');
  t.teardown(() => context.close());
  const account = await addMailbox(page, stack, mail);
  await waitForInbox(page, stack.base, account.id, 1);

  const listRequests: string[] = [];
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (url.pathname === '/api/messages' && r.method() === 'GET') listRequests.push(url.search);
  });
  const stream = page.waitForRequest((r) => new URL(r.url()).pathname === '/api/events');
  await page.goto(`${stack.base}/inbox?accountId=${account.id}`);
  await stream;
  await page.waitForFunction(() => document.querySelectorAll('.message-row').length === 1);
  const before = listRequests.length;
  t.ok(before >= 1, 'the Inbox was loaded');

  await stack.dovecot.deliver(mail.user, clientMessage({ to: mail.email, subject: 'Arrived while open', minutesAgo: 0 }).raw);
  const row = page.locator('.message-row', { hasText: 'Arrived while open' });
  await row.waitFor({ timeout: 20_000 });
  t.pass('the new mail is listed without a reload');
  t.match(await page.locator('.message-row').first().innerText(), /Arrived while open/, 'at the top');
  t.equal(await page.locator('.message-row').count(), 2, 'and the list keeps what it had');
  const after = listRequests.length - before;
  t.ok(after >= 1 && after <= 2, `the event brought it with one list request (or two when its events straddled the debounce), not a poll: ${after}`);
  t.same(problems, [], 'no console errors');
});
