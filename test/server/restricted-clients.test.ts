// Restricted clients (issue 12): a restricted client, its log, documents, requests, tasks and the mail filed
// only to it are its team's and the admins' alone. Everyone else gets 404 and never sees it in lists, counts
// or search; mail of their own mailboxes stays theirs.
import t from 'tap';
import { startTestApp, userSession, type Session } from '../support/app.ts';
import { uniq, uniqEmail } from '../support/env.ts';
import { createTestAccount, createTestClient, createTestCommunication, createTestContact, createTestMessage, createTestPdf } from '../support/factories.ts';

const ta = await startTestApp();
t.teardown(ta.close);
const filing = { blobs: ta.blobs, maxAttachmentBytes: ta.config.maxAttachmentBytes };

const BOUNDARY = 'restricted-boundary';
function upload(filename: string, content: Buffer) {
  const body = Buffer.concat([
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: application/pdf\r\n\r\n`),
    content, Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ]);
  return { body, headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` } };
}

const admin = await userSession(ta, 'admin');
const alice = await userSession(ta, 'staff', 'Alice Team');
const bob = await userSession(ta, 'staff', 'Bob Outside');

/** A restricted client with a log record, a document, a contact, a task for bob and a message filed only to it. */
async function restrictedClient() {
  const name = uniq('Secret Client');
  const client = await createTestClient(ta.db, name);
  const patched = await alice.request('PATCH', `/api/clients/${client.id}`, { restricted: true, teamUserIds: [alice.user.id] });
  if (patched.statusCode !== 200) throw new Error(patched.body);
  const subject = uniq('Privileged merger memo');
  const message = await createTestMessage(ta.db, ta.blobs, { subject, text: 'privileged' });
  await createTestCommunication(ta.db, message, client);
  const file = upload(`${uniq('contract')}.pdf`, createTestPdf(2_000));
  const doc = await alice.request('POST', `/api/clients/${client.id}/documents`, file.body, file.headers);
  if (doc.statusCode !== 201) throw new Error(doc.body);
  const contactAddress = uniqEmail('secret');
  const { contact } = await createTestContact(ta.db, filing, { emails: [contactAddress], clientIds: [client.id] });
  const task = await admin.request('POST', '/api/tasks', { title: uniq('Review memo'), assigneeId: bob.user.id, clientId: client.id, dueAt: '2020-01-01T00:00:00Z' });
  if (task.statusCode !== 201) throw new Error(task.body);
  return { client, name, message, subject, documentId: doc.json().items[0].id as string, contact, contactAddress, taskId: task.json().task?.id ?? task.json().id };
}

const sees = async (s: Session, r: Awaited<ReturnType<typeof restrictedClient>>) => {
  const statuses = await Promise.all([
    `/api/clients/${r.client.id}`, `/api/clients/${r.client.id}/communications`, `/api/clients/${r.client.id}/documents`,
    `/api/clients/${r.client.id}/audit`, `/api/clients/${r.client.id}/communications.xlsx`, `/api/clients/${r.client.id}/discussions`,
    `/api/clients/${r.client.id}/shares`, `/api/documents/${r.documentId}/download`, `/api/messages/${r.message.id}`,
    `/api/messages/${r.message.id}/raw`, `/api/threads/${r.message.threadId}`,
  ].map(async (url) => [url, (await s.request('GET', url)).statusCode] as const));
  return Object.fromEntries(statuses);
};

t.test('a restricted client and everything of it: 404 to a colleague outside the team, 200 to the team and admins', async (t) => {
  const r = await restrictedClient();
  for (const [url, status] of Object.entries(await sees(bob, r))) t.equal(status, 404, `bob: ${url}`);
  for (const s of [alice, admin]) {
    for (const [url, status] of Object.entries(await sees(s, r))) t.equal(status, 200, `${s.user.name}: ${url}`);
  }
  // Writes are 404 too: bob cannot open it up again, add a record or file mail to it.
  t.equal((await bob.request('PATCH', `/api/clients/${r.client.id}`, { restricted: false })).statusCode, 404);
  t.equal((await bob.request('POST', `/api/clients/${r.client.id}/communications`, { kind: 'call', subject: 'x' })).statusCode, 404);
  t.equal((await bob.request('DELETE', `/api/documents/${r.documentId}`)).statusCode, 404);
  t.equal((await bob.request('GET', `/api/tasks/${r.taskId}`)).statusCode, 404);
  const view = (await alice.request('GET', `/api/clients/${r.client.id}`)).json();
  t.equal(view.restricted, true);
  t.same(view.team, [{ id: alice.user.id, name: 'Alice Team' }]);
});

t.test('lists, search and counts leave it out for a colleague outside the team', async (t) => {
  const since = new Date(Date.now() - 60_000).toISOString();
  const r = await restrictedClient();
  // The firm-wide log (and its export, which pages through the same query): every page since the record was made.
  const firmLog = async (s: Session, filter = '') => {
    const clients: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await s.request('GET', `/api/communications?from=${encodeURIComponent(since)}&limit=200${filter}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      if (res.statusCode !== 200) throw new Error(res.body);
      clients.push(...res.json().items.map((c: { client: { id: string } }) => c.client.id));
      cursor = res.json().nextCursor;
    } while (cursor);
    return clients;
  };
  t.notOk((await firmLog(bob)).includes(r.client.id), 'the firm-wide log leaves its records out for Bob');
  t.same(await firmLog(bob, `&clientId=${r.client.id}`), [], 'and filtering by it reads as an unknown client');
  for (const s of [alice, admin]) t.ok((await firmLog(s, `&clientId=${r.client.id}`)).includes(r.client.id), `${s.user.name} sees them in the firm-wide log`);
  const listed = async (s: Session) => {
    const byName = (await s.request('GET', `/api/clients?q=${encodeURIComponent(r.name)}`)).json().items.map((c: { id: string }) => c.id);
    const byAddress = (await s.request('GET', `/api/clients?q=${encodeURIComponent(r.contactAddress)}`)).json().items.map((c: { id: string }) => c.id);
    const search = (await s.request('GET', `/api/messages?q=${encodeURIComponent(r.subject)}`)).json().items.map((m: { id: string }) => m.id);
    const filed = (await s.request('GET', `/api/messages?clientId=${r.client.id}`)).json().items.map((m: { id: string }) => m.id);
    const contact = (await s.request('GET', `/api/contacts/${r.contact.id}`)).json().clients.map((c: { id: string }) => c.id);
    const contacts = (await s.request('GET', `/api/contacts?q=${encodeURIComponent(r.contactAddress)}`)).json().items[0].clients.map((c: { id: string }) => c.id);
    const preview = (await s.request('GET', `/api/filing-preview?address=${encodeURIComponent(r.contactAddress)}`)).json().clients.map((c: { id: string }) => c.id);
    return { byName, byAddress, search, filed, contact, contacts, preview };
  };
  t.same(await listed(bob), { byName: [], byAddress: [], search: [], filed: [], contact: [], contacts: [], preview: [] });
  for (const s of [alice, admin]) {
    t.same(await listed(s), {
      byName: [r.client.id], byAddress: [r.client.id], search: [r.message.id], filed: [r.message.id], contact: [r.client.id], contacts: [r.client.id], preview: [r.client.id],
    }, s.user.name);
  }
  // Bob's task on the client is not counted or listed for him; the admin who made it sees it on the client.
  const bobTasks = (await bob.request('GET', '/api/tasks')).json().items.map((x: { id: string }) => x.id);
  t.notOk(bobTasks.includes(r.taskId));
  t.same((await bob.request('GET', '/api/tasks/count')).json(), { open: 0, overdue: 0 });
  t.ok((await admin.request('GET', `/api/tasks?clientId=${r.client.id}`)).json().items.some((x: { id: string }) => x.id === r.taskId));
  // Body fields naming it read as an unknown client.
  const task = await bob.request('POST', '/api/tasks', { title: 'x', clientId: r.client.id });
  t.equal(task.statusCode, 400);
  t.equal(task.json().error.field, 'clientId');
  const mine = await createTestMessage(ta.db, ta.blobs, { subject: uniq('bob mail') });
  t.equal((await bob.request('POST', `/api/messages/${mine.id}/clients`, { clientId: r.client.id })).statusCode, 404);
  const bulk = (await bob.request('POST', '/api/clients/bulk/contact-settings', { clientIds: [r.client.id], notify: 'disable' })).json();
  t.equal(bulk.errors[0]?.code, 'not_found');
});

t.test("mail of the viewer's own mailbox filed only to a restricted client stays theirs, without naming the client", async (t) => {
  const r = await restrictedClient();
  const { account, inbox } = await createTestAccount(ta.db, bob.user);
  const subject = uniq('Bob own copy');
  const own = await createTestMessage(ta.db, ta.blobs, { subject, locations: [{ mailbox: inbox }] });
  await createTestCommunication(ta.db, own, r.client);
  const listed = (await bob.request('GET', `/api/messages?accountId=${account.id}`)).json().items;
  t.same(listed.map((m: { id: string }) => m.id), [own.id]);
  t.same(listed[0].clients, []);
  const all = (await bob.request('GET', '/api/messages?limit=200')).json().items.map((m: { id: string }) => m.id);
  t.ok(all.includes(own.id), 'in the inbox of all mail');
  t.notOk(all.includes(r.message.id), 'mail filed only to the client is not');
  const unfiled = (await bob.request('GET', `/api/messages?filed=false&accountId=${account.id}`)).json().items.map((m: { id: string }) => m.id);
  t.same(unfiled, [own.id], 'unfiled as far as bob can tell');
  const detail = (await bob.request('GET', `/api/messages/${own.id}`)).json();
  t.same(detail.clients, []);
  t.same((await alice.request('GET', `/api/messages/${own.id}`)).json().clients.map((c: { id: string }) => c.id), [r.client.id]);
});

t.test('who may change access: a staff member restricting a client stays on its team; team members may open it again', async (t) => {
  const client = await createTestClient(ta.db);
  const res = await bob.request('PATCH', `/api/clients/${client.id}`, { restricted: true, teamUserIds: [alice.user.id] });
  t.equal(res.statusCode, 200, res.body);
  t.same(res.json().team.map((u: { id: string }) => u.id).sort(), [alice.user.id, bob.user.id].sort());
  const bad = await alice.request('PATCH', `/api/clients/${client.id}`, { teamUserIds: ['00000000-0000-4000-8000-000000000000'] });
  t.equal(bad.statusCode, 400);
  t.equal(bad.json().error.field, 'teamUserIds');
  const open = await alice.request('PATCH', `/api/clients/${client.id}`, { restricted: false, teamUserIds: [] });
  t.equal(open.statusCode, 200, open.body);
  t.equal(open.json().restricted, false);
  const carol = await userSession(ta, 'staff');
  t.equal((await carol.request('GET', `/api/clients/${client.id}`)).statusCode, 200, 'open to the firm again');
  t.ok((await carol.request('GET', '/api/clients?limit=200')).json().items.length >= 0);
  // A list item carries the flag (the list's lock icon).
  const created = await admin.request('POST', '/api/clients', { name: uniq('Locked'), restricted: true, teamUserIds: [] });
  t.equal(created.statusCode, 201, created.body);
  t.equal(created.json().restricted, true);
  t.equal((await carol.request('GET', `/api/clients/${created.json().id}`)).statusCode, 404);
});
