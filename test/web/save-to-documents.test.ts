// "Save to documents" from a message in a real Chromium (issue 15): the action on an attachment opens a
// dialog (client, name, category, visibility); saving creates the client's document, saving again says
// the client already has the file.
import t from 'tap';
import { startWebTest } from '../support/web.ts';
import { openPage, saveScreenshot } from '../support/browser.ts';
import { createTestAccount, createTestClient, createTestCommunication, createTestMessage, createTestPdf, createTestUser, TEST_PASSWORD } from '../support/factories.ts';
import { uniq } from '../support/env.ts';

const w = await startWebTest();
t.teardown(w.close);

t.test('save one attachment to the client\'s documents, renamed and categorised; the second time it is already there', async (t) => {
  const { user, email } = await createTestUser(w.ta.db);
  const box = await createTestAccount(w.ta.db, user, { visibility: 'private' });
  const client = await createTestClient(w.ta.db, uniq('Bakkerij Bakker'));
  const subject = uniq('Jaarrekening');
  const message = await createTestMessage(w.ta.db, w.ta.blobs, {
    subject, locations: [{ mailbox: box.inbox }],
    attachments: [{ filename: 'scan0001.pdf', contentType: 'application/pdf', content: createTestPdf(25_000) }],
  });
  await createTestCommunication(w.ta.db, message, client);
  // The message on a page of its own (the shared test viewport): see the closing note on the reading pane.
  const { context, page } = await openPage(w.browser);
  t.teardown(() => context.close());
  await w.signIn(page, email, TEST_PASSWORD, `/inbox/${message.id}`);
  await page.getByRole('heading', { level: 1, name: subject }).waitFor();

  await page.getByRole('button', { name: 'Save scan0001.pdf to documents' }).click();
  const dialog = page.getByRole('dialog', { name: 'Save scan0001.pdf to documents' });
  await dialog.waitFor();
  t.equal(await dialog.getByLabel('Client', { exact: true }).inputValue(), client.id, 'the client the message is filed to is chosen');
  await dialog.getByLabel('Document name').fill('Jaarrekening 2025.pdf');
  const category = uniq('Annual accounts');
  await dialog.getByLabel('Category').fill(category);
  t.ok(await dialog.getByLabel(/Visible to the client/).isChecked(), 'visible by default, as an upload');
  await dialog.getByRole('button', { name: 'Save', exact: true }).click();
  await dialog.getByRole('status').filter({ hasText: `Saved Jaarrekening 2025.pdf to the documents of ${client.name}.` }).waitFor();
  await saveScreenshot(page, 'save-to-documents-en');

  const docs = await page.evaluate(async (id) => (await fetch(`/api/clients/${id}/documents`)).json(), client.id) as { items: { name: string; category: string; visibleToClient: boolean; messageId: string }[] };
  t.match(docs.items, [{ name: 'Jaarrekening 2025.pdf', category, visibleToClient: true, messageId: message.id }], 'the client has the document');

  await dialog.getByRole('button', { name: 'Save', exact: true }).click();
  await dialog.getByRole('status').filter({ hasText: `${client.name} already has this file: Jaarrekening 2025.pdf.` }).waitFor();
  const after = await page.evaluate(async (id) => (await fetch(`/api/clients/${id}/documents`)).json(), client.id) as { items: unknown[] };
  t.equal(after.items.length, 1, 'no second document');
  await dialog.getByRole('link', { name: 'Open documents' }).click();
  await page.waitForURL(`**/clients/${client.id}/documents`);
});
