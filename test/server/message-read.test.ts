// Read state per user and the conversations view (issue 16): unread is each user's own (the mailbox's \Seen
// plays no part), POST /api/messages/:id/read toggles it for the caller only (404 for mail they may not see),
// unread counts per view, and GET /api/messages?view=conversations lists one row per thread with its count.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { startTestApp, userSession } from '../support/app.ts';
import { createTestAccount, createTestClient, createTestCommunication, createTestMessage } from '../support/factories.ts';

const ta = await startTestApp();
t.teardown(ta.close);
const { db, blobs } = ta;

type Summary = { id: string; threadId: string; unread: boolean; threadCount?: number };
const items = (res: { json: () => { items: Summary[] } }) => res.json().items;

t.test('read state is per user: Alice reading leaves Bob\'s unread; \\Seen changes nothing', async (t) => {
  const alice = await userSession(ta, 'staff', 'Alice');
  const bob = await userSession(ta, 'staff', 'Bob');
  const shared = await createTestAccount(db, alice.user, { visibility: 'public' });
  const seen = await createTestMessage(db, blobs, { subject: 'seen on the server', locations: [{ mailbox: shared.inbox, flags: ['\\Seen'] }] });
  const other = await createTestMessage(db, blobs, { subject: 'other', locations: [{ mailbox: shared.inbox }] });
  const view = `/api/messages?accountId=${shared.account.id}`;
  const counts = `/api/messages/unread-count?accountId=${shared.account.id}`;

  for (const s of [alice, bob]) {
    t.same(items(await s.request('GET', view)).map((m) => m.unread), [true, true], 'new to everyone, \\Seen or not');
    t.same((await s.request('GET', counts)).json(), { unread: 2, more: false });
  }
  const read = await alice.request('POST', `/api/messages/${seen.id}/read`, { read: true });
  t.equal(read.statusCode, 200);
  t.same(read.json(), { id: seen.id, unread: false });
  t.equal((await alice.request('GET', `/api/messages/${seen.id}`)).json().unread, false, 'read for Alice');
  t.equal((await bob.request('GET', `/api/messages/${seen.id}`)).json().unread, true, 'still unread for Bob');
  t.same((await alice.request('GET', counts)).json(), { unread: 1, more: false }, 'Alice\'s count drops');
  t.same((await bob.request('GET', counts)).json(), { unread: 2, more: false }, 'Bob\'s does not');
  t.same(items(await alice.request('GET', `${view}&unread=true`)).map((m) => m.id), [other.id], 'unread filter');
  t.same(items(await alice.request('GET', `${view}&unread=false`)).map((m) => m.id), [seen.id], 'read filter');

  t.equal((await alice.request('POST', `/api/messages/${seen.id}/read`, { read: true })).statusCode, 200, 'idempotent');
  t.same((await alice.request('POST', `/api/messages/${seen.id}/read`, { read: false })).json(), { id: seen.id, unread: true }, 'u: unread again');
  t.equal((await alice.request('GET', `/api/messages/${seen.id}`)).json().unread, true);

  const bad = await alice.request('POST', `/api/messages/${seen.id}/read`, { read: 'yes' });
  t.equal(bad.statusCode, 400);
  t.equal(bad.json().error.field, 'read');
});

t.test('marking read follows the visibility rule: 404 for a colleague\'s unfiled private mail, as for an unknown id', async (t) => {
  const owner = await userSession(ta, 'staff', 'Owner');
  const colleague = await userSession(ta, 'staff', 'Colleague');
  const mine = await createTestAccount(db, owner.user, { visibility: 'private' });
  const unfiled = await createTestMessage(db, blobs, { locations: [{ mailbox: mine.inbox }] });
  const filed = await createTestMessage(db, blobs, { locations: [{ mailbox: mine.inbox }] });
  const client = await createTestClient(db);
  await createTestCommunication(db, filed, client);
  const hidden = await colleague.request('POST', `/api/messages/${unfiled.id}/read`, { read: true });
  t.equal(hidden.statusCode, 404);
  t.same(hidden.json(), (await colleague.request('POST', `/api/messages/${randomUUID()}/read`, { read: true })).json(), 'same answer as an unknown id');
  t.equal((await owner.request('GET', `/api/messages/${unfiled.id}`)).json().unread, true, 'nothing was recorded');
  t.equal((await colleague.request('POST', `/api/messages/${filed.id}/read`, { read: true })).statusCode, 200, 'filed mail is the firm\'s');
  t.same((await colleague.request('GET', `/api/messages/unread-count?clientId=${client.id}`)).json(), { unread: 0, more: false }, 'a client\'s Emails count');
  t.same((await owner.request('GET', `/api/messages/unread-count?clientId=${client.id}`)).json(), { unread: 1, more: false });
});

t.test('conversations: one row per thread (its newest message in the view) with a count; pages stay whole', async (t) => {
  const s = await userSession(ta, 'staff', 'Threads');
  const box = await createTestAccount(db, s.user, { visibility: 'private' });
  const now = Date.now();
  const threadA = randomUUID();
  const threadB = randomUUID();
  const a1 = await createTestMessage(db, blobs, { threadId: threadA, sentAt: new Date(now - 50_000), locations: [{ mailbox: box.inbox }] });
  const b1 = await createTestMessage(db, blobs, { threadId: threadB, sentAt: new Date(now - 40_000), locations: [{ mailbox: box.inbox }] });
  const a2 = await createTestMessage(db, blobs, { threadId: threadA, sentAt: new Date(now - 30_000), locations: [{ mailbox: box.sent }], direction: 'outbound' });
  const a3 = await createTestMessage(db, blobs, { threadId: threadA, sentAt: new Date(now - 20_000), locations: [{ mailbox: box.inbox }] });
  const single = await createTestMessage(db, blobs, { sentAt: new Date(now - 10_000), locations: [{ mailbox: box.inbox }] });
  const all = `/api/messages?accountId=${box.account.id}`;
  t.same(items(await s.request('GET', all)).map((m) => m.id), [single.id, a3.id, a2.id, b1.id, a1.id], 'messages view: every message');

  const conv = items(await s.request('GET', `${all}&view=conversations`));
  t.same(conv.map((m) => [m.id, m.threadCount]), [[single.id, 1], [a3.id, 3], [b1.id, 1]], 'one row per thread, newest message first, with its count');

  const inboxOnly = items(await s.request('GET', `${all}&folder=INBOX&view=conversations`));
  t.same(inboxOnly.map((m) => [m.id, m.threadCount]), [[single.id, 1], [a3.id, 2], [b1.id, 1]], 'the count is the view\'s (the Sent reply is not in INBOX)');

  // Reading the newest message leaves the conversation unread while an older one is not read.
  await s.request('POST', `/api/messages/${a3.id}/read`, { read: true });
  t.equal(items(await s.request('GET', `${all}&view=conversations`))[1]!.unread, true, 'an unread older message keeps the conversation unread');
  for (const id of [a1.id, a2.id]) await s.request('POST', `/api/messages/${id}/read`, { read: true });
  t.equal(items(await s.request('GET', `${all}&view=conversations`))[1]!.unread, false, 'all read: the conversation is read');

  const pages: string[] = [];
  let cursor: string | null = null;
  do {
    const page = (await s.request('GET', `${all}&view=conversations&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)).json() as { items: Summary[]; nextCursor: string | null };
    pages.push(...page.items.map((m) => m.id));
    cursor = page.nextCursor;
  } while (cursor);
  t.same(pages, [single.id, a3.id, b1.id], 'pages of one: each conversation once');
  t.equal((await s.request('GET', `${all}&view=threads`)).statusCode, 400, 'unknown view');
});
