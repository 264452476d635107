// Contacts in several clients (issue 15) through the server on real PostgreSQL: a contact's mail goes to all
// its clients (default), to its primary client, or — with "ask" — to none: it waits in Inbox+'s "Needs a
// client" view (and counts as unfiled) until someone files it; a reply in a thread already filed follows it.
import t from 'tap';
import { startTestApp, userSession } from '../support/app.ts';
import { uniqEmail } from '../support/env.ts';
import { createFiledTestMessage, createTestAccount, createTestClient, createTestContact, listMessageRecords } from '../support/factories.ts';

const ta = await startTestApp();
t.teardown(ta.close);
const { db, blobs, config } = ta;
const filing = { blobs, maxAttachmentBytes: config.maxAttachmentBytes };
const ids = (res: { json: () => { items: { id: string }[] } }) => res.json().items.map((i) => i.id);

t.test('all, ask, a thread that was filed, primary; choices checked', async (t) => {
  const s = await userSession(ta, 'staff', 'Filer');
  const box = await createTestAccount(db, s.user, { visibility: 'private' });
  const [a, b, other] = [await createTestClient(db), await createTestClient(db), await createTestClient(db)];
  const address = uniqEmail('director');
  // Added by the mailbox's owner: their consent to file their private mail (issue 12).
  const { contact } = await createTestContact(db, filing, { emails: [address], clientIds: [a.id, b.id], actor: s.user });
  const receive = async (spec: { threadId?: string } = {}) => (await createFiledTestMessage(db, blobs, { from: address, locations: [{ mailbox: box.inbox }], ...spec }, filing)).message;
  const clientsOf = async (id: string) => (await listMessageRecords(db, id)).map((r) => r.client_id).sort();

  const view = await s.request('GET', `/api/contacts/${contact.id}`);
  t.equal(view.json().filing, 'all', 'the default is all');
  const m1 = await receive();
  t.same(await clientsOf(m1.id), [a.id, b.id].sort(), 'all: filed to both clients');
  t.equal((await s.request('GET', '/api/messages/ambiguous-count')).json().count, 0);

  const ask = await s.request('PATCH', `/api/contacts/${contact.id}`, { filing: 'ask' });
  t.equal(ask.statusCode, 200);
  t.equal(ask.json().filing, 'ask');
  const m2 = await receive();
  t.same(await clientsOf(m2.id), [], 'ask: in no client\'s log');
  t.same(ids(await s.request('GET', '/api/messages?ambiguous=true')), [m2.id], 'in the Needs a client view');
  t.equal((await s.request('GET', '/api/messages/ambiguous-count')).json().count, 1, 'counted');
  t.ok(ids(await s.request('GET', '/api/messages?filed=false')).includes(m2.id), 'counts as unfiled');
  t.notOk(ids(await s.request('GET', `/api/messages?clientId=${a.id}`)).includes(m2.id));
  const colleague = await userSession(ta, 'staff', 'Colleague');
  t.same(ids(await colleague.request('GET', '/api/messages?ambiguous=true')), [], 'waiting mail of a private mailbox stays its owner\'s');

  t.equal((await s.request('POST', `/api/messages/${m2.id}/clients`, { clientId: a.id })).statusCode, 201, 'filed by hand');
  t.same(await clientsOf(m2.id), [a.id]);
  t.same(ids(await s.request('GET', '/api/messages?ambiguous=true')), [], 'no longer waiting');
  t.equal((await s.request('GET', '/api/messages/ambiguous-count')).json().count, 0);

  const m3 = await receive({ threadId: m2.threadId });
  t.same(await clientsOf(m3.id), [a.id], 'a reply in a filed thread follows the thread\'s client');
  t.same(ids(await s.request('GET', '/api/messages?ambiguous=true')), []);

  const m4 = await receive();
  t.same(ids(await s.request('GET', '/api/messages?ambiguous=true')), [m4.id]);
  const all = await s.request('PATCH', `/api/contacts/${contact.id}`, { filing: 'all' });
  t.equal(all.statusCode, 200);
  t.same(await clientsOf(m4.id), [a.id, b.id].sort(), 'back to all: the waiting mail is filed');
  t.same(ids(await s.request('GET', '/api/messages?ambiguous=true')), []);

  const notLinked = await s.request('PATCH', `/api/contacts/${contact.id}`, { filing: 'primary', primaryClientId: other.id });
  t.equal(notLinked.statusCode, 422);
  t.equal(notLinked.json().error.field, 'primaryClientId');
  const none = await s.request('PATCH', `/api/contacts/${contact.id}`, { filing: 'primary' });
  t.equal(none.statusCode, 422);
  t.equal(none.json().error.code, 'primary_required');
  const bad = await s.request('PATCH', `/api/contacts/${contact.id}`, { filing: 'some' });
  t.equal(bad.statusCode, 400);
  t.equal(bad.json().error.field, 'filing');
  const primary = await s.request('PATCH', `/api/contacts/${contact.id}`, { filing: 'primary', primaryClientId: b.id });
  t.equal(primary.statusCode, 200);
  t.same([primary.json().filing, primary.json().primaryClientId], ['primary', b.id]);
  const m5 = await receive();
  t.same(await clientsOf(m5.id), [b.id], 'primary: filed to the primary client only');
});

t.test('ask with a single client files to it as before', async (t) => {
  const s = await userSession(ta, 'staff', 'Single');
  const box = await createTestAccount(db, s.user, { visibility: 'private' });
  const a = await createTestClient(db);
  const address = uniqEmail('single');
  const { contact } = await createTestContact(db, filing, { emails: [address], clientIds: [a.id], actor: s.user });
  t.equal((await s.request('PATCH', `/api/contacts/${contact.id}`, { filing: 'ask' })).statusCode, 200);
  const { message } = await createFiledTestMessage(db, blobs, { from: address, locations: [{ mailbox: box.inbox }] }, filing);
  t.same((await listMessageRecords(db, message.id)).map((r) => r.client_id), [a.id]);
  t.equal((await s.request('GET', '/api/messages/ambiguous-count')).json().count, 0);
});
