// The share dialog on a client's Documents tab in a real Chromium: only contacts that receive documents
// can be chosen (the others say why), sending queues one email per contact with a personal link that
// downloads the document without signing in; the shares list shows the download and withdraws the links. Screenshot: test-results/share-dialog.png.
import t from 'tap';
import { openOutboxBody } from '../../src/core/outbox/outbox-secrets.ts';
import { createUploadedDocument } from '../../src/core/documents/documents.ts';
import { openPage, saveScreenshot } from '../support/browser.ts';
import { startWebTest } from '../support/web.ts';
import { uniq, uniqEmail } from '../support/env.ts';
import { createTestAccount, createTestClient, createTestContact, createTestPdf, createTestUser } from '../support/factories.ts';

const { ta, base, browser, signIn, close } = await startWebTest();
t.teardown(close);
const filing = { blobs: ta.blobs, maxAttachmentBytes: ta.config.maxAttachmentBytes };

t.test('share a document with a contact from the Documents tab', async (t) => {
  const { user, email, password } = await createTestUser(ta.db, 'staff', 'Share User');
  await createTestAccount(ta.db, user);
  const client = await createTestClient(ta.db, uniq('Acme'));
  const yes = uniqEmail('yes');
  const no = uniqEmail('no');
  await createTestContact(ta.db, filing, { name: 'Yara Yes', emails: [{ address: yes, language: 'es' }], clientIds: [client.id] });
  await createTestContact(ta.db, filing, { name: 'Noah No', emails: [{ address: no, language: 'en', notify: false }], clientIds: [client.id] });
  const content = createTestPdf(5000);
  const stored = await ta.blobs.put(content);
  const em = ta.db.em.fork();
  const doc = await createUploadedDocument(em, null, client.id, { ...stored, filename: 'annual-report.pdf', contentType: 'application/pdf' });
  // Hidden from the client: the dialog offers only documents the client's contacts may receive.
  await createUploadedDocument(em, null, client.id, { ...(await ta.blobs.put(createTestPdf(4000))), filename: 'internal-draft.pdf', contentType: 'application/pdf', visibleToClient: false });
  await em.flush();

  const { context, page, problems } = await openPage(browser);
  t.teardown(() => context.close());
  await signIn(page, email, password, `/login?next=/clients/${client.id}/documents`);
  await page.getByRole('button', { name: 'Share documents…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Share documents' });
  await dialog.getByRole('checkbox', { name: 'annual-report.pdf' }).check();
  t.equal(await dialog.getByRole('checkbox', { name: 'internal-draft.pdf' }).count(), 0, 'a hidden document is not offered');
  t.ok(await dialog.getByRole('checkbox', { name: new RegExp(`Noah No <${no}>`) }).isDisabled(), 'notify off: cannot be chosen');
  await dialog.getByText('does not receive notifications').waitFor();
  await dialog.getByRole('checkbox', { name: new RegExp(`Yara Yes <${yes}>`) }).check();
  t.equal(await dialog.getByLabel('Links expire after (days, 1–90)').inputValue(), '14', '14 days by default');
  await dialog.getByLabel('Note (optional)').fill('Your report.');
  await saveScreenshot(page, 'share-dialog');
  await dialog.getByRole('button', { name: 'Send links' }).click();
  await dialog.getByRole('status').filter({ hasText: 'Links sent: 1 email.' }).waitFor();
  t.pass('the dialog confirms, in the singular');

  const rows = await ta.db.em.fork().execute<{ text: string; html: string | null; sealed: boolean; to: { address: string }[] }[]>(`select text, html, sealed, "to" from outbox where kind = 'share' and client_id = ?`, [client.id]);
  t.same(rows.map((r) => r.to.map((a) => a.address)), [[yes]], 'one email, to the chosen contact');
  t.notMatch(rows[0]!.text, /\/s\//, 'the stored row holds no working link (sealed with the secret key)');
  const { text } = openOutboxBody(ta.config.secretKey, rows[0]!);
  t.match(text, 'ha compartido un documento con usted', 'in the contact\'s language');
  const link = /\/s\/[A-Za-z0-9._-]+/.exec(text)![0];
  const anonymous = await browser.newContext();
  t.teardown(() => anonymous.close());
  const download = await anonymous.request.get(`${base}${link}`);
  t.equal(download.status(), 200, 'the link works without signing in');
  t.ok(Buffer.from(await download.body()).equals(content), 'and gives the document');
  const [visible] = await ta.db.em.fork().execute<{ visible_to_client: boolean }[]>('select visible_to_client from document where id = ?', [doc.id]);
  t.equal(visible!.visible_to_client, true, 'the shared document is visible to the client');

  // The client's shares: who downloaded what, and withdrawing the links.
  await dialog.getByRole('button', { name: 'Close' }).first().click();
  // Sharing made it visible: the table says so without a reload.
  const row = page.getByRole('row').filter({ hasText: 'annual-report.pdf' });
  await row.getByRole('switch', { name: 'Visible' }).waitFor();
  t.ok(await row.getByRole('switch').isChecked(), 'the document shows "Visible" after sharing, without a reload');
  await page.getByRole('button', { name: 'Shares', exact: true }).click();
  const shares = page.getByRole('dialog', { name: 'Shares' });
  const card = shares.locator('.share-card');
  await card.getByText(/Links work until/).waitFor();
  t.match(await card.innerText(), new RegExp(`Yara Yes <${yes}>: annual-report\\.pdf \\(`), 'the download is listed with the recipient');
  page.once('dialog', (d) => void d.accept());
  await card.getByRole('button', { name: 'Withdraw links' }).click();
  await card.getByText(/Withdrawn on/).waitFor();
  t.equal((await anonymous.request.get(`${base}${link}`)).status(), 410, 'a withdrawn link no longer gives the file');
  t.same(problems, [], 'no console errors');
});
