// Issue 16 in a real Chromium: read state per user (Alice opening a message leaves it unread for Bob, u
// toggles it, unread rows bold with the view's count, and the mailbox's \Seen untouched, read back over IMAP),
// the reading pane (1440×900: list and message side by side, j/k move and show; 390×844: the list alone),
// and conversations in Inbox+ and a client's Emails tab. Screenshots go to test-results/.
import t from 'tap';
import { ImapFlow } from 'imapflow';
import type { Page } from 'playwright-core';
import { openPage, saveScreenshot } from '../support/browser.ts';
import type { MailUser } from '../support/dovecot.ts';
import { apiGet, apiWrite, clientMessage, signInNewUser, startMailStack, waitForInbox, type MailStack } from './inbox-helpers.ts';

const stack = await startMailStack();
t.teardown(() => stack.close());

type Summary = { id: string; subject: string; unread: boolean; threadCount?: number };

/** The Dovecot user as a mailbox of the signed-in user (public: every colleague sees it). */
async function addPublicMailbox(page: Page, s: MailStack, mail: MailUser): Promise<{ id: string }> {
  const imap = { host: mail.host, port: mail.port, secure: false, username: mail.user, password: mail.password, allowInsecure: true };
  const smtp = { host: s.sink.host, port: s.sink.port, secure: false, username: s.sink.user, password: s.sink.password, allowInsecure: true };
  return apiWrite(page, s.base, 'POST', '/mail-accounts', { name: 'Shared mailbox', email: mail.email, visibility: 'public', imap, smtp });
}

/** The INBOX flags as an IMAP client sees them (EXAMINE: reading them changes nothing). */
async function imapFlags(mail: MailUser): Promise<string[][]> {
  const client = new ImapFlow({ host: mail.host, port: mail.port, secure: false, auth: { user: mail.user, pass: mail.password }, logger: false });
  await client.connect();
  try {
    await client.mailboxOpen('INBOX', { readOnly: true });
    const flags: string[][] = [];
    for await (const m of client.fetch('1:*', { uid: true, flags: true })) flags.push([...(m.flags ?? [])]);
    return flags;
  } finally {
    await client.logout();
  }
}

const row = (page: Page, subject: string) => page.locator('.message-item', { hasText: subject });
const isBold = (page: Page, subject: string) => row(page, subject).evaluate((el) => el.classList.contains('unread'));

t.test('read state per user: Alice opens a message, Bob still has it unread; u toggles; \\Seen never changes', async (t) => {
  const mail = await stack.dovecot.addUser({ prefix: 'read' });
  for (const [i, subject] of ['Annual accounts', 'Payroll March'].entries()) {
    await stack.dovecot.deliver(mail.user, clientMessage({ to: mail.email, subject, minutesAgo: 10 * (i + 1) }).raw);
  }
  const alice = await signInNewUser(stack, 'Alice Admin', '/inbox', 'admin');
  t.teardown(() => alice.context.close());
  const account = await addPublicMailbox(alice.page, stack, mail);
  await waitForInbox(alice.page, stack.base, account.id, 2);
  const bob = await signInNewUser(stack, 'Bob Staff');
  t.teardown(() => bob.context.close());
  const view = `/inbox?accountId=${account.id}`;

  for (const { page } of [alice, bob]) {
    await page.goto(`${stack.base}${view}`);
    await page.waitForFunction(() => document.querySelectorAll('.message-row').length === 2);
    t.ok(await isBold(page, 'Annual accounts'), 'unread rows are bold');
    await page.getByTestId('inbox-unread-count').filter({ hasText: '2 unread' }).waitFor();
  }

  // List → message (the default test width is below the reading pane's), and back.
  await row(alice.page, 'Annual accounts').locator('a').click();
  await alice.page.getByRole('heading', { level: 1, name: 'Annual accounts' }).waitFor();
  await alice.page.getByRole('button', { name: 'Mark as unread' }).waitFor();
  await alice.page.keyboard.press('Escape');
  await alice.page.getByTestId('inbox-unread-count').filter({ hasText: '1 unread' }).waitFor();
  t.notOk(await isBold(alice.page, 'Annual accounts'), 'opening it read it for Alice: not bold, the count dropped');
  t.ok(await isBold(alice.page, 'Payroll March'), 'the other stays bold');

  const unreadOf = async (page: Page) => new Map((await apiGet<{ items: Summary[] }>(page, stack.base, `/messages?accountId=${account.id}`)).items.map((m) => [m.subject, m.unread]));
  t.same(Object.fromEntries(await unreadOf(alice.page)), { 'Annual accounts': false, 'Payroll March': true }, 'Alice: read');
  t.same(Object.fromEntries(await unreadOf(bob.page)), { 'Annual accounts': true, 'Payroll March': true }, 'Bob: still unread');
  await bob.page.reload();
  await bob.page.waitForFunction(() => document.querySelectorAll('.message-row').length === 2);
  t.ok(await isBold(bob.page, 'Annual accounts'), 'still bold for Bob');

  // u: unread again, then read again, for Alice only.
  await alice.page.locator('body').focus();
  await alice.page.keyboard.press('u');
  await alice.page.waitForFunction(() => document.querySelector('.message-item.active')?.classList.contains('unread'));
  t.equal((await unreadOf(alice.page)).get('Annual accounts'), true, 'u marks it unread');
  await alice.page.keyboard.press('u');
  await alice.page.waitForFunction(() => !document.querySelector('.message-item.active')?.classList.contains('unread'));
  t.equal((await unreadOf(alice.page)).get('Annual accounts'), false, 'u again: read');

  const flags = await imapFlags(mail);
  t.equal(flags.length, 2);
  t.notOk(flags.some((f) => f.some((flag) => flag.toLowerCase() === '\\seen')), `\\Seen unchanged on Dovecot (${JSON.stringify(flags)})`);
  t.same(alice.problems, [], 'no script errors');
});

t.test('reading pane: 1440×900 list and message side by side (j/k move and show); 390×844 the list alone', async (t) => {
  const mail = await stack.dovecot.addUser({ prefix: 'pane' });
  const subjects = ['Deed of sale', 'Budget 2027', 'Insurance renewal'];
  for (const [i, subject] of subjects.entries()) await stack.dovecot.deliver(mail.user, clientMessage({ to: mail.email, subject, minutesAgo: 10 * (i + 1) }).raw);
  const wide = await signInNewUser(stack, 'Wendy Wide');
  t.teardown(() => wide.context.close());
  const { page } = wide;
  await page.setViewportSize({ width: 1440, height: 900 });
  const account = await apiWrite<{ id: string }>(page, stack.base, 'POST', '/mail-accounts', {
    name: 'Pane mailbox', email: mail.email, visibility: 'private',
    imap: { host: mail.host, port: mail.port, secure: false, username: mail.user, password: mail.password, allowInsecure: true },
    smtp: { host: stack.sink.host, port: stack.sink.port, secure: false, username: stack.sink.user, password: stack.sink.password, allowInsecure: true },
  });
  await waitForInbox(page, stack.base, account.id, 3);
  await page.goto(`${stack.base}/inbox?accountId=${account.id}`);
  await page.waitForFunction(() => document.querySelectorAll('.message-row').length === 3);
  const pane = page.getByRole('region', { name: 'Open message' });
  await pane.getByText('Choose a message to read it here.').waitFor();

  await row(page, 'Deed of sale').locator('a').click();
  await pane.getByRole('heading', { level: 1, name: 'Deed of sale' }).waitFor();
  const list = page.getByRole('list', { name: 'Messages, newest first' });
  t.ok(await list.isVisible(), 'the list stays on screen');
  const [l, p] = [await list.boundingBox(), await pane.boundingBox()];
  t.ok(l && p && p.x >= l.x + l.width - 1, `the message is to the right of the list (list ${JSON.stringify(l)}, pane ${JSON.stringify(p)})`);
  t.ok(l && p && l.y < 900 && p.y < 900, `both in the first screen, not one below the other (list top ${l?.y}, message top ${p?.y})`);
  t.ok((await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)) <= 0, 'no sideways scrolling');
  await page.evaluate(() => window.scrollTo(0, 0));
  await saveScreenshot(page, 'inbox-reading-pane-1440x900', { fullPage: false });

  await page.locator('body').focus();
  await page.keyboard.press('j');
  await pane.getByRole('heading', { level: 1, name: 'Budget 2027' }).waitFor();
  t.ok(await list.isVisible(), 'j shows the next message beside the list');
  await page.keyboard.press('k');
  await pane.getByRole('heading', { level: 1, name: 'Deed of sale' }).waitFor();
  t.pass('k shows the previous one');
  t.equal(new URL(page.url()).searchParams.get('accountId'), account.id, 'the pane\'s address keeps the list\'s filters');
  await page.keyboard.press('Escape');
  await pane.getByText('Choose a message to read it here.').waitFor();
  t.pass('Esc closes the pane');

  // A phone: the list alone, a message on its own page.
  const phone = await openPage(stack.browser, { viewport: { width: 390, height: 844 }, storageState: await wide.context.storageState() });
  t.teardown(() => phone.context.close());
  await phone.page.goto(`${stack.base}/inbox?accountId=${account.id}`);
  await phone.page.waitForFunction(() => document.querySelectorAll('.message-row').length === 3);
  t.equal(await phone.page.locator('.reading-pane').count(), 0, 'no reading pane at 390 px');
  t.ok(await phone.page.getByRole('list', { name: 'Messages, newest first' }).isVisible(), 'only the list');
  await saveScreenshot(phone.page, 'inbox-list-only-390x844', { fullPage: false });
  await row(phone.page, 'Budget 2027').locator('a').click();
  await phone.page.getByRole('heading', { level: 1, name: 'Budget 2027' }).waitFor();
  t.equal(await phone.page.locator('.message-list').count(), 0, 'the message replaces the list');
  t.same([...wide.problems, ...phone.problems], [], 'no script errors');
});

t.test('conversations: one row per thread with its count, in Inbox+ and in a client\'s Emails tab', async (t) => {
  const mail = await stack.dovecot.addUser({ prefix: 'conv' });
  const stamp = Date.now();
  const carmen = `carmen-${stamp}@client.example`;
  const question = clientMessage({ to: mail.email, from: `"Carmen Client" <${carmen}>`, subject: 'Rental income', minutesAgo: 60 });
  const date = new Date(Date.now() - 30 * 60_000).toUTCString().replace('GMT', '+0000');
  const followUp = [`From: "Carmen Client" <${carmen}>`, `To: ${mail.email}`, 'Subject: Re: Rental income', `Date: ${date}`,
    `Message-ID: <follow-${stamp}@client.example>`, `In-Reply-To: <${question.messageId}>`, `References: <${question.messageId}>`,
    'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '', 'One more thing.', ''].join('\r\n');
  const other = clientMessage({ to: mail.email, from: `"Carmen Client" <${carmen}>`, subject: 'Car lease', minutesAgo: 10 });
  for (const raw of [question.raw, Buffer.from(followUp), other.raw]) await stack.dovecot.deliver(mail.user, raw);
  const { context, page, problems } = await signInNewUser(stack, 'Conor Conversations');
  t.teardown(() => context.close());
  const account = await apiWrite<{ id: string }>(page, stack.base, 'POST', '/mail-accounts', {
    name: 'Conversation mailbox', email: mail.email, visibility: 'private',
    imap: { host: mail.host, port: mail.port, secure: false, username: mail.user, password: mail.password, allowInsecure: true },
    smtp: { host: stack.sink.host, port: stack.sink.port, secure: false, username: stack.sink.user, password: stack.sink.password, allowInsecure: true },
  });
  await waitForInbox(page, stack.base, account.id, 3);
  await page.goto(`${stack.base}/inbox?accountId=${account.id}`);
  await page.waitForFunction(() => document.querySelectorAll('.message-row').length === 3);
  await page.getByRole('button', { name: 'Conversations', exact: true }).click();
  await page.waitForURL(/view=conversations/);
  await page.waitForFunction(() => document.querySelectorAll('.message-row').length === 2);
  const rental = row(page, 'Re: Rental income');
  t.match(await rental.innerText(), /2/, 'the conversation row carries its count');
  t.ok(await rental.getByText('2 messages in this conversation').count(), 'said for screen readers');
  await page.getByRole('button', { name: 'Messages', exact: true }).click();
  await page.waitForFunction(() => document.querySelectorAll('.message-row').length === 3);
  t.pass('and back to one row per message');

  // The client's Emails tab: unread count on the tab, both views.
  const client = await apiWrite<{ id: string }>(page, stack.base, 'POST', '/clients', { name: `Conversation Client ${stamp}` });
  await apiWrite(page, stack.base, 'POST', '/contacts', { name: 'Carmen Client', emails: [{ address: carmen }], clientIds: [client.id] });
  await page.goto(`${stack.base}/clients/${client.id}/emails`);
  await page.getByRole('link', { name: /Emails/ }).getByLabel('3 unread emails').waitFor();
  await page.getByTestId('client-unread-count').filter({ hasText: '3 unread' }).waitFor();
  t.equal(await page.locator('tr.row-unread').count(), 3, 'unread rows in bold');
  await page.getByRole('button', { name: 'Conversations', exact: true }).click();
  await page.waitForFunction(() => document.querySelectorAll('tbody tr').length === 2);
  t.ok(await page.locator('tbody tr', { hasText: 'Rental income' }).getByText('2 messages').count(), 'one row per conversation with its count');
  const list = await apiGet<{ items: Summary[] }>(page, stack.base, `/messages?clientId=${client.id}&view=conversations`);
  t.same(list.items.map((m) => m.threadCount), [1, 2]);
  t.same(problems, [], 'no script errors');
});
