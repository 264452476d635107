// Discussions end to end on real services: a topic goes to the contact group as ONE mail (SMTP peer), a
// participant's reply delivered to Dovecot becomes a comment after the sync and is filed to the client, a
// stranger's reply in the thread is held (not a comment), and a staff comment goes out in the same thread.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { extractReplyText } from '../../src/core/collaboration/discussion-replies.ts';
import { parseMessage } from '../../src/sync/parse-message.ts';
import { signIn, type Session } from '../support/app.ts';
import { uniq, uniqEmail } from '../support/env.ts';
import { headerValues } from '../support/sending.ts';
import type { SmtpMessage } from '../support/smtp-sink.ts';
import { createFirm, startFirmStack } from '../support/firm.ts';
import { createTestClientWithContacts, createTestUser, type TestContactSpec } from '../support/factories.ts';
import { syncUntil } from '../support/sync.ts';

const { ta, dovecot, sink, close } = await startFirmStack();
t.teardown(close);

const setupFirm = () => createFirm(ta, dovecot, sink, { prefix: 'disc' });

const setupClient = (contacts: TestContactSpec[]) => createTestClientWithContacts(ta, contacts);

async function query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
  return ta.db.em.fork().execute<T[]>(sql, params);
}


function replyMail(opts: { from: string; to: string; inReplyTo: string; references: string[]; subject: string; body: string }): { raw: Buffer; messageId: string } {
  const messageId = `${randomUUID()}@client.example`;
  const raw = Buffer.from([
    `From: ${opts.from}`, `To: ${opts.to}`, `Subject: ${opts.subject}`, `Date: ${new Date().toUTCString()}`, `Message-ID: <${messageId}>`,
    `In-Reply-To: <${opts.inReplyTo}>`, `References: ${opts.references.map((r) => `<${r}>`).join(' ')}`,
    'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '', opts.body, '',
  ].join('\r\n'));
  return { raw, messageId };
}

const getDiscussion = async (s: Session, id: string) => {
  const res = await s.request('GET', `/api/discussions/${id}`);
  if (res.statusCode !== 200) throw new Error(`GET discussion: ${res.statusCode} ${res.body}`);
  return res.json();
};
const toAll = (addresses: string[]) => (m: SmtpMessage) => addresses.every((a) => m.to.includes(a));

t.test('a topic goes to the group as one mail; a participant\'s email reply becomes a comment filed to the client; a stranger\'s is held', async (t) => {
  const firm = await setupFirm();
  const { client, contacts: [a, b] } = await setupClient([{ language: 'nl', name: 'Daan de Vries' }, { language: 'nl', name: 'Eva Jansen' }]);

  const res = await firm.s.request('POST', `/api/clients/${client.id}/discussions`, {
    subject: 'Holding structure 2026', body: 'Shall we move the shares into a holding?\nLet us discuss.', contactEmailIds: [a!.contactEmailId, b!.contactEmailId], accountId: firm.accountId,
  });
  t.equal(res.statusCode, 201, res.body);
  const { discussion, outboxIds } = res.json();
  t.equal(outboxIds.length, 1, 'one mail for the whole group');
  t.equal(discussion.comments.length, 1, 'the opening post is the first comment');
  t.same(discussion.participants.map((p: { address: string }) => p.address).sort(), [a!.address, b!.address].sort());
  const [root] = await query<{ root_message_id_header: string }>('select root_message_id_header from discussion where id = ?', [discussion.id]);

  const sent = await sink.waitFor(toAll([a!.address, b!.address]), 30_000);
  t.equal(sink.messages.filter((m) => m.raw.toString('latin1').includes(`<${root!.root_message_id_header}>`)).length, 1, 'exactly one message on the wire');
  t.same(headerValues(sent.raw, 'message-id'), [`<${root!.root_message_id_header}>`], 'the recorded root Message-ID is the one sent');
  const parsed = await parseMessage(sent.raw);
  t.equal(parsed.subject, 'Holding structure 2026');
  t.match(parsed.text, /is een gesprek met u begonnen/, 'in the group\'s language (both nl)');
  t.match(parsed.text, /Shall we move the shares into a holding\?/);

  // The participant answers with a quoted original under the new text.
  const reply = replyMail({
    from: `"Daan de Vries" <${a!.address}>`, to: firm.accountEmail, subject: 'Re: Holding structure 2026',
    inReplyTo: root!.root_message_id_header, references: [root!.root_message_id_header],
    body: `Yes, let us do that before June.\r\n\r\nOn Tue, 3 Mar 2026, Ana Firm wrote:\r\n> Shall we move the shares into a holding?`,
  });
  await dovecot.deliver(firm.mail.user, reply.raw);
  const withReply = await syncUntil(ta.queue, firm.accountId, async () => {
    const d = await getDiscussion(firm.s, discussion.id);
    return d.comments.length >= 2 ? d : null;
  });
  const comment = withReply.comments[1];
  t.equal(comment.body, 'Yes, let us do that before June.', 'the new text, without the quoted original');
  t.same(comment.author, { kind: 'contact', address: a!.address, name: 'Daan de Vries' });
  t.ok(comment.messageId, 'linked to the stored mail');
  const filed = await query<{ client_id: string }>('select client_id from communication where message_id = ?', [comment.messageId]);
  t.same(filed.map((r) => r.client_id), [client.id], 'the reply is filed to the client');
  const notes = await query<{ kind: string; link: string }>('select kind, link from notification where user_id = ? and kind = ?', [firm.user.id, 'discussion_replied']);
  t.equal(notes.length, 1, 'the author is notified of the reply');
  t.equal(notes[0]!.link, `/clients/${client.id}/discussions?open=${discussion.id}`);

  // Someone outside the group replies in the same thread: kept for staff, never a comment.
  const stranger = uniqEmail('stranger');
  const strangerReply = replyMail({
    from: stranger, to: firm.accountEmail, subject: 'Re: Holding structure 2026',
    inReplyTo: reply.messageId, references: [root!.root_message_id_header, reply.messageId], body: 'I am not in this discussion.',
  });
  await dovecot.deliver(firm.mail.user, strangerReply.raw);
  const withHeld = await syncUntil(ta.queue, firm.accountId, async () => {
    const d = await getDiscussion(firm.s, discussion.id);
    return d.held.length >= 1 ? d : null;
  });
  t.equal(withHeld.comments.length, 2, 'a non-participant\'s reply is not a comment');
  t.equal(withHeld.held[0].author.address, stranger);
  t.equal(withHeld.held[0].status, 'held');

  // Staff comment from the app: to the group, threaded under the latest comment's mail.
  const c = await firm.s.request('POST', `/api/discussions/${discussion.id}/comments`, { body: 'Great, I will prepare the papers.' });
  t.equal(c.statusCode, 201, c.body);
  t.equal(c.json().outboxIds.length, 1);
  const [commentRow] = await query<{ message_id_header: string }>('select message_id_header from discussion_comment where id = ?', [c.json().comment.id]);
  const second = await sink.waitFor((m) => m.raw.toString('latin1').includes(`<${commentRow!.message_id_header}>`), 30_000);
  t.same(second.to.sort(), [a!.address, b!.address].sort(), 'the comment goes to the whole group');
  t.same(headerValues(second.raw, 'in-reply-to'), [`<${reply.messageId}>`], 'In-Reply-To: the latest message of the discussion');
  const refs = headerValues(second.raw, 'references')[0] ?? '';
  t.match(refs, `<${root!.root_message_id_header}>`, 'References start at the root');
  t.match(refs, `<${reply.messageId}>`);
  t.equal((await parseMessage(second.raw)).subject, 'Re: Holding structure 2026');

  // Our own mails come back through Sent: filed to the client too, and never taken as client comments.
  await syncUntil(ta.queue, firm.accountId, async () => {
    const rows = await query<{ n: number }>(
      `select count(*)::int as n from communication cm join message m on m.id = cm.message_id where cm.client_id = ? and m.message_id_header in (?, ?)`,
      [client.id, root!.root_message_id_header, commentRow!.message_id_header]);
    return Number(rows[0]!.n) === 2;
  });
  const final = await getDiscussion(firm.s, discussion.id);
  t.equal(final.comments.length, 3, 'opening post, the participant\'s reply, the staff comment');
  t.equal(final.held.length, 1);

  const list = await firm.s.request('GET', `/api/clients/${client.id}/discussions`);
  t.equal(list.statusCode, 200, list.body);
  t.match(list.json().items[0], { id: discussion.id, comments: 3, participants: 2 });

  // The held reply sits in Ana's private mailbox: colleagues (even admins) neither see nor accept it (issue 12).
  const heldMessageId = final.held[0].messageId as string;
  for (const role of ['staff', 'admin'] as const) {
    const other = await createTestUser(ta.db, role, 'Bob Colleague');
    const bob: Session = { user: other.user, ...(await signIn(ta.app, other.email)) };
    const seen = await getDiscussion(bob, discussion.id);
    t.same(seen.held, [], `${role}: the held reply is not listed`);
    t.notOk(JSON.stringify(seen).includes('I am not in this discussion.'), `${role}: its body is nowhere`);
    const refused = await bob.request('POST', `/api/discussions/${discussion.id}/held/${heldMessageId}/accept`);
    t.equal(refused.statusCode, 404, `${role}: accepting it is 404`);
    t.equal((await query('select id from notification where user_id = ?', [other.user.id])).length, 0, `${role}: never notified of it`);
  }
  // Ana accepts it: a comment, filed to the client; accepting again is 404 (nothing is held any more).
  const accepted = await firm.s.request('POST', `/api/discussions/${discussion.id}/held/${heldMessageId}/accept`);
  t.equal(accepted.statusCode, 200, accepted.body);
  t.equal(accepted.json().held.length, 0);
  t.ok(accepted.json().comments.some((c: { body: string; status: string }) => c.body === 'I am not in this discussion.' && c.status === 'posted'), 'now a comment');
  t.same((await query<{ client_id: string }>('select client_id from communication where message_id = ?', [heldMessageId])).map((r) => r.client_id), [client.id], 'filed to the client');
  t.equal((await firm.s.request('POST', `/api/discussions/${discussion.id}/held/${heldMessageId}/accept`)).statusCode, 404);
});

t.test('only contact addresses of the client with notify and the messages category can take part', async (t) => {
  const firm = await setupFirm();
  const { client, contacts: [ok, off] } = await setupClient([{ language: 'en', name: 'Ok' }, { language: 'en', name: 'Off', categories: ['documents'] }]);
  const other = await setupClient([{ language: 'en', name: 'Elsewhere' }]);
  const post = (ids: string[]) => firm.s.request('POST', `/api/clients/${client.id}/discussions`, { subject: uniq('Topic'), body: 'Hello', contactEmailIds: ids, accountId: firm.accountId });
  const refused = await post([ok!.contactEmailId, off!.contactEmailId]);
  t.equal(refused.statusCode, 422);
  t.match(refused.json().error, { code: 'recipient_category_off', field: 'contactEmailIds.1' });
  const foreign = await post([other.contacts[0]!.contactEmailId]);
  t.equal(foreign.statusCode, 422);
  t.equal(foreign.json().error.code, 'recipient_not_contact');
  const missing = await firm.s.request('GET', `/api/discussions/${randomUUID()}`);
  t.equal(missing.statusCode, 404);
});

t.test('the new text of a reply is kept, quotes and the quoted original are dropped', async (t) => {
  t.equal(extractReplyText('Sí, de acuerdo.\n\nEl mar, 3 mar 2026 a las 10:00, Ana escribió:\n> hola'), 'Sí, de acuerdo.');
  t.equal(extractReplyText('Prima.\n> quoted\nOp 3 mrt. 2026 om 10:00 schreef Ana <a@b.example>:\n> x'), 'Prima.');
  t.equal(extractReplyText('> only a quote'), '> only a quote', 'nothing new: the whole text is kept rather than an empty comment');
});
