// Compose in a real Chromium against the real server, sync worker, Dovecot and SMTP sink: a new message from
// Inbox+, a forward (the original attached unchanged), and a refused send shown with the mail server's words.
import t from 'tap';
import { saveScreenshot } from '../support/browser.ts';
import { headerValues } from '../support/sending.ts';
import { addMailbox, apiGet, apiWrite, clientMessage, signInNewUser, startMailStack, waitForInbox } from './inbox-helpers.ts';

const stack = await startMailStack();
t.teardown(() => stack.close());

t.test('new message, forward, add sender as contact, tag, upload, and a refused send explained', async (t) => {
  const mail = await stack.dovecot.addUser({ prefix: 'compose' });
  // A sender of its own: adding it as a contact files every message from that address in the shared database.
  const sender = `carmen-${Date.now()}@client.example`;
  const original = clientMessage({ to: mail.email, subject: 'Signed engagement letter', minutesAgo: 20, from: `"Carmen Client" <${sender}>` });
  await stack.dovecot.deliver(mail.user, original.raw);
  const { context, page, problems } = await signInNewUser(stack, 'Nora Nieuw', '/inbox', 'admin');
  t.teardown(() => context.close());
  const account = await addMailbox(page, stack, mail);
  await waitForInbox(page, stack.base, account.id, 1);
  await page.goto(`${stack.base}/inbox?accountId=${account.id}`);
  await page.locator('.message-row').first().waitFor();

  // New message from Inbox+.
  await page.getByRole('button', { name: 'New message' }).click();
  const dialog = page.getByRole('dialog', { name: 'New message' });
  await dialog.waitFor();
  await dialog.getByRole('button', { name: 'Send', exact: true }).click();
  t.equal(await dialog.getByText('Enter at least one recipient.').count(), 1, 'a message needs a recipient');
  await dialog.getByLabel('To', { exact: true }).fill('tax.office@agency.example, clerk@agency.example');
  t.equal(await dialog.getByText('Enter at least one recipient.').count(), 0, 'the hint goes once a recipient is typed');
  await dialog.getByLabel('Subject').fill('Filing extension request');
  await dialog.getByRole('textbox', { name: 'Message' }).click();
  await page.keyboard.type('We request a two-week extension for:');
  await page.keyboard.press('Enter');
  await dialog.getByRole('button', { name: 'Bulleted list' }).click();
  await page.keyboard.type('Client A');
  await saveScreenshot(page, 'compose-new-en');
  await dialog.getByRole('button', { name: 'Send', exact: true }).click();

  await dialog.getByText('Sent.', { exact: true }).waitFor({ timeout: 30_000 });
  const sentNew = await stack.sink.waitFor((m) => headerValues(m.raw, 'subject')[0] === 'Filing extension request', 10_000);
  t.same(sentNew.to.sort(), ['clerk@agency.example', 'tax.office@agency.example'], 'to both recipients');
  t.same(headerValues(sentNew.raw, 'in-reply-to'), [], 'a new message starts its own thread');
  t.match(sentNew.raw.toString('utf8'), /<ul><li>Client A(<br>)?<\/li><\/ul>/, 'the list survives as HTML');
  t.match(sentNew.raw.toString('utf8'), /We request a two-week extension for:/, 'after the text typed before it');
  await dialog.getByRole('button', { name: 'Close', exact: true }).last().click();
  await dialog.waitFor({ state: 'hidden' });

  // Forward: the original goes along as an attachment.
  // By subject: the sent message's copy may already have joined the top of the live list.
  await page.locator('.message-row', { hasText: 'Signed engagement letter' }).first().click();
  await page.getByRole('heading', { level: 1, name: 'Signed engagement letter' }).waitFor();
  await page.getByRole('button', { name: 'Forward' }).click();
  await page.getByLabel('To', { exact: true }).fill('partner@firm.example');
  t.equal(await page.getByLabel('Subject').inputValue(), 'Fwd: Signed engagement letter', 'Fwd: subject proposed');
  await page.getByRole('textbox', { name: 'Message' }).click();
  await page.keyboard.type('For your file.');
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await page.getByText('Sent.', { exact: true }).waitFor({ timeout: 30_000 });
  const forwarded = await stack.sink.waitFor((m) => m.to.includes('partner@firm.example'), 10_000);
  t.match(forwarded.raw.toString('utf8'), /Content-Type: message\/rfc822/i, 'the original is attached');
  t.match(forwarded.raw.toString('utf8'), new RegExp(original.messageId.replace(/[.-]/g, '\\$&')), 'unchanged, with its Message-ID');
  await page.getByRole('button', { name: 'Close', exact: true }).click();

  // Add the sender as a contact of a client: the message is filed there; then tag its log record.
  const client = await apiWrite<{ id: string; name: string }>(page, stack.base, 'POST', '/clients', { name: `Engagement Client ${Date.now()}` });
  const reason = await apiWrite<{ id: string; name: string }>(page, stack.base, 'POST', '/reasons', { name: `Engagement ${Date.now()}` });
  await page.getByRole('button', { name: 'Add sender as contact of…' }).click();
  const picker = page.getByRole('dialog', { name: 'Add sender as contact' });
  await picker.getByLabel('Search clients').fill(client.name);
  await picker.getByRole('button', { name: client.name }).click();
  await page.getByText(`${sender} is now a contact of ${client.name}; 1 message was filed.`).waitFor();
  await page.getByRole('link', { name: client.name }).waitFor();
  t.pass('the sender became a contact and the message was filed');
  const tags = page.getByRole('group', { name: `Log record for ${client.name}` });
  await tags.getByLabel('Reason').selectOption({ label: reason.name });
  await tags.getByText('Saved.').waitFor();
  const log = await apiGet<{ items: { messageId?: string; reason: { id: string } | null }[] }>(page, stack.base, `/clients/${client.id}/communications?kind=email`);
  t.equal(log.items[0]?.reason?.id, reason.id, 'the reason is on the client\'s log record');

  // Reply with a file uploaded from this computer: it becomes the client's document and goes along.
  await page.getByRole('button', { name: 'Reply', exact: true }).click();
  await page.getByLabel('Client', { exact: true }).selectOption(client.id);
  await page.getByLabel('Upload files').setInputFiles({ name: 'engagement-signed.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n%%EOF\n') });
  await page.getByRole('checkbox', { name: 'engagement-signed.pdf' }).waitFor();
  t.ok(await page.getByRole('checkbox', { name: 'engagement-signed.pdf' }).isChecked(), 'the upload is attached');
  await page.getByRole('textbox', { name: 'Message' }).click();
  await page.keyboard.type('Countersigned copy attached.');
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await page.getByText('Sent.', { exact: true }).waitFor({ timeout: 30_000 });
  const withFile = await stack.sink.waitFor((m) => m.raw.toString('utf8').includes('Countersigned copy attached.'), 10_000);
  t.match(withFile.raw.toString('utf8'), /filename="?engagement-signed\.pdf/, 'the uploaded file went with the reply');
  await page.getByRole('button', { name: 'Close', exact: true }).click();

  // The mail server refuses the next reply for good: the sender reads its words.
  stack.sink.rejectNext(1, 550, { message: 'Mailbox unavailable: recipient blocked by policy' });
  await page.getByRole('button', { name: 'Reply', exact: true }).click();
  await page.getByRole('textbox', { name: 'Message' }).click();
  await page.keyboard.type('This one will bounce.');
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  const alert = page.getByRole('alert').filter({ hasText: 'Not sent.' });
  await alert.waitFor({ timeout: 30_000 });
  t.match(await alert.innerText(), /Not sent\. The mail server said: .*recipient blocked by policy/, 'the failure in the server’s own words');
  t.ok(await page.getByRole('button', { name: 'Send', exact: true }).isVisible(), 'and the reply can be sent again');
  t.same(problems, [], 'no script errors');
});
