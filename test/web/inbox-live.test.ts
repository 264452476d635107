// A live Inbox+ in a real Chromium: mail delivered to Dovecot while the Inbox is open appears without a
// reload, brought by the event stream (IDLE → sync → event → one list request), not by polling: the test
// counts the page's list requests. A colleague's open page hears nothing of a private mailbox's unfiled mail.
import t from 'tap';
import { addMailbox, apiGet, clientMessage, signInNewUser, startMailStack, waitForInbox } from './inbox-helpers.ts';
import { createNotification } from '../../src/core/collaboration/staff-notifications.ts';

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

t.test("a colleague's open Inbox hears nothing of a private mailbox's unfiled mail, not even its id", async (t) => {
  const mail = await stack.dovecot.addUser({ prefix: 'private' });
  const alice = await signInNewUser(stack, 'Alice Private');
  t.teardown(() => alice.context.close());
  const account = await addMailbox(alice.page, stack, mail);
  await waitForInbox(alice.page, stack.base, account.id, 0);

  // Bob's page records every event its EventSource receives.
  const bob = await signInNewUser(stack, 'Bob Colleague');
  t.teardown(() => bob.context.close());
  await bob.context.addInitScript(() => {
    const Native = window.EventSource;
    const seen: { name: string; data: string }[] = [];
    (window as unknown as { __sse: typeof seen }).__sse = seen;
    window.EventSource = class extends Native {
      constructor(url: string | URL, init?: EventSourceInit) {
        super(url, init);
        for (const name of ['message', 'notification', 'sync']) this.addEventListener(name, (e) => seen.push({ name, data: (e as MessageEvent<string>).data }));
      }
    };
  });
  const bobStream = bob.page.waitForRequest((r) => new URL(r.url()).pathname === '/api/events');
  await bob.page.goto(`${stack.base}/inbox`);
  await bobStream;
  const aliceStream = alice.page.waitForRequest((r) => new URL(r.url()).pathname === '/api/events');
  await alice.page.goto(`${stack.base}/inbox?accountId=${account.id}`);
  await aliceStream;

  await stack.dovecot.deliver(mail.user, clientMessage({ to: mail.email, subject: 'Privileged for Alice', minutesAgo: 0 }).raw);
  await alice.page.locator('.message-row', { hasText: 'Privileged for Alice' }).waitFor({ timeout: 30_000 });
  const secret = (await apiGet<{ items: { id: string; subject: string }[] }>(alice.page, stack.base, `/messages?accountId=${account.id}`)).items.find((m) => m.subject === 'Privileged for Alice')!;

  // A marker published after the private mail's event: once Bob's page has it, anything before it has arrived too.
  const em = stack.ta.db.em.fork();
  const { notification } = await createNotification(em, { userId: bob.user.id, kind: 'test', title: 'Marker for Bob' });
  await em.flush();
  await bob.page.waitForFunction((id) => (window as unknown as { __sse: { name: string; data: string }[] }).__sse.some((e) => e.name === 'notification' && e.data.includes(id)), notification.id, { timeout: 20_000 });
  const bobHeard = JSON.stringify(await bob.page.evaluate(() => (window as unknown as { __sse: unknown[] }).__sse));
  t.notOk(bobHeard.includes(secret.id), "Bob's stream never carried the private message's id");
  t.notOk(bobHeard.includes(account.id), "nor Alice's private account");
  t.equal(await bob.page.locator('.message-row', { hasText: 'Privileged for Alice' }).count(), 0, 'and his Inbox does not show it');
  t.same(bob.problems, [], 'no console errors');
});
