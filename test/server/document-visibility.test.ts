// "Visible to client" means something (issue 15): a visible document is one the client's contacts may receive.
// One default everywhere: uploads are visible, auto-saved attachments are not; sharing a hidden document makes
// it visible in the same transaction; GET /api/clients/:id/documents?visible= and /visible-documents list them.
import t from 'tap';
import { startTestApp, userSession } from '../support/app.ts';
import { uniqEmail } from '../support/env.ts';
import { createFiledTestMessage, createTestAccount, createTestClient, createTestContact, createTestPdf } from '../support/factories.ts';

const ta = await startTestApp();
t.teardown(ta.close);
const { db, blobs } = ta;
const filing = { blobs, maxAttachmentBytes: ta.config.maxAttachmentBytes };

const BOUNDARY = 'dossier-visibility-boundary';
const upload = (filename: string, content: Buffer) => ({
  body: Buffer.concat([
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: application/pdf\r\n\r\n`),
    content, Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ]),
  headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
});

t.test('an upload is visible, an auto-saved attachment is not, sharing the hidden one makes it visible', async (t) => {
  const alice = await userSession(ta);
  const box = await createTestAccount(db, alice.user, { visibility: 'public' });
  const client = await createTestClient(db);
  const addr = uniqEmail('visible');
  await createTestContact(db, filing, { emails: [{ address: addr, autoSaveAttachments: true }], clientIds: [client.id] });

  const file = upload('Balance 2025.pdf', createTestPdf(12_000));
  const up = await alice.request('POST', `/api/clients/${client.id}/documents`, file.body, file.headers);
  t.equal(up.statusCode, 201, up.body);
  const uploaded = up.json().items[0];
  t.equal(uploaded.visibleToClient, true, 'an upload without the field is visible');

  await createFiledTestMessage(db, blobs, { from: addr, to: [box.account.email], locations: [{ mailbox: box.inbox }], attachments: [{ filename: 'invoice.pdf', contentType: 'application/pdf', content: createTestPdf(15_000) }] }, filing);
  const all = (await alice.request('GET', `/api/clients/${client.id}/documents`)).json().items as { id: string; name: string; source: string; visibleToClient: boolean }[];
  const auto = all.find((d) => d.name === 'invoice.pdf');
  t.ok(auto, 'the attachment was auto-saved');
  t.match(auto, { source: 'email', visibleToClient: false }, 'an auto-saved attachment is hidden');

  const visibleIds = async () => (await alice.request('GET', `/api/clients/${client.id}/documents?visible=true`)).json().items.map((d: { id: string }) => d.id);
  t.same(await visibleIds(), [uploaded.id], 'the share dialog is offered only the visible upload');
  t.same((await alice.request('GET', `/api/clients/${client.id}/documents?visible=false`)).json().items.map((d: { id: string }) => d.id), [auto!.id]);
  const overview = (await alice.request('GET', `/api/clients/${client.id}/visible-documents`)).json();
  t.equal(overview.total, 1);
  t.same(overview.items.map((d: { id: string }) => d.id), [uploaded.id]);

  const recipients = (await alice.request('GET', `/api/clients/${client.id}/contact-addresses`)).json().items as { contactEmailId: string; address: string }[];
  const recipient = recipients.find((r) => r.address === addr);
  t.ok(recipient, 'the contact may receive documents');
  const share = await alice.request('POST', `/api/clients/${client.id}/shares`, { documentIds: [auto!.id], contactEmailIds: [recipient!.contactEmailId], accountId: box.account.id });
  t.equal(share.statusCode, 201, share.body);
  t.equal((await alice.request('GET', `/api/documents/${auto!.id}/shares`)).statusCode, 200);
  const after = (await alice.request('GET', `/api/clients/${client.id}/documents`)).json().items.find((d: { id: string }) => d.id === auto!.id);
  t.equal(after.visibleToClient, true, 'a shared document is visible');
  t.same((await visibleIds()).sort(), [uploaded.id, auto!.id].sort());
  t.equal((await alice.request('GET', `/api/clients/${client.id}/visible-documents`)).json().total, 2, 'the overview counts it');
});
