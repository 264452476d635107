// Issue 12, private mail consent, from every entry point: Bob (a second staff member) tries each route that
// can file or reveal mail against a message that lies only in Alice's private mailbox, and gets 404 or 0
// until Alice approves; then the same routes show it. The routes come from the app's OpenAPI document:
// every route whose path names mail (messages, attachments, threads, communications, filing, contacts,
// documents, ...) must be in ENTRY_POINTS (probed here) or in NOT_REVEALING (with the reason), so a route
// added later fails this test until someone decides which it is. Real PostgreSQL, Redis and blobs.
import t, { type Test } from 'tap';
import { createHandlers } from '../../src/sync/handlers.ts';
import { startTestApp, userSession, type Session } from '../support/app.ts';
import { uniq, uniqEmail } from '../support/env.ts';
import { createFiledTestMessage, createTestAccount, createTestClient, createTestPdf, listMessageRecords } from '../support/factories.ts';

const ta = await startTestApp();
t.teardown(ta.close);
const deps = { blobs: ta.blobs, maxAttachmentBytes: ta.config.maxAttachmentBytes };
ta.queue.work(createHandlers({ config: ta.config, db: ta.db, queue: ta.queue, blobs: ta.blobs, workerId: uniq('w'), log: { info() {}, warn() {}, error() {} } }));

/** Paths that name mail or what files it: each route under them must be classified below. */
const MAIL_SEGMENT = /\/(messages|attachments|threads|communications|filing[a-z-]*|contacts?|contact-emails|contact-addresses|import|bulk|documents|search|events|discussions|file-requests|held|outbox|tasks|trash|notifications|shares|audit)(\/|$|\.)/;

/** Routes probed by this test: filing entry points (act as Bob, nothing filed) and reveal probes (404 / 0 before, visible after). */
const ENTRY_POINTS = [
  // filing: each files one of the message's addresses to a client
  'POST /api/contacts', 'PATCH /api/contacts/{id}', 'POST /api/contacts/{id}/emails', 'PATCH /api/contact-emails/{id}',
  'POST /api/import/clients', 'POST /api/clients/bulk/contact-settings', 'PUT /api/clients/{id}/contacts/{contactId}',
  'POST /api/messages/{id}/add-sender-as-contact', 'POST /api/messages/{id}/clients', 'DELETE /api/messages/{id}/clients/{clientId}',
  'GET /api/filing-preview',
  // reveal
  'GET /api/messages', 'GET /api/messages/{id}', 'GET /api/messages/{id}/body', 'GET /api/messages/{id}/raw', 'GET /api/attachments/{id}',
  'GET /api/threads/{threadId}', 'POST /api/attachments/{id}/save', 'GET /api/clients/{id}/communications', 'GET /api/communications/{id}', 'GET /api/clients/{id}/documents',
  'GET /api/documents/{id}/download', 'POST /api/messages/{id}/reply', 'POST /api/tasks', 'GET /api/messages/{id}/private', 'POST /api/messages/{id}/private',
  'GET /api/filing-approvals', 'GET /api/filing-consents', 'POST /api/filing-approvals/{id}', 'GET /api/notifications/page', 'GET /api/notifications',
  'GET /api/notifications/unread-count', 'GET /api/clients/{id}/audit',
];

/** Routes under a mail path judged not to reveal a private message, each with the reason. */
const NOT_REVEALING: Record<string, string> = {
  'GET /api/clients/{id}/communications.xlsx': 'the same query as GET /api/clients/{id}/communications (listClientLog), probed',
  'GET /api/communications': 'the records of the client log (probed) over every client, by the same query (listRecords): records only exist once filed',
  'GET /api/communications/export.xlsx': 'the same query as GET /api/communications (listFirmCommunications)',
  'POST /api/clients/{id}/communications': 'manual records only (kind email refused); no message id',
  'PATCH /api/communications/{id}': 'needs a record id, which only the log (probed) hands out',
  'DELETE /api/communications/{id}': 'needs a record id, which only the log (probed) hands out',
  'GET /api/contacts': 'contacts and addresses: CRM data, no mail',
  'GET /api/contacts/{id}': 'CRM data, no mail',
  'DELETE /api/contacts/{id}': 'removes CRM data; files nothing',
  'DELETE /api/contact-emails/{id}': 'removes an address; files nothing',
  'DELETE /api/clients/{id}/contacts/{contactId}': 'unlinks; files nothing',
  'GET /api/clients/{id}/contact-addresses': 'CRM data, no mail',
  'POST /api/clients/{id}/documents': 'uploads a file the caller has',
  'PATCH /api/documents/{id}': 'needs a document id, which only the documents list (probed) hands out',
  'DELETE /api/documents/{id}': 'needs a document id, which only the documents list (probed) hands out',
  'GET /api/documents/{id}/shares': 'needs a document id from the documents list (probed)',
  'POST /api/clients/{id}/shares': 'shares documents from the documents list (probed)',
  'GET /api/clients/{id}/shares': 'shares of documents from the documents list (probed)',
  'DELETE /api/shares/{id}': 'revokes a share; no mail',
  'POST /api/outbox': 'a forward names forwardMessageId, checked by assertMessageVisible like reply (probed)',
  'GET /api/outbox': "the caller's own outgoing mail",
  'GET /api/outbox/{id}': "the caller's own outgoing mail",
  'POST /api/file-requests': 'sends new mail; no message',
  'GET /api/file-requests': 'requests and counts; held replies are owner-only (visibility.ts listReviewableMessages, issue 12 part A)',
  'POST /api/file-requests/preview': 'renders new mail; no message',
  'GET /api/file-requests/{id}': 'held replies are shown only to whoever may review them (issue 12 part A tests)',
  'POST /api/file-requests/{id}/cancel': 'no mail',
  'POST /api/file-requests/{id}/resend': 'sends the request again; no stored message',
  'PATCH /api/file-requests/{id}/items/{itemId}': 'no mail',
  'POST /api/file-requests/{id}/held/{messageId}/accept': 'held mail is accepted only by its mailbox owner (issue 12 part A, its own tests)',
  'GET /api/clients/{id}/file-request-recipients': 'CRM data, no mail',
  'GET /api/settings/file-requests': 'settings',
  'PATCH /api/settings/file-requests': 'settings',
  'POST /api/notifications/{id}/read': "the caller's own notifications (the list is probed)",
  'POST /api/notifications/read-all': "the caller's own notifications (the list is probed)",
  'POST /api/clients/{id}/discussions': 'sends new mail; no stored message',
  'GET /api/clients/{id}/discussions': 'posted comments are filed mail; held ones owner-only (issue 12 part A)',
  'GET /api/discussions/{id}': 'posted comments are filed mail; held ones owner-only (issue 12 part A)',
  'POST /api/discussions/{id}/comments': 'sends new mail',
  'POST /api/discussions/{id}/held/{messageId}/accept': 'held mail is accepted only by its mailbox owner (issue 12 part A, its own tests)',
  'GET /api/tasks': 'tasks name a message only when created by someone who could see it (POST probed)',
  'GET /api/tasks/count': 'counts',
  'GET /api/tasks/{id}': 'as GET /api/tasks',
  'PATCH /api/tasks/{id}': 'a new messageId is checked like POST (probed)',
  'DELETE /api/tasks/{id}': 'no mail',
  'GET /api/messages/ambiguous-count': "counts only mail with a live location in the caller's own visible mailboxes (countAwaitingClient)",
  'GET /api/messages/unread-count': 'counts the rows of GET /api/messages (probed) through the same plan (planBranches), unread for the caller',
  'POST /api/messages/{id}/read': "the caller's own read state; 404 for mail the caller may not see, as for an unknown id (setMessagesRead, test/server/message-read.test.ts)",
  'POST /api/clients/bulk/owner': 'sets client owners; files nothing',
  'GET /api/events': 'message events list only accounts the listener may see, and go to those who may see the message (events.test.ts)',
};

const alice = await userSession(ta, 'staff', 'Alice');
const bob = await userSession(ta, 'staff', 'Bob');
const box = await createTestAccount(ta.db, alice.user, { visibility: 'private' });
const word = uniq('confidential').replace(/[^a-z0-9]/gi, '');
// One address per filing entry point, so each is tried on its own; x.preview is added by nobody.
const x = Object.fromEntries(['create', 'email', 'enable', 'csv', 'bulk', 'link', 'preview'].map((k) => [k, uniqEmail(k)])) as Record<string, string>;
const pdf = createTestPdf();
const { message } = await createFiledTestMessage(ta.db, ta.blobs, {
  from: x.create!, to: [box.account.email], cc: [x.email!, x.enable!, x.csv!, x.bulk!, x.link!, x.preview!], subject: `Merger ${word}`,
  attachments: [{ filename: 'merger.pdf', contentType: 'application/pdf', content: pdf }], locations: [{ mailbox: box.inbox }],
}, deps);
const attachmentId = (await alice.request('GET', `/api/messages/${message.id}`)).json().attachments[0].id as string;

const clients = { a: await createTestClient(ta.db), b: await createTestClient(ta.db), c: await createTestClient(ta.db), d: await createTestClient(ta.db) };
const pending = async () => ((await alice.request('GET', '/api/filing-approvals')).json().items as { id: string; address: string }[]);
async function until(check: () => Promise<boolean>, ms = 30_000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

t.test('every route under a mail path is classified', async (t) => {
  const doc = (await ta.app.inject({ method: 'GET', url: '/api/openapi.json' })).json() as { paths: Record<string, Record<string, unknown>> };
  const routes = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
  const mailRoutes = routes.filter((r) => MAIL_SEGMENT.test(r.split(' ')[1]!));
  t.ok(mailRoutes.length > 40, 'the OpenAPI document lists the mail routes');
  for (const r of mailRoutes) t.ok(ENTRY_POINTS.includes(r) || r in NOT_REVEALING, `${r} is probed or judged not to reveal mail`);
  for (const r of [...ENTRY_POINTS, ...Object.keys(NOT_REVEALING)]) t.ok(routes.includes(r), `${r} still exists`);
});

const filed = async () => (await listMessageRecords(ta.db, message.id)).length;
let contactId = '';
let linkContactId = '';

t.test("Bob's filing entry points file nothing of Alice's private mail", async (t) => {
  const create = await bob.request('POST', '/api/contacts', { name: 'Counsel', emails: [{ address: x.create, autoSaveAttachments: true }], clientIds: [clients.a.id] });
  t.equal(create.json().filed, 0, 'POST /api/contacts');
  contactId = create.json().id;
  t.equal((await bob.request('PATCH', `/api/contacts/${contactId}`, { name: 'Counsel 2' })).statusCode, 200, 'PATCH /api/contacts/{id}');
  const email = await bob.request('POST', `/api/contacts/${contactId}/emails`, { address: x.email });
  t.equal(email.json().filed, 0, 'POST /api/contacts/{id}/emails');
  const off = (await bob.request('POST', `/api/contacts/${contactId}/emails`, { address: x.enable, sync: false })).json();
  const enable = await bob.request('PATCH', `/api/contact-emails/${off.id}`, { sync: true });
  t.equal(enable.json().filed, 0, 'PATCH /api/contact-emails/{id}');
  const csv = `Client,Email\n${uniq('Imported')},${x.csv}\n`;
  const imported = await ta.app.inject({ method: 'POST', url: '/api/import/clients', payload: csv, headers: { cookie: bob.cookie, 'x-csrf-token': bob.csrfToken, 'content-type': 'text/csv' } });
  t.equal(imported.statusCode, 200, imported.body);
  const bulkContact = (await bob.request('POST', '/api/contacts', { name: 'Bulk', emails: [{ address: x.bulk, sync: false }], clientIds: [clients.b.id] })).json();
  t.equal(bulkContact.filed, 0);
  const bulk = await bob.request('POST', '/api/clients/bulk/contact-settings', { clientIds: [clients.b.id], sync: 'enable' });
  t.equal(bulk.json().changed, 1, 'POST /api/clients/bulk/contact-settings');
  linkContactId = (await bob.request('POST', '/api/contacts', { name: 'Link', emails: [{ address: x.link }] })).json().id;
  const link = await bob.request('PUT', `/api/clients/${clients.c.id}/contacts/${linkContactId}`, {});
  t.equal(link.json().filed, 0, 'PUT /api/clients/{id}/contacts/{contactId}');
  t.equal((await bob.request('POST', `/api/messages/${message.id}/add-sender-as-contact`, { clientId: clients.a.id })).statusCode, 404, 'add-sender-as-contact');
  t.equal((await bob.request('POST', `/api/messages/${message.id}/clients`, { clientId: clients.a.id })).statusCode, 404, 'POST /api/messages/{id}/clients');
  t.equal((await bob.request('DELETE', `/api/messages/${message.id}/clients/${clients.a.id}`)).statusCode, 404, 'DELETE /api/messages/{id}/clients/{clientId}');
  // Import and bulk settings file through the 'file-address' job (retroactive filing): observe its request to Alice.
  t.ok(await until(async () => {
    const addrs = (await pending()).map((p) => p.address);
    return [x.create, x.email, x.enable, x.csv, x.bulk, x.link].every((a) => addrs.includes(a!));
  }), 'Alice is asked once per address, the jobs included');
  t.equal(await filed(), 0, 'and nothing is filed');
});

const unknownPreview = async (s: Session, address: string) => {
  const { address: _, ...rest } = (await s.request('GET', `/api/filing-preview?address=${encodeURIComponent(address)}&clientId=${clients.d.id}`)).json();
  return rest;
};

async function probe(t: Test, visible: boolean) {
  const expectStatus = visible ? 200 : 404;
  t.equal((await bob.request('GET', `/api/messages/${message.id}`)).statusCode, expectStatus, 'GET /api/messages/{id}');
  t.equal((await bob.request('GET', `/api/messages/${message.id}/body`)).statusCode, expectStatus, 'GET /api/messages/{id}/body');
  t.equal((await bob.request('GET', `/api/messages/${message.id}/raw`)).statusCode, expectStatus, 'GET /api/messages/{id}/raw');
  t.equal((await bob.request('GET', `/api/attachments/${attachmentId}`)).statusCode, expectStatus, 'GET /api/attachments/{id}');
  const thread = await bob.request('GET', `/api/threads/${message.threadId}`);
  t.equal(thread.statusCode === 200 && thread.json().items.some((m: { id: string }) => m.id === message.id), visible, 'GET /api/threads/{threadId}');
  const has = async (query: string) => (await bob.request('GET', `/api/messages?${query}`)).json().items.some((m: { id: string }) => m.id === message.id);
  t.equal(await has(`q=${word}`), visible, 'GET /api/messages?q= (search)');
  t.equal(await has(`clientId=${clients.a.id}`), visible, 'GET /api/messages?clientId=');
  t.equal(await has('filed=true&limit=200'), visible, 'GET /api/messages?filed=true');
  t.equal(await has(`accountId=${box.account.id}`), false, "GET /api/messages?accountId= (Alice's mailbox stays hers)");
  const log = (await bob.request('GET', `/api/clients/${clients.a.id}/communications`)).json().items as { id: string; messageId: string | null }[];
  const record = log.find((r) => r.messageId === message.id);
  t.equal(!!record, visible, 'GET /api/clients/{id}/communications');
  if (record) t.equal((await bob.request('GET', `/api/communications/${record.id}`)).statusCode, 200, 'GET /api/communications/{id}');
  const docs = (await bob.request('GET', `/api/clients/${clients.a.id}/documents`)).json().items as { id: string; messageId: string | null }[];
  const doc = docs.find((d) => d.messageId === message.id);
  t.equal(!!doc, visible, 'GET /api/clients/{id}/documents (auto-saved attachment)');
  if (doc) t.equal((await bob.request('GET', `/api/documents/${doc.id}/download`)).statusCode, 200, 'GET /api/documents/{id}/download');
  const preview = await unknownPreview(bob, x.preview!);
  if (visible) t.equal(preview.messages, 1, 'GET /api/filing-preview counts mail Bob may see');
  else t.same(preview, await unknownPreview(bob, uniqEmail('nobody')), 'GET /api/filing-preview reads as for an address nobody has');
  const task = await bob.request('POST', '/api/tasks', { title: 'Follow up', messageId: message.id });
  t.equal(task.statusCode, visible ? 201 : 404, 'POST /api/tasks {messageId}');
  t.equal((await bob.request('GET', `/api/messages/${message.id}/private`)).statusCode, expectStatus, 'GET /api/messages/{id}/private');
  t.equal((await bob.request('POST', `/api/messages/${message.id}/private`, { private: true })).statusCode, 404, 'POST /api/messages/{id}/private (owner only)');
  t.same((await bob.request('GET', '/api/filing-approvals')).json().items, [], 'GET /api/filing-approvals: Bob is not told');
  t.same((await bob.request('GET', '/api/filing-consents')).json().items, [], 'GET /api/filing-consents');
  const bell = (await bob.request('GET', '/api/notifications/page?limit=50')).json();
  t.notOk(bell.items.some((n: { kind: string }) => n.kind === 'filing_approval'), 'GET /api/notifications/page');
  t.notOk((await bob.request('GET', '/api/notifications?limit=50')).json().items.some((n: { kind: string }) => n.kind === 'filing_approval'), 'GET /api/notifications');
  t.equal((await bob.request('GET', '/api/notifications/unread-count')).json().unread, bell.unread, 'GET /api/notifications/unread-count');
  const audit = (await bob.request('GET', `/api/clients/${clients.a.id}/audit`)).json().items as { action: string }[];
  t.equal(audit.some((e) => e.action === 'filing_consent.approved'), visible, 'GET /api/clients/{id}/audit says nothing before');
  if (!visible) {
    t.equal((await bob.request('POST', `/api/messages/${message.id}/reply`, { text: 'Hi' })).statusCode, 404, 'POST /api/messages/{id}/reply');
    t.equal((await bob.request('POST', `/api/attachments/${attachmentId}/save`, { clientId: clients.d.id })).statusCode, 404, 'POST /api/attachments/{id}/save');
    const someone = (await pending())[0]!;
    t.equal((await bob.request('POST', `/api/filing-approvals/${someone.id}`, { decision: 'approve' })).statusCode, 404, 'POST /api/filing-approvals/{id}: owner only');
  }
}

t.test('before Alice approves, Bob gets 404 or 0 everywhere', async (t) => {
  await probe(t, false);
  t.equal(await filed(), 0);
});

t.test('after Alice approves, the message is the firm’s', async (t) => {
  for (const item of await pending()) {
    const res = await alice.request('POST', `/api/filing-approvals/${item.id}`, { decision: 'approve' });
    t.equal(res.statusCode, 200, res.body);
  }
  t.ok(await filed() >= 4, 'filed to the clients of the approved addresses');
  await probe(t, true);
});

t.test('Keep private takes it out of every log for good, and only the owner may', async (t) => {
  t.equal((await alice.request('GET', `/api/messages/${message.id}/private`)).json().canChange, true);
  const kept = await alice.request('POST', `/api/messages/${message.id}/private`, { private: true });
  t.equal(kept.statusCode, 200, kept.body);
  t.match(kept.json(), { id: message.id, private: true });
  t.ok(kept.json().removedFromClients >= 4);
  t.equal(await filed(), 0, 'every record gone');
  t.equal((await bob.request('GET', `/api/messages/${message.id}`)).statusCode, 404, 'hidden from colleagues');
  t.equal((await bob.request('GET', `/api/attachments/${attachmentId}`)).statusCode, 404);
  t.notOk((await bob.request('GET', `/api/clients/${clients.a.id}/documents`)).json().items.some((d: { messageId: string | null }) => d.messageId === message.id), 'auto-saved attachment gone');
  // Filing never brings it back: Alice's own add, a link, filing by hand.
  const own = await alice.request('POST', '/api/contacts', { name: 'Again', emails: [{ address: uniqEmail('again') }], clientIds: [clients.a.id] });
  t.equal(own.statusCode, 201);
  t.equal((await alice.request('PUT', `/api/clients/${clients.b.id}/contacts/${linkContactId}`, {})).json().filed, 0, 'link files nothing');
  const byHand = await alice.request('POST', `/api/messages/${message.id}/clients`, { clientId: clients.a.id });
  t.equal(byHand.statusCode, 422);
  t.equal(byHand.json().error.code, 'message_private');
  t.equal(await filed(), 0);
  t.equal((await alice.request('GET', `/api/messages/${message.id}`)).statusCode, 200, 'still Alice’s in her mailbox');
  const undo = await alice.request('POST', `/api/messages/${message.id}/private`, { private: false });
  t.same(undo.json(), { id: message.id, private: false, removedFromClients: 0 });
  t.ok(await filed() >= 4, 'undone: filed again under the consent she gave');
  t.equal((await bob.request('GET', `/api/messages/${message.id}`)).statusCode, 200);
});

t.test('a message also in a public mailbox cannot be kept private', async (t) => {
  const info = await createTestAccount(ta.db, alice.user, { visibility: 'public' });
  const shared = (await createFiledTestMessage(ta.db, ta.blobs, { from: uniqEmail('s'), to: [box.account.email], locations: [{ mailbox: box.inbox }, { mailbox: info.inbox }] }, deps)).message;
  const res = await alice.request('POST', `/api/messages/${shared.id}/private`, { private: true });
  t.equal(res.statusCode, 422);
  t.equal(res.json().error.code, 'message_in_public_mailbox');
});
