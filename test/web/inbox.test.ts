// Inbox+ and the message view in a real Chromium against the real server, a sync worker, Dovecot and an SMTP
// sink: a new user adds a mailbox, sees the mail, opens a message and replies (threading headers, Sent copy,
// reply in the thread); the keyboard-only path j/k/Enter/r/f/Esc; screenshots in en and es.
import t from 'tap';
import type { Page } from 'playwright-core';
import { phoneViewport, saveScreenshot } from '../support/browser.ts';
import { headerValues } from '../support/sending.ts';
import { addMailbox, apiGet, apiWrite, clientMessage, signInNewUser, startMailStack, waitForInbox } from './inbox-helpers.ts';

const stack = await startMailStack();

/** Full-page shots from the top, so the sticky top bar sits where it belongs. */
async function shoot(page: Page, name: string) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await saveScreenshot(page, name);
}
t.teardown(() => stack.close());

t.test('a new user adds a mailbox, sees it in Inbox+, opens a message and replies', async (t) => {
  const mail = await stack.dovecot.addUser({ prefix: 'ui' });
  const first = clientMessage({ to: mail.email, subject: 'Quarterly VAT return', body: 'Hi,\r\n\r\nAttached is the VAT form.\r\n\r\nOn Monday, you wrote:\r\n> Send the form please.\r\n> Thanks\r\n', minutesAgo: 90, pdf: 'vat-q3.pdf' });
  const second = clientMessage({ to: mail.email, subject: 'Payroll question', minutesAgo: 30 });
  const third = clientMessage({ to: mail.email, subject: 'Meeting on Friday', from: '"Pieter Partner" <pieter@partner.example>', minutesAgo: 5 });
  for (const m of [first, second, third]) await stack.dovecot.deliver(mail.user, m.raw);

  const { context, page, problems } = await signInNewUser(stack, 'Ana Asesora');
  t.teardown(() => context.close());
  await page.getByRole('heading', { level: 1, name: 'Inbox' }).waitFor();

  // Nothing to show and no mailbox of one's own: the empty list says where to add one.
  await page.goto(`${stack.base}/inbox?q=nothing-${Date.now()}`);
  const addLink = page.getByRole('link', { name: 'Add one under Settings → Mail accounts' });
  await addLink.waitFor();
  t.equal(await addLink.getAttribute('href'), '/settings#settings-accounts', 'the empty Inbox links to Settings → Mail accounts');

  const account = await addMailbox(page, stack, mail);
  await waitForInbox(page, stack.base, account.id, 3);
  // A mailbox, but nothing of it filed: the way to get mail filed is adding clients.
  await page.goto(`${stack.base}/inbox?accountId=${account.id}&filed=true`);
  const clientsLink = page.getByRole('link', { name: 'Add clients and their contacts' });
  await clientsLink.waitFor();
  t.equal(await clientsLink.getAttribute('href'), '/clients', 'with mailboxes but nothing filed it links to Clients');
  t.equal(await addLink.count(), 0, 'and no longer to Settings');
  await page.goto(`${stack.base}/inbox`);
  // Mail filed to clients is the firm's and visible to everyone: narrow Inbox+ to the new mailbox.
  await page.getByText('Filters', { exact: true }).click();
  await page.getByLabel('Mailbox').selectOption({ label: 'Firm mailbox' });
  await page.waitForURL(/accountId=/);
  const rows = page.getByRole('list', { name: 'Messages, newest first' }).getByRole('link');
  await page.waitForFunction(() => document.querySelectorAll('.message-row').length === 3);
  t.equal(await rows.count(), 3, 'every message of the new mailbox is listed');
  const texts = await rows.allInnerTexts();
  t.match(texts[0], /Pieter Partner[\s\S]*Meeting on Friday/, 'newest first, with sender and subject');
  t.match(texts[2], /Carmen Client[\s\S]*Quarterly VAT return[\s\S]*Attached is the VAT form/, 'oldest last, with its snippet');
  t.ok(await rows.nth(2).getByText('Has attachments').count(), 'attachment mark on the message with a PDF');
  t.equal(await rows.nth(0).getByText('Has attachments').count(), 0, 'no mark on a message without one');
  t.ok(await page.locator('.message-item.unread').count() >= 3, 'new mail is unread for this user (bold)');
  await shoot(page, 'inbox-list-en');

  // Search narrows the list (full-text on the server).
  await page.getByRole('searchbox', { name: 'Search mail' }).fill('payroll');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.waitForURL(/q=payroll/);
  await page.waitForFunction(() => document.querySelectorAll('.message-row').length === 1);
  t.match(await rows.first().innerText(), /Payroll question/, 'search finds the message');
  await page.getByRole('searchbox', { name: 'Search mail' }).fill('');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.waitForFunction(() => document.querySelectorAll('.message-row').length === 3);

  // Open the oldest: headers, text with the quote collapsed, attachment with download and preview.
  await rows.nth(2).click();
  await page.getByRole('heading', { level: 1, name: 'Quarterly VAT return' }).waitFor();
  t.match(new URL(page.url()).pathname, /^\/inbox\/[0-9a-f-]{36}$/, 'the message has its own address');
  t.ok(await page.getByText('Attached is the VAT form.').isVisible(), 'the text is shown');
  t.notOk(await page.getByText('Send the form please.').isVisible(), 'the quoted part starts collapsed');
  await page.getByText('Show quoted text').click();
  t.ok(await page.getByText('Send the form please.').isVisible(), 'and opens on request');
  const download = page.getByRole('link', { name: 'Download vat-q3.pdf' });
  t.match(await download.getAttribute('href'), /^\/api\/attachments\/[0-9a-f-]{36}$/, 'attachment download link');
  const file = await page.request.get(`${stack.base}${await download.getAttribute('href')}`);
  t.equal(file.status(), 200, 'the download answers');
  t.match(file.headers()['content-disposition'], /^attachment/, 'as an attachment');
  await page.getByRole('button', { name: 'Preview vat-q3.pdf' }).click();
  const preview = page.getByRole('dialog', { name: 'vat-q3.pdf' });
  await preview.waitFor();
  t.match(await preview.locator('iframe').getAttribute('src'), /\?inline=1$/, 'PDF previewed inline');
  await page.keyboard.press('Escape');
  await preview.waitFor({ state: 'hidden' });
  await shoot(page, 'message-view-en');

  // File it to a client and tag the log record (reason and area).
  const client = await apiWrite<{ id: string; name: string }>(page, stack.base, 'POST', '/clients', { name: `Ruiz Asesores ${Date.now()}` });
  await page.getByRole('button', { name: 'File to client…' }).click();
  const picker = page.getByRole('dialog', { name: 'File to client' });
  await picker.getByLabel('Search clients').fill(client.name.slice(0, 12));
  await picker.getByRole('button', { name: client.name }).click();
  await picker.waitFor({ state: 'hidden' });
  await page.getByRole('link', { name: client.name }).waitFor();
  t.ok(await page.getByRole('status').filter({ hasText: `Filed to ${client.name}.` }).count(), 'filing confirmed');
  const record = page.getByRole('group', { name: `Log record for ${client.name}` });
  await record.getByLabel('Reason').waitFor();
  t.pass('the log record can be tagged');

  // Reply with a little formatting; the worker sends it through the sink and saves it to Sent.
  await page.getByRole('button', { name: 'Reply', exact: true }).click();
  const editor = page.getByRole('textbox', { name: 'Message' });
  await editor.waitFor();
  const from = page.getByLabel('From', { exact: true });
  await page.waitForFunction(() => (document.querySelector('select[id$="-from"]') as HTMLSelectElement | null)?.value);
  t.equal(await from.inputValue(), account.id, 'sent from the mailbox the message came through');
  await editor.click();
  await page.keyboard.type('Thank you, ');
  await page.getByRole('button', { name: 'Bold' }).click();
  await page.keyboard.type('received');
  await page.getByRole('button', { name: 'Bold' }).click();
  await page.keyboard.type('.');
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await page.getByText('Sent.', { exact: true }).waitFor({ timeout: 30_000 });

  const sent = await stack.sink.waitFor((m) => m.raw.toString('latin1').includes(first.messageId), 10_000);
  t.equal(headerValues(sent.raw, 'in-reply-to')[0], `<${first.messageId}>`, 'In-Reply-To names the original');
  t.match(headerValues(sent.raw, 'references')[0], `<${first.messageId}>`, 'References includes the original');
  t.match(headerValues(sent.raw, 'subject')[0], /^Re: Quarterly VAT return$/, 'Re: subject');
  t.same(sent.to, ['carmen@client.example'], 'to the sender');
  t.match(sent.raw.toString('utf8'), /<(b|strong)>received<\/(b|strong)>/, 'the HTML part keeps the bold');
  t.match(sent.raw.toString('utf8'), /Thank you, received\./, 'with a text alternative');

  await page.getByText('2 messages in this conversation').waitFor({ timeout: 30_000 });
  t.pass('the reply appears in the thread');
  t.equal(await stack.dovecot.messageCount(mail.user, 'Sent'), 1, 'and in the Sent folder on the server');
  const thread = page.getByRole('list', { name: 'Conversation' }).locator(':scope > li');
  t.match(await thread.nth(1).innerText(), /Thank you, received/, 'oldest first: the reply comes last');

  // The same screens in Spanish.
  await page.getByLabel('Language').selectOption('es');
  await page.getByRole('heading', { level: 1, name: 'Quarterly VAT return' }).waitFor();
  await page.getByRole('button', { name: 'Responder', exact: true }).waitFor();
  await shoot(page, 'message-view-es');
  await page.keyboard.press('Escape');
  await page.getByRole('heading', { level: 1, name: 'Bandeja de entrada' }).waitFor();
  await page.getByRole('list', { name: 'Mensajes, los más recientes primero' }).waitFor();
  await shoot(page, 'inbox-list-es');

  // Phone width: no sideways scrolling in the list or the message.
  await page.setViewportSize(phoneViewport);
  const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  t.ok((await overflow()) <= 0, 'Inbox+ fits a phone screen');
  await shoot(page, 'inbox-list-phone-es');
  await page.locator('.message-row').nth(2).click();
  await page.getByRole('heading', { level: 1, name: 'Quarterly VAT return' }).waitFor();
  t.ok((await overflow()) <= 0, 'the message view fits a phone screen');
  await shoot(page, 'message-view-phone-es');
  t.same(problems, [], 'no script errors');
});

t.test('keyboard only: j/k move, Enter opens, f files, j/k in the message, r replies, Esc goes back', async (t) => {
  const mail = await stack.dovecot.addUser({ prefix: 'kb' });
  const subjects = ['Invoice 2031', 'Tax certificate', 'Lease contract'];
  for (const [i, subject] of subjects.entries()) await stack.dovecot.deliver(mail.user, clientMessage({ to: mail.email, subject, minutesAgo: 10 * (i + 1) }).raw);
  // Older mail beyond the first page (50), for the infinite scroll at the end.
  const older = Array.from({ length: 52 }, (_, i) => clientMessage({ to: mail.email, subject: `Archive note ${i + 1}`, minutesAgo: 600 + i }).raw);
  await stack.dovecot.deliverMany(mail.user, older);
  const { context, page, problems } = await signInNewUser(stack, 'Kees Toetsenbord');
  t.teardown(() => context.close());
  const account = await addMailbox(page, stack, mail);
  const client = await apiWrite<{ id: string; name: string }>(page, stack.base, 'POST', '/clients', { name: `Keyboard Client ${Date.now()}` });
  await waitForInbox(page, stack.base, account.id, 55);
  await page.goto(`${stack.base}/inbox?accountId=${account.id}`);
  await page.waitForFunction(() => document.querySelectorAll('.message-row').length === 50);
  const focused = () => page.evaluate(() => (document.activeElement as HTMLElement | null)?.innerText ?? '');

  await page.keyboard.press('j');
  t.match(await focused(), /Tax certificate/, 'j moves to the next message');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
  t.not(outline, 'none', 'the focused row has a visible focus ring');
  await page.keyboard.press('j');
  t.match(await focused(), /Lease contract/, 'j again');
  await page.keyboard.press('k');
  t.match(await focused(), /Tax certificate/, 'k moves back');

  await page.keyboard.press('f');
  const picker = page.getByRole('dialog', { name: 'File to client' });
  await picker.waitFor();
  await page.keyboard.type(client.name);
  await picker.getByRole('button', { name: client.name }).waitFor();
  // Tab goes to the first result: wait until the search has replaced the unfiltered list (other tests' clients).
  await picker.locator('li button').first().filter({ hasText: client.name }).waitFor();
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await picker.waitFor({ state: 'hidden' });
  await page.locator('.message-item.active .chip', { hasText: client.name }).waitFor();
  t.pass('f files the focused message to a client');

  await page.keyboard.press('/');
  t.equal(await page.evaluate(() => document.activeElement?.id), 'inbox-search', '/ goes to the search box');
  await page.keyboard.press('Escape');
  t.match(await focused(), /Tax certificate/, 'Esc leaves the search box for the list');

  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: 'Tax certificate' }).waitFor();
  t.pass('Enter opens the message');
  await page.keyboard.press('j');
  await page.getByRole('heading', { level: 1, name: 'Lease contract' }).waitFor();
  await page.keyboard.press('k');
  await page.getByRole('heading', { level: 1, name: 'Tax certificate' }).waitFor();
  t.pass('j/k in the message view go to the next and previous message of the list');
  await page.keyboard.press('r');
  const editor = page.getByRole('textbox', { name: 'Message' });
  await editor.waitFor();
  await page.waitForFunction(() => (document.activeElement as HTMLElement | null)?.isContentEditable === true);
  t.pass('r opens a reply with the cursor in the editor');
  await page.keyboard.type('Received, thank you.');
  for (let i = 0; i < 15; i++) {
    await page.keyboard.press('Tab');
    if ((await focused()) === 'Send') break;
  }
  t.equal(await focused(), 'Send', 'Tab reaches Send');
  await page.keyboard.press('Enter');
  await page.getByText('Sent.', { exact: true }).waitFor({ timeout: 30_000 });
  const sent = await stack.sink.waitFor((m) => m.raw.toString('utf8').includes('Received, thank you.'), 10_000);
  t.match(headerValues(sent.raw, 'subject')[0], /^Re: Tax certificate$/, 'the keyboard reply went out');

  await page.locator('body').focus();
  await page.keyboard.press('Escape');
  await page.getByRole('heading', { level: 1, name: 'Inbox' }).waitFor();
  await page.waitForFunction(() => /Tax certificate/.test((document.activeElement as HTMLElement | null)?.innerText ?? ''));
  t.pass('Esc returns to Inbox+ with the same message focused');
  t.equal(new URL(page.url()).searchParams.get('accountId'), account.id, 'and the same filters');
  const list = await apiGet<{ items: { subject: string; clients: { name: string }[] }[] }>(page, stack.base, `/messages?accountId=${account.id}&clientId=${client.id}`);
  t.same(list.items.map((m) => m.subject), ['Tax certificate'], 'filed on the server');

  // Infinite scroll: reaching the end of the first 50 loads the rest.
  await page.locator('.message-row').last().scrollIntoViewIfNeeded();
  await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
  await page.waitForFunction(() => document.querySelectorAll('.message-row').length === 55);
  t.match(await page.locator('.message-row').last().innerText(), /Archive note 52/, 'the oldest message arrives at the end');
  t.same(problems, [], 'no script errors');
});
