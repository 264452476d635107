// Private-mail consent (issue 12) through the real server: a colleague adding an address files nothing of
// another user's private mail until its owner approves; declines hold; the owner's own adds file at once;
// mail arriving later asks the owner. Real PostgreSQL, Redis and blob store (app.inject).
import t from 'tap';
import { startTestApp, userSession } from '../support/app.ts';
import { uniq, uniqEmail } from '../support/env.ts';
import { createFiledTestMessage, createTestAccount, createTestClient, createTestMail, createTestMessageFromSource, listMessageRecords } from '../support/factories.ts';

const ta = await startTestApp();
t.teardown(ta.close);
const deps = { blobs: ta.blobs, maxAttachmentBytes: ta.config.maxAttachmentBytes };
const alice = await userSession(ta, 'staff', 'Alice');
const bob = await userSession(ta, 'staff', 'Bob');
const box = await createTestAccount(ta.db, alice.user, { visibility: 'private' });

async function privateMail(from: string, subject = uniq('Private')) {
  return (await createFiledTestMessage(ta.db, ta.blobs, { from, to: [box.account.email], subject, locations: [{ mailbox: box.inbox }] }, deps)).message;
}
const approvals = async (s = alice) => (await s.request('GET', '/api/filing-approvals')).json().items as {
  id: string; address: string; client: { id: string; name: string }; requestedBy: { id: string; name: string } | null; accountId: string | null; messages: number;
}[];
const notifications = async (s = alice) => (await s.request('GET', '/api/notifications/page?limit=50')).json().items as { kind: string; link: string | null; title: string }[];

t.test("a colleague's add asks the owner and files nothing until she approves", async (t) => {
  const address = uniqEmail('lawyer');
  const message = await privateMail(address);
  const client = await createTestClient(ta.db);
  const added = await bob.request('POST', '/api/contacts', { name: 'Counsel', emails: [{ address }], clientIds: [client.id] });
  t.equal(added.statusCode, 201, added.body);
  t.equal(added.json().filed, 0, 'nothing filed, and the answer reads as for an unknown address');
  t.equal((await bob.request('GET', `/api/messages/${message.id}`)).statusCode, 404);
  t.same(await listMessageRecords(ta.db, message.id), []);
  t.same(await approvals(bob), [], 'the requester has no approval and is not told');
  t.notOk((await notifications(bob)).some((n) => n.kind === 'filing_approval'));

  const items = await approvals();
  const mine = items.filter((i) => i.address === address);
  t.equal(mine.length, 1);
  t.match(mine[0], { address, client: { id: client.id, name: client.name }, requestedBy: { id: bob.user.id, name: 'Bob' }, accountId: box.account.id, messages: 1 });
  const bell = (await notifications()).filter((n) => n.kind === 'filing_approval' && n.title.includes(address));
  t.equal(bell.length, 1, 'one bell notification for the owner');
  t.equal(bell[0]!.link, '/settings/filing-approvals');

  t.equal((await bob.request('POST', `/api/filing-approvals/${mine[0]!.id}`, { decision: 'approve' })).statusCode, 404, 'only the owner decides');
  t.equal((await alice.request('POST', `/api/filing-approvals/${mine[0]!.id}`, { decision: 'maybe' })).statusCode, 400);
  const approved = await alice.request('POST', `/api/filing-approvals/${mine[0]!.id}`, { decision: 'approve' });
  t.equal(approved.statusCode, 200, approved.body);
  t.same(approved.json(), { id: mine[0]!.id, status: 'approved', filed: 1 });
  t.equal((await bob.request('GET', `/api/messages/${message.id}`)).statusCode, 200, 'filed: the client history is the firm’s');
  t.same((await approvals()).filter((i) => i.address === address), [], 'no longer pending');

  const later = await privateMail(address);
  t.same((await listMessageRecords(ta.db, later.id)).map((r) => r.client_id), [client.id], 'and from then on');
});

t.test('a decline holds, also for later mail, until the owner changes her mind in Settings', async (t) => {
  const address = uniqEmail('doctor');
  const message = await privateMail(address);
  const client = await createTestClient(ta.db);
  await bob.request('POST', '/api/contacts', { name: 'Doctor', emails: [{ address }], clientIds: [client.id] });
  const item = (await approvals()).find((i) => i.address === address)!;
  const declined = await alice.request('POST', `/api/filing-approvals/${item.id}`, { decision: 'decline' });
  t.same(declined.json(), { id: item.id, status: 'declined', filed: 0 });
  const later = await privateMail(address);
  t.same(await listMessageRecords(ta.db, later.id), [], 'new mail stays out');
  t.same((await approvals()).filter((i) => i.address === address), [], 'and is not asked again');
  t.equal((await bob.request('GET', `/api/messages/${message.id}`)).statusCode, 404);

  const settings = (await alice.request('GET', '/api/filing-consents')).json().items as { id: string; address: string; status: string }[];
  t.match(settings.find((i) => i.address === address), { id: item.id, status: 'declined' });
  t.same((await bob.request('GET', '/api/filing-consents')).json().items.filter((i: { address: string }) => i.address === address), []);
  const changed = await alice.request('POST', `/api/filing-approvals/${item.id}`, { decision: 'approve' });
  t.same(changed.json(), { id: item.id, status: 'approved', filed: 2 });
  t.equal((await bob.request('GET', `/api/messages/${message.id}`)).statusCode, 200);
});

t.test("the owner's own add files at once, asks nobody", async (t) => {
  const address = uniqEmail('own');
  const message = await privateMail(address);
  const client = await createTestClient(ta.db);
  const added = await alice.request('POST', '/api/contacts', { name: 'Own', emails: [{ address }], clientIds: [client.id] });
  t.equal(added.json().filed, 1);
  t.same((await listMessageRecords(ta.db, message.id)).map((r) => r.client_id), [client.id]);
  t.same((await approvals()).filter((i) => i.address === address), []);
  // Linking the contact to a second client by a colleague asks again, for that client only.
  const other = await createTestClient(ta.db);
  const link = await bob.request('PUT', `/api/clients/${other.id}/contacts/${added.json().id}`, {});
  t.equal(link.json().filed, 0);
  t.same((await approvals()).filter((i) => i.address === address).map((i) => i.client.id), [other.id]);
});

t.test('mail arriving later for an address nobody consented to is held and its owner asked', async (t) => {
  const address = uniqEmail('later');
  const client = await createTestClient(ta.db);
  await bob.request('POST', '/api/contacts', { name: 'Later', emails: [{ address }], clientIds: [client.id] });
  t.same((await approvals()).filter((i) => i.address === address), [], 'no mail yet: nothing to ask');
  const message = await privateMail(address);
  t.same(await listMessageRecords(ta.db, message.id), [], 'not filed');
  const item = (await approvals()).find((i) => i.address === address);
  t.match(item, { client: { id: client.id }, requestedBy: null, messages: 1 });
  // The same mail reaching a public mailbox is the firm's: filed as before.
  const info = await createTestAccount(ta.db, alice.user, { visibility: 'public' });
  const shared = (await createFiledTestMessage(ta.db, ta.blobs, { from: address, to: [info.account.email], locations: [{ mailbox: info.inbox }, { mailbox: box.inbox }] }, deps)).message;
  t.same((await listMessageRecords(ta.db, shared.id)).map((r) => r.client_id), [client.id], 'a public copy files as today');
});

t.test('the sync pipeline holds new private mail and rings the owner’s bell itself', async (t) => {
  const address = uniqEmail('synced');
  const client = await createTestClient(ta.db);
  await bob.request('POST', '/api/contacts', { name: 'Synced', emails: [{ address }], clientIds: [client.id] });
  const raw = createTestMail({ from: address, to: box.account.email, subject: uniq('Synced private') });
  const message = await createTestMessageFromSource(ta.db, ta.blobs, box.inbox, raw, deps);
  t.same(await listMessageRecords(ta.db, message.id), [], 'stored, not filed');
  const bell = (await notifications()).filter((n) => n.kind === 'filing_approval' && n.title.includes(address));
  t.equal(bell.length, 1, 'announced in the same transaction as the batch');
  t.match(bell[0]!.title, /An address of a client asks/);
  t.equal((await bob.request('GET', `/api/messages/${message.id}`)).statusCode, 404);
});
