// Client owners (issue 15): set by PATCH, on create, in bulk, shown in the list and filterable; each user's
// client-mail notice (off | bell | email); new inbound mail filed through the sync's storeMessage notifies the
// owner with {kind: "client_mail", messageId, clientId}; 'email' adds a digest mail at most every 15 minutes.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { startTestApp, userSession } from '../support/app.ts';
import { createTestAccount, createTestClient, createTestContact, createTestMessageFromSource, createTestMime } from '../support/factories.ts';
import { uniqEmail } from '../support/env.ts';
import { kysely } from '../../src/core/platform/db.ts';
import type { User } from '../../src/core/staff/user.entity.ts';
import { runClientMailDigest } from '../../src/core/collaboration/client-mail-notices.ts';

const ta = await startTestApp();
t.teardown(ta.close);
const { db, blobs } = ta;
const filing = { blobs, maxAttachmentBytes: 25 * 1024 * 1024 };

type Note = { kind: string; messageId: string | null; clientId: string | null; title: string };
const clientMailNotes = async (s: { request: (m: string, u: string) => Promise<{ json: () => { items: Note[] } }> }) =>
  (await s.request('GET', '/api/notifications/page?limit=200')).json().items.filter((n) => n.kind === 'client_mail');

t.test('owner: PATCH, create, list column and filter, bulk; bad owners name the field', async (t) => {
  const s = await userSession(ta, 'staff', 'Olga Owner');
  const other = await userSession(ta, 'staff', 'Pim Other');
  const client = await createTestClient(db);
  const set = await s.request('PATCH', `/api/clients/${client.id}`, { ownerId: s.user.id });
  t.equal(set.statusCode, 200);
  t.same(set.json().owner, { id: s.user.id, name: 'Olga Owner' });
  for (const ownerId of [randomUUID(), 'nope']) {
    const bad = await s.request('PATCH', `/api/clients/${client.id}`, { ownerId });
    t.equal(bad.statusCode, 400, `${ownerId} refused`);
    t.equal(bad.json().error.field, 'ownerId');
  }
  const created = await s.request('POST', '/api/clients', { name: `Owned ${randomUUID()}`, ownerId: other.user.id });
  t.equal(created.statusCode, 201);
  t.same(created.json().owner, { id: other.user.id, name: 'Pim Other' }, 'create takes an owner');
  const listed = (await s.request('GET', `/api/clients?ownerId=${s.user.id}&limit=200`)).json().items;
  t.same(listed.map((c: { id: string }) => c.id), [client.id], 'the list filters by owner');
  t.same(listed[0].owner, { id: s.user.id, name: 'Olga Owner' }, 'list items carry the owner');

  const bulk = await s.request('POST', '/api/clients/bulk/owner', { clientIds: [client.id, created.json().id, randomUUID()], ownerId: other.user.id });
  t.equal(bulk.statusCode, 200);
  t.match(bulk.json(), { changed: 1, unchanged: 1, errors: [{ code: 'not_found' }] });
  t.same((await s.request('GET', `/api/clients/${client.id}`)).json().owner.id, other.user.id);
  const cleared = await s.request('PATCH', `/api/clients/${client.id}`, { ownerId: null });
  t.equal(cleared.json().owner, null, 'null clears the owner');
});

t.test('PATCH /api/me clientMailNotice: default bell, off | bell | email, anything else 400', async (t) => {
  const s = await userSession(ta);
  t.equal((await s.request('GET', '/api/me')).json().user.clientMailNotice, 'bell');
  const set = await s.request('PATCH', '/api/me', { clientMailNotice: 'email' });
  t.equal(set.statusCode, 200);
  t.equal(set.json().user.clientMailNotice, 'email');
  const bad = await s.request('PATCH', '/api/me', { clientMailNotice: 'sms' });
  t.equal(bad.statusCode, 400);
  t.equal(bad.json().error.field, 'clientMailNotice');
});

/** A client owned by `ownerId` with one contact address, and a mailbox to receive its mail in. */
async function ownedClient(ownerId: string, mailboxOwner: User) {
  const client = await createTestClient(db);
  const em = db.em.fork();
  await kysely(em).updateTable('client').set({ owner_id: ownerId }).where('id', '=', client.id).execute();
  const address = uniqEmail('client');
  await createTestContact(db, filing, { emails: [address], clientIds: [client.id] });
  const box = await createTestAccount(db, mailboxOwner, { visibility: 'public' });
  return { client, address, box };
}

t.test('new inbound mail filed to a client notifies its owner per their choice; the firm\'s own mail does not', async (t) => {
  const owner = await userSession(ta);
  const quiet = await userSession(ta);
  await quiet.request('PATCH', '/api/me', { clientMailNotice: 'off' });
  const { client, address, box } = await ownedClient(owner.user.id, owner.user);
  const inbound = await createTestMessageFromSource(db, blobs, box.inbox, Buffer.from(createTestMime({ from: address, to: box.account.email, subject: 'My VAT papers' })), filing);
  const notes = await clientMailNotes(owner);
  t.equal(notes.length, 1);
  t.match(notes[0], { kind: 'client_mail', messageId: inbound.id, clientId: client.id });
  t.match(notes[0]!.title, /My VAT papers/);

  // Sent by the firm to the client: filed, but nobody is told of their own mail.
  await createTestMessageFromSource(db, blobs, box.sent, Buffer.from(createTestMime({ from: box.account.email, to: address, subject: 'Our answer' })), filing);
  t.equal((await clientMailNotes(owner)).length, 1, 'no notice for outbound mail');

  const off = await ownedClient(quiet.user.id, quiet.user);
  await createTestMessageFromSource(db, blobs, off.box.inbox, Buffer.from(createTestMime({ from: off.address, to: off.box.account.email })), filing);
  t.equal((await clientMailNotes(quiet)).length, 0, "'off' gets no notice");
});

t.test("'email': the bell plus a digest mail at most every 15 minutes", async (t) => {
  const owner = await userSession(ta);
  await owner.request('PATCH', '/api/me', { clientMailNotice: 'email' });
  const { address, box } = await ownedClient(owner.user.id, owner.user);
  const deliver = (subject: string) => createTestMessageFromSource(db, blobs, box.inbox, Buffer.from(createTestMime({ from: address, to: box.account.email, subject })), filing);
  const digests = async () => (await kysely(db.em.fork()).selectFrom('outbox').select(['id', 'subject', 'text', 'to']).where('kind', '=', 'staff_notification')
    .orderBy('created_at').execute()).filter((o) => JSON.stringify(o.to).includes(owner.user.email));

  await deliver('First papers');
  await deliver('Second papers');
  t.equal((await clientMailNotes(owner)).length, 2, 'bell notices as for bell');
  t.equal((await digests()).length, 0, 'no mail per notice');
  const t0 = new Date();
  const first = await runClientMailDigest(db, ta.queue, owner.user.id, { now: t0 });
  t.equal(first.kind, 'sent');
  let mails = await digests();
  t.equal(mails.length, 1);
  t.match(mails[0]!.text, /First papers[\s\S]*Second papers/, 'one digest lists both');

  await deliver('Third papers');
  const early = await runClientMailDigest(db, ta.queue, owner.user.id, { now: new Date(t0.getTime() + 5 * 60_000) });
  t.equal(early.kind, 'wait', 'within 15 minutes: waits');
  t.equal((await digests()).length, 1);
  const later = await runClientMailDigest(db, ta.queue, owner.user.id, { now: new Date(t0.getTime() + 15 * 60_000 + 1) });
  t.equal(later.kind, 'sent');
  mails = await digests();
  t.equal(mails.length, 2);
  t.match(mails[1]!.text, /Third papers/);
  t.notMatch(mails[1]!.text, /First papers/, 'each notice is mailed once');
  t.equal((await runClientMailDigest(db, ta.queue, owner.user.id, { now: new Date(t0.getTime() + 40 * 60_000) })).kind, 'none', 'nothing left to send');
});
