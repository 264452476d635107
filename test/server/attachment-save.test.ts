// One attachment to a client's documents (issue 15): POST /api/attachments/:id/save renames, categorises from
// the managed list and sets visibility; the same bytes for the same client answer 200 with the existing
// document; the caller must see the message. Document categories: staff add and rename, admins delete.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { startTestApp, userSession } from '../support/app.ts';
import { createTestAccount, createTestClient, createTestMessage, createTestPdf } from '../support/factories.ts';
import { uniq } from '../support/env.ts';

const ta = await startTestApp();
t.teardown(ta.close);
const { db, blobs } = ta;

const attachmentOf = async (s: { request: (m: string, u: string) => Promise<{ json: () => { attachments: { id: string }[] } }> }, messageId: string) =>
  (await s.request('GET', `/api/messages/${messageId}`)).json().attachments[0]!.id;

t.test('save: rename, category, visibility; same bytes again → 200 with the same document; private mail stays private', async (t) => {
  const alice = await userSession(ta);
  const bob = await userSession(ta);
  const box = await createTestAccount(db, alice.user, { visibility: 'private' });
  const pdf = createTestPdf(30_000);
  const message = await createTestMessage(db, blobs, { locations: [{ mailbox: box.inbox }], attachments: [{ filename: 'scan0001.pdf', contentType: 'application/pdf', content: pdf }] });
  const again = await createTestMessage(db, blobs, { locations: [{ mailbox: box.inbox }], attachments: [{ filename: 'copy.pdf', contentType: 'application/pdf', content: pdf }] });
  const client = await createTestClient(db);
  const attachmentId = await attachmentOf(alice, message.id);
  const category = uniq('Annual accounts');

  const probe = await bob.request('POST', `/api/attachments/${attachmentId}/save`, { clientId: client.id });
  const missing = await bob.request('POST', `/api/attachments/${randomUUID()}/save`, { clientId: client.id });
  t.equal(probe.statusCode, 404, "a colleague's unfiled private mail cannot be saved");
  t.same(probe.json(), missing.json(), 'and reads exactly like an unknown id');

  const bad = await alice.request('POST', `/api/attachments/${attachmentId}/save`, { clientId: randomUUID() });
  t.equal(bad.statusCode, 400);
  t.equal(bad.json().error.field, 'clientId');

  const res = await alice.request('POST', `/api/attachments/${attachmentId}/save`, { clientId: client.id, filename: 'Cuentas anuales 2025.pdf', category: `  ${category.toUpperCase()} ` });
  t.equal(res.statusCode, 201);
  const { document, created } = res.json();
  t.equal(created, true);
  t.match(document, { clientId: client.id, name: 'Cuentas anuales 2025.pdf', visibleToClient: true, source: 'email', status: 'saved', messageId: message.id, size: 30_000, contentType: 'application/pdf' });
  t.equal(document.category, category.toUpperCase(), 'a new category is added to the list as typed');
  const listed = (await alice.request('GET', '/api/document-categories')).json().items.map((c: { name: string }) => c.name);
  t.ok(listed.includes(category.toUpperCase()), 'the category is on the managed list');

  const dup = await alice.request('POST', `/api/attachments/${await attachmentOf(alice, again.id)}/save`, { clientId: client.id, filename: 'other name.pdf', visibleToClient: false });
  t.equal(dup.statusCode, 200, 'the same bytes again');
  t.same(dup.json(), { document, created: false }, 'answer the existing document, unchanged');

  const other = await createTestClient(db);
  const hidden = await alice.request('POST', `/api/attachments/${attachmentId}/save`, { clientId: other.id, visibleToClient: false, category: category.toLowerCase() });
  t.equal(hidden.statusCode, 201, 'another client gets its own document');
  t.match(hidden.json().document, { name: 'scan0001.pdf', visibleToClient: false, category: category.toUpperCase() }, 'default name; the list spelling of the category');
  const docs = (await alice.request('GET', `/api/clients/${client.id}/documents`)).json().items;
  t.equal(docs.length, 1, 'one document for the client');
});

t.test('document categories: staff add and rename (documents follow), only admins turn off or delete (documents lose it)', async (t) => {
  const staff = await userSession(ta);
  const admin = await userSession(ta, 'admin');
  const name = uniq('Payroll');
  const created = await staff.request('POST', '/api/document-categories', { name });
  t.equal(created.statusCode, 201);
  const id = created.json().id;
  t.equal((await staff.request('POST', '/api/document-categories', { name })).statusCode, 409, 'names are unique');
  const box = await createTestAccount(db, staff.user, { visibility: 'private' });
  const message = await createTestMessage(db, blobs, { locations: [{ mailbox: box.inbox }], attachments: [{ filename: 'nomina.pdf', contentType: 'application/pdf', content: createTestPdf(20_000) }] });
  const client = await createTestClient(db);
  const doc = (await staff.request('POST', `/api/attachments/${await attachmentOf(staff, message.id)}/save`, { clientId: client.id, category: name })).json().document;
  const renamed = await staff.request('PATCH', `/api/document-categories/${id}`, { name: `${name} (monthly)` });
  t.equal(renamed.statusCode, 200);
  t.equal((await staff.request('GET', `/api/clients/${client.id}/documents`)).json().items[0].category, `${name} (monthly)`, 'documents follow a rename');
  t.equal((await staff.request('PATCH', `/api/document-categories/${id}`, { active: false })).statusCode, 403, 'staff cannot turn one off');
  t.equal((await staff.request('DELETE', `/api/document-categories/${id}`)).statusCode, 403, 'staff cannot delete');
  t.equal((await admin.request('DELETE', `/api/document-categories/${id}`)).statusCode, 204);
  const after = (await staff.request('GET', `/api/clients/${client.id}/documents`)).json().items.find((d: { id: string }) => d.id === doc.id);
  t.equal(after.category, null, 'the document stays, without the category');
});
