// Clients, contacts, filing preview / add-sender, bulk settings, CSV import, documents and the audit
// trail through the real server (app.inject) on real PostgreSQL, Redis and blob store.
import t from 'tap';
import { createHandlers } from '../../src/sync/handlers.ts';
import { startTestApp, userSession } from '../support/app.ts';
import { uniq, uniqEmail } from '../support/env.ts';
import { createFiledTestMessage, createTestAccount, createTestPdf, listMessageRecords } from '../support/factories.ts';

const ta = await startTestApp({ config: (await import('../support/env.ts')).testConfig({ DOSSIER_MAX_UPLOAD_MB: '1' }) });
t.teardown(ta.close);
const deps = { blobs: ta.blobs, maxAttachmentBytes: ta.config.maxAttachmentBytes };
const s = await userSession(ta);

async function newClient(name = uniq('Client'), taxId?: string) {
  const res = await s.request('POST', '/api/clients', { name, ...(taxId ? { taxId } : {}) });
  if (res.statusCode !== 201) throw new Error(res.body);
  return res.json() as { id: string; name: string };
}

t.test('client list items carry contacts, notify and sync; q searches; cursor pages', async (t) => {
  const tag = uniq('acme');
  const a = await newClient(`${tag} A`);
  const tax = uniq('B').toUpperCase();
  const b = await newClient(`${tag} B`, tax);
  await newClient(`${tag} C`);
  const c1 = await s.request('POST', '/api/contacts', { name: 'Ana', emails: [{ address: uniqEmail('ana'), notify: false }], clientIds: [a.id] });
  t.equal(c1.statusCode, 201);
  await s.request('POST', '/api/contacts', { name: 'Bo', emails: [{ address: uniqEmail('bo'), sync: false }], clientIds: [a.id] });
  const page1 = await s.request('GET', `/api/clients?q=${encodeURIComponent(tag)}&limit=2`);
  t.equal(page1.statusCode, 200);
  const body = page1.json();
  t.same(body.items[0], { id: a.id, name: `${tag} A`, taxId: null, contacts: 2, notify: true, sync: true, owner: null, restricted: false });
  t.same(body.items[1], { id: b.id, name: `${tag} B`, taxId: tax, contacts: 0, notify: false, sync: false, owner: null, restricted: false });
  t.ok(body.nextCursor);
  const page2 = (await s.request('GET', `/api/clients?q=${encodeURIComponent(tag)}&limit=2&cursor=${body.nextCursor}`)).json();
  t.same(page2.items.map((i: { name: string }) => i.name), [`${tag} C`]);
  t.equal(page2.nextCursor, null);
  const byTax = (await s.request('GET', `/api/clients?q=${tax}`)).json();
  t.same(byTax.items.map((i: { id: string }) => i.id), [b.id], 'tax id search');
  const detail = (await s.request('GET', `/api/clients/${a.id}`)).json();
  t.equal(detail.contactList.length, 2);
  t.equal((await s.request('GET', '/api/clients?cursor=garbage')).statusCode, 400);
});

t.test('bad input is a 400 naming the field', async (t) => {
  const empty = await s.request('POST', '/api/clients', { name: '' });
  t.equal(empty.statusCode, 400);
  t.equal(empty.json().error.field, 'name');
  const badAddr = await s.request('POST', '/api/contacts', { name: 'X', emails: [{ address: 'nope@' }] });
  t.equal(badAddr.statusCode, 400);
  t.equal(badAddr.json().error.field, 'emails.0.address');
  const badCat = await s.request('POST', '/api/contacts', { name: 'X', emails: [{ address: uniqEmail(), notifyCategories: ['spam'] }] });
  t.equal(badCat.statusCode, 400);
  t.match(badCat.json().error.field, /^emails\.0\.notifyCategories/);
  const unknown = await s.request('GET', '/api/clients/00000000-0000-4000-8000-000000000000');
  t.equal(unknown.statusCode, 404);
  const notUuid = await s.request('GET', '/api/clients/abc');
  t.equal(notUuid.statusCode, 400);
});

t.test('the preview count equals what adding the contact files; defaults are sync and notify on, auto-save off', async (t) => {
  const client = await newClient();
  const addr = uniqEmail('old');
  await createFiledTestMessage(ta.db, ta.blobs, { from: addr }, deps);
  await createFiledTestMessage(ta.db, ta.blobs, { to: [addr] }, deps);
  const preview = (await s.request('GET', `/api/filing-preview?address=${encodeURIComponent(addr)}&clientId=${client.id}`)).json();
  t.equal(preview.messages, 2);
  const res = await s.request('POST', '/api/contacts', { name: 'Old Friend', emails: [{ address: addr }], clientIds: [client.id] });
  t.equal(res.statusCode, 201);
  t.equal(res.json().filed, preview.messages);
  t.match(res.json().emails[0], { address: addr, sync: true, notify: true, autoSaveAttachments: false, language: 'en' });
  t.same(res.json().clients.map((c: { id: string }) => c.id), [client.id]);
  const missing = await s.request('GET', '/api/filing-preview');
  t.equal(missing.statusCode, 400);
  t.equal(missing.json().error.field, 'query.address');
});

t.test('contact address switches: PATCH sync off then on files what arrived meanwhile', async (t) => {
  const client = await newClient();
  const addr = uniqEmail('switch');
  const contact = (await s.request('POST', '/api/contacts', { name: 'S', emails: [{ address: addr }], clientIds: [client.id] })).json();
  const emailId = contact.emails[0].id;
  t.equal((await s.request('PATCH', `/api/contact-emails/${emailId}`, { sync: false })).json().filed, 0);
  const { message } = await createFiledTestMessage(ta.db, ta.blobs, { from: addr }, deps);
  t.same(await listMessageRecords(ta.db, message.id), []);
  const on = await s.request('PATCH', `/api/contact-emails/${emailId}`, { sync: true, language: 'es' });
  t.equal(on.statusCode, 200);
  t.equal(on.json().filed, 1);
  t.equal(on.json().language, 'es');
  const added = await s.request('POST', `/api/contacts/${contact.id}/emails`, { address: uniqEmail('second'), autoSaveAttachments: true });
  t.equal(added.statusCode, 201);
  t.equal(added.json().autoSaveAttachments, true);
  const dup = await s.request('POST', `/api/contacts/${contact.id}/emails`, { address: addr });
  t.equal(dup.statusCode, 409);
  t.equal(dup.json().error.code, 'address_taken');
});

t.test('add sender as contact files that message and the rest from the address', async (t) => {
  const box = await createTestAccount(ta.db, s.user, { visibility: 'private' });
  const client = await newClient();
  const sender = uniqEmail('newclient');
  const older = await createFiledTestMessage(ta.db, ta.blobs, { from: sender, sentAt: new Date('2024-03-01T09:00:00Z'), locations: [{ mailbox: box.inbox }] }, deps);
  const { message } = await createFiledTestMessage(ta.db, ta.blobs, { from: sender, locations: [{ mailbox: box.inbox }] }, deps);
  const res = await s.request('POST', `/api/messages/${message.id}/add-sender-as-contact`, { clientId: client.id, name: 'New Client Person' });
  t.equal(res.statusCode, 200);
  t.match(res.json(), { contactCreated: true, address: sender, clientId: client.id, filed: 2 });
  t.same((await listMessageRecords(ta.db, message.id)).map((r) => r.client_id), [client.id]);
  t.same((await listMessageRecords(ta.db, older.message.id)).map((r) => [r.client_id, r.initiated_by]), [[client.id, 'client']]);
  const again = await s.request('POST', `/api/messages/${message.id}/add-sender-as-contact`, { clientId: client.id });
  t.match(again.json(), { contactCreated: false, filed: 0 });
  // Someone else's unfiled private mail is not theirs to see, let alone file.
  const other = await userSession(ta);
  const privateMsg = await createFiledTestMessage(ta.db, ta.blobs, { from: uniqEmail('private'), locations: [{ mailbox: box.inbox }] }, deps);
  const denied = await other.request('POST', `/api/messages/${privateMsg.message.id}/add-sender-as-contact`, { clientId: client.id });
  t.equal(denied.statusCode, 404);
});

t.test('bulk contact settings: one bad client id is listed, the others change; dry run changes nothing', async (t) => {
  const a = await newClient();
  const b = await newClient();
  const addrA = uniqEmail('bulk-a');
  const addrB = uniqEmail('bulk-b');
  await s.request('POST', '/api/contacts', { name: 'A', emails: [{ address: addrA, sync: false }], clientIds: [a.id] });
  await s.request('POST', '/api/contacts', { name: 'B', emails: [{ address: addrB }], clientIds: [b.id] });
  const { message } = await createFiledTestMessage(ta.db, ta.blobs, { from: addrA }, deps);
  const missing = '00000000-0000-4000-8000-000000000001';
  const body = { clientIds: [a.id, missing, b.id, 'not-an-id'], sync: 'enable', autoSaveAttachments: 'enable' };
  const dry = await s.request('POST', '/api/clients/bulk/contact-settings', { ...body, dryRun: true });
  t.equal(dry.statusCode, 200);
  t.match(dry.json(), { changed: 2, unchanged: 0, dryRun: true });
  const listA = (await s.request('GET', `/api/clients?q=${encodeURIComponent(a.name)}`)).json().items[0];
  t.equal(listA.sync, false, 'dry run changed nothing');
  const real = await s.request('POST', '/api/clients/bulk/contact-settings', body);
  const r = real.json();
  t.equal(r.changed, 2);
  t.same(r.errors.map((e: { clientId: string; code: string }) => [e.clientId, e.code]), [[missing, 'not_found'], ['not-an-id', 'invalid_id']]);
  const after = (await s.request('GET', `/api/clients/${a.id}`)).json();
  t.same(after.contactList[0].emails[0], { id: after.contactList[0].emails[0].id, address: addrA, sync: true, notify: true, autoSaveAttachments: true });
  const again = (await s.request('POST', '/api/clients/bulk/contact-settings', body)).json();
  t.match(again, { changed: 0, unchanged: 2 });
  // Turning sync on queued a 'file-address' job: a worker files the mail that arrived while it was off.
  ta.queue.work(createHandlers({ config: ta.config, db: ta.db, queue: ta.queue, blobs: ta.blobs, workerId: uniq('w'), log: { info() {}, warn() {}, error() {} } }));
  for (let i = 0; i < 100 && !(await listMessageRecords(ta.db, message.id)).length; i++) await new Promise((r) => setTimeout(r, 100));
  t.same((await listMessageRecords(ta.db, message.id)).map((x) => x.client_id), [a.id]);
  const audit = (await s.request('GET', `/api/clients/${a.id}/audit`)).json();
  t.ok(audit.items.some((e: { action: string }) => e.action === 'client.contact_settings'));
});

const csvFile = (tag: string, tax: string, addr1: string, addr2: string) => [
  'Client,Tax ID,Contact,Email,Sync,Notify,Auto save',
  `"${tag} Gestoría, S.L.",${tax},Marta Ruiz,${addr1},yes,no,`,
  `"${tag} Gestoría, S.L.",${tax},Pedro Ruiz,${addr2},,,yes`,
  `${tag} Bakery,,,,,,`,
  `,,Nobody,${uniqEmail('x')},,,`,
  `${tag} Broken,,Someone,not-an-address,,,`,
  `${tag} Bad switch,,Someone,${uniqEmail('y')},maybe,,`,
].join('\r\n');

t.test('CSV import: dry run changes nothing, import creates, re-import changes nothing, bad lines are reported', async (t) => {
  const tag = uniq('imp');
  const csv = csvFile(tag, uniq('B').toUpperCase(), uniqEmail('marta'), uniqEmail('pedro'));
  const send = (dry: boolean) => ta.app.inject({ method: 'POST', url: `/api/import/clients${dry ? '?dryRun=true' : ''}`, payload: csv, headers: { cookie: s.cookie, 'x-csrf-token': s.csrfToken, 'content-type': 'text/csv' } });
  const dry = await send(true);
  t.equal(dry.statusCode, 200, dry.body);
  const d = dry.json();
  t.match(d, { dryRun: true, created: 2, updated: 0, lines: 6 });
  t.same(d.errors.map((e: { line: number; code: string }) => [e.line, e.code]), [[5, 'missing_client_name'], [6, 'invalid_address'], [7, 'invalid_switch']]);
  t.same((await s.request('GET', `/api/clients?q=${tag}`)).json().items, [], 'dry run created nothing');
  const real = (await send(false)).json();
  t.match(real, { dryRun: false, created: 2, updated: 0 });
  const items = (await s.request('GET', `/api/clients?q=${tag}`)).json().items;
  t.same(items.map((i: { name: string; contacts: number }) => [i.name, i.contacts]), [[`${tag} Bakery`, 0], [`${tag} Gestoría, S.L.`, 2]]);
  const gestoria = (await s.request('GET', `/api/clients/${items[1].id}`)).json();
  const marta = gestoria.contactList.find((c: { name: string }) => c.name === 'Marta Ruiz');
  t.match(marta.emails[0], { sync: true, notify: false, autoSaveAttachments: false });
  const again = (await send(false)).json();
  t.match(again, { created: 0, updated: 0, unchanged: 2 }, 're-import changes nothing');
  const multipart = await s.request('POST', '/api/import/clients?dryRun=true', multipartBody([{ name: 'file', filename: 'clients.csv', type: 'text/csv', content: Buffer.from(csv) }]).body,
    { 'content-type': multipartBody([]).contentType });
  t.equal(multipart.statusCode, 200, multipart.body);
  t.match(multipart.json(), { created: 0, updated: 0 });
  const noName = await ta.app.inject({ method: 'POST', url: '/api/import/clients', payload: 'foo,bar\n1,2\n', headers: { cookie: s.cookie, 'x-csrf-token': s.csrfToken, 'content-type': 'text/csv' } });
  t.equal(noName.statusCode, 400);
  t.equal(noName.json().error.field, 'file');
});

const BOUNDARY = 'dossier-test-boundary';
function multipartBody(parts: { name: string; filename?: string; type?: string; content: Buffer | string }[]) {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disp = `form-data; name="${p.name}"${p.filename !== undefined ? `; filename="${p.filename}"` : ''}`;
    chunks.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: ${disp}\r\n${p.type ? `Content-Type: ${p.type}\r\n` : ''}\r\n`));
    chunks.push(Buffer.isBuffer(p.content) ? p.content : Buffer.from(p.content));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${BOUNDARY}` };
}

t.test('documents: upload, list, rename, download headers, size limit, delete; all in the audit trail', async (t) => {
  const client = await newClient();
  const pdf = createTestPdf(30_000);
  const up = multipartBody([{ name: 'category', content: 'Taxes' }, { name: 'file', filename: 'Declaración 2024.pdf', type: 'application/pdf', content: pdf }]);
  const res = await s.request('POST', `/api/clients/${client.id}/documents`, up.body, { 'content-type': up.contentType });
  t.equal(res.statusCode, 201, res.body);
  const doc = res.json().items[0];
  t.match(doc, { name: 'Declaración 2024.pdf', category: 'Taxes', visibleToClient: true, size: 30_000, contentType: 'application/pdf', source: 'upload', status: 'saved', messageId: null });
  const list = (await s.request('GET', `/api/clients/${client.id}/documents`)).json();
  t.same(list.items.map((d: { id: string }) => d.id), [doc.id]);
  const renamed = await s.request('PATCH', `/api/documents/${doc.id}`, { name: '../../evil\u202Egpj.exe', visibleToClient: false });
  t.equal(renamed.statusCode, 200);
  t.equal(renamed.json().name, 'evilgpj.exe', 'path and bidi characters removed');
  t.equal(renamed.json().visibleToClient, false);
  await s.request('PATCH', `/api/documents/${doc.id}`, { name: 'Declaración "final".pdf' });
  const dl = await s.request('GET', `/api/documents/${doc.id}/download`);
  t.equal(dl.statusCode, 200);
  t.ok(dl.rawPayload.equals(pdf), 'the bytes uploaded');
  t.equal(dl.headers['x-content-type-options'], 'nosniff');
  t.match(String(dl.headers['content-security-policy']), /default-src 'none'; sandbox/);
  t.equal(dl.headers['content-disposition'], `attachment; filename="Declaracion _final_.pdf"; filename*=UTF-8''Declaraci%C3%B3n%20_final_.pdf`);
  const big = multipartBody([{ name: 'file', filename: 'big.bin', type: 'application/octet-stream', content: Buffer.alloc(1024 * 1024 + 10, 1) }]);
  const tooBig = await s.request('POST', `/api/clients/${client.id}/documents`, big.body, { 'content-type': big.contentType });
  t.equal(tooBig.statusCode, 413);
  t.equal((await s.request('GET', `/api/clients/${client.id}/documents`)).json().items.length, 1, 'nothing stored for the refused upload');
  const noFile = multipartBody([{ name: 'category', content: 'x' }]);
  t.equal((await s.request('POST', `/api/clients/${client.id}/documents`, noFile.body, { 'content-type': noFile.contentType })).statusCode, 400);
  t.equal((await s.request('DELETE', `/api/documents/${doc.id}`)).statusCode, 204);
  t.equal((await s.request('GET', `/api/documents/${doc.id}/download`)).statusCode, 404);
  const audit = (await s.request('GET', `/api/clients/${client.id}/audit`)).json();
  t.same(audit.items.map((e: { action: string }) => e.action), ['document.delete', 'document.update', 'document.update', 'document.create', 'client.create']);
  t.same(audit.items[0].actor, { id: s.user.id, name: s.user.name });
});

t.test('a too-large auto-saved attachment is listed but cannot be downloaded', async (t) => {
  const client = await newClient();
  const addr = uniqEmail('big');
  await s.request('POST', '/api/contacts', { name: 'Big', emails: [{ address: addr, autoSaveAttachments: true }], clientIds: [client.id] });
  await createFiledTestMessage(ta.db, ta.blobs, { from: addr, attachments: [{ filename: 'scan.pdf', contentType: 'application/pdf', content: createTestPdf(40_000) }] }, { blobs: ta.blobs, maxAttachmentBytes: 30_000 });
  const docs = (await s.request('GET', `/api/clients/${client.id}/documents`)).json().items;
  t.match(docs, [{ name: 'scan.pdf', status: 'too_large', source: 'email', visibleToClient: false }]);
  const dl = await s.request('GET', `/api/documents/${docs[0].id}/download`);
  t.equal(dl.statusCode, 422);
  t.equal(dl.json().error.code, 'document_not_saved');
});

t.test('deleting a contact keeps the history it filed; unlinking too', async (t) => {
  const client = await newClient();
  const addr = uniqEmail('gone');
  const contact = (await s.request('POST', '/api/contacts', { name: 'Gone', emails: [{ address: addr }], clientIds: [client.id] })).json();
  const { message } = await createFiledTestMessage(ta.db, ta.blobs, { from: addr }, deps);
  t.equal((await s.request('DELETE', `/api/clients/${client.id}/contacts/${contact.id}`)).statusCode, 204);
  t.equal((await s.request('DELETE', `/api/contacts/${contact.id}`)).statusCode, 204);
  t.equal((await listMessageRecords(ta.db, message.id)).length, 1);
  t.equal((await s.request('GET', `/api/contacts/${contact.id}`)).statusCode, 404);
  const relink = await s.request('PUT', `/api/clients/${client.id}/contacts/${contact.id}`, {});
  t.equal(relink.statusCode, 404);
});
