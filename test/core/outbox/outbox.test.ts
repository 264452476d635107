// Queueing outgoing mail: the pure rules (subject, threading headers, body and signature) table-driven,
// and queueReply / queueMessage against PostgreSQL (recipients, account choice, limits, visibility).
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { openDb } from '../../../src/core/platform/db.ts';
import { createLocalBlobStore } from '../../../src/core/blobs/blob-store.ts';
import { DomainError } from '../../../src/core/platform/errors.ts';
import { MAX_RECIPIENTS, MAX_REPLY_REFERENCES, composeBody, newMessageId, queueMessage, queueReply, replySubject, replyThreading } from '../../../src/core/outbox/outbox.ts';
import { testConfig, uniqEmail } from '../../support/env.ts';
import { createTestAccount, createTestClient, createTestCommunication, createTestMessage, createTestUser } from '../../support/factories.ts';

t.test('replySubject adds one "Re: " and never stacks prefixes', async (t) => {
  const cases: [string, string][] = [
    ['Invoice 7', 'Re: Invoice 7'],
    ['Re: Invoice 7', 'Re: Invoice 7'],
    ['RE: re:Invoice 7', 'Re: Invoice 7'],
    ['AW: Sv: Antw: Invoice 7', 'Re: Invoice 7'],
    ['Re[2]: Invoice 7', 'Re: Invoice 7'],
    ['Fwd: Invoice 7', 'Re: Fwd: Invoice 7'],
    ['Reply needed', 'Re: Reply needed'],
    ['Invoice 42\r\nBcc: victim@example.net', 'Re: Invoice 42 Bcc: victim@example.net'],
    ['Invoice\u202e fdp.exe', 'Re: Invoice fdp.exe'],
  ];
  for (const [input, expected] of cases) t.equal(replySubject(input), expected, JSON.stringify(input));
  t.ok(replySubject('x'.repeat(100_000)).length <= 500, 'a huge subject is cut');
});

t.test('replyThreading: In-Reply-To is the parent, References its chain plus the parent, capped', async (t) => {
  t.same(replyThreading({ messageIdHeader: 'p@c', references: ['r@c', 'q@c'], inReplyTo: 'q@c' }), { inReplyTo: 'p@c', references: ['r@c', 'q@c', 'p@c'] });
  t.same(replyThreading({ messageIdHeader: 'p@c', references: [], inReplyTo: 'q@c' }), { inReplyTo: 'p@c', references: ['q@c', 'p@c'] }, 'In-Reply-To stands in for missing References');
  t.same(replyThreading({ messageIdHeader: null, references: ['r@c'], inReplyTo: null }), { inReplyTo: null, references: ['r@c'] }, 'a parent without Message-ID');
  t.same(replyThreading({ messageIdHeader: 'p@c', references: ['p@c', 'bad id@c', `${'x'.repeat(300)}@c`], inReplyTo: null }).references, ['p@c'], 'duplicates, whitespace and over-long ids dropped');
  const chain = Array.from({ length: 10_000 }, (_, i) => `m${i}@c`);
  const capped = replyThreading({ messageIdHeader: 'p@c', references: chain, inReplyTo: 'm9999@c' }).references;
  t.equal(capped.length, MAX_REPLY_REFERENCES);
  t.equal(capped[0], 'm0@c', 'the thread root is kept');
  t.equal(capped.at(-1), 'p@c', 'the parent is last');
});

t.test('composeBody: LF line breaks, controls removed, HTML sanitised, text from HTML, signature under "-- "', async (t) => {
  t.same(composeBody({ text: 'a\r\nb\rc\u0000d' }, ''), { text: 'a\nb\ncd', html: null });
  const withSig = composeBody({ text: 'Thanks\n\n', html: '<p>Thanks</p><script>alert(1)</script>' }, 'Ana <Firm>\r\nTax');
  t.equal(withSig.text, 'Thanks\n\n-- \nAna <Firm>\nTax\n');
  t.notMatch(withSig.html, /script/);
  t.match(withSig.html, /<p>Thanks<\/p><br><br>-- <br>Ana &lt;Firm&gt;<br>Tax$/);
  t.equal(composeBody({ html: '<p>Only <b>HTML</b></p>' }, '').text, 'Only HTML');
});

t.test('newMessageId: a fresh id in the account\'s (ASCII) domain', async (t) => {
  t.match(newMessageId('ana@firm.example'), /^[0-9a-f-]{36}@firm\.example$/);
  t.match(newMessageId('ana@bücher.example'), /@xn--bcher-kva\.example$/);
  t.not(newMessageId('a@b.example'), newMessageId('a@b.example'));
});

const config = testConfig();
const db = await openDb(config, { migrate: false, poolMax: 3 });
const blobs = createLocalBlobStore(config.blobDir);
t.teardown(() => db.close());

const codeOf = (err: unknown) => (err instanceof DomainError ? `${err.code}:${err.field ?? ''}` : String(err));

t.test('queueReply: reply to our own sent mail goes to its recipients; our addresses never get a copy', async (t) => {
  const { user } = await createTestUser(db);
  const { account, sent, inbox } = await createTestAccount(db, user);
  const colleague = await createTestAccount(db, user);
  const ours = await createTestMessage(db, blobs, {
    locations: [{ mailbox: sent }], from: { address: account.email }, to: [{ address: 'client@client.example', name: 'Client' }],
    cc: [{ address: colleague.account.email }],
  });
  const em = db.em.fork();
  const row = await queueReply(em, user, ours.id, { text: 'Following up', replyAll: true });
  t.same(row.to, [{ name: 'Client', address: 'client@client.example' }]);
  t.same(row.cc, [], 'our other account is not copied');
  t.equal(row.account.id, account.id);
  t.equal(row.kind, 'reply_all');

  const theirs = await createTestMessage(db, blobs, { locations: [{ mailbox: inbox }], from: { address: 'client@client.example' }, to: [{ address: account.email }] });
  const r2 = await queueReply(em, user, theirs.id, { text: 'ok' });
  t.same(r2.to, [{ address: 'client@client.example' }]);
});

t.test('queueReply: the account the message came through, unless one is chosen', async (t) => {
  const { user } = await createTestUser(db);
  const a = await createTestAccount(db, user);
  const b = await createTestAccount(db, user);
  const msg = await createTestMessage(db, blobs, { locations: [{ mailbox: b.inbox }] });
  const em = db.em.fork();
  t.equal((await queueReply(em, user, msg.id, { text: 'x' })).account.id, b.account.id);
  t.equal((await queueReply(em, user, msg.id, { text: 'x', accountId: a.account.id })).account.id, a.account.id);
  const { user: other } = await createTestUser(db);
  const foreign = await createTestAccount(db, other);
  await t.rejects(queueReply(em, user, msg.id, { text: 'x', accountId: foreign.account.id }), { code: 'not_found' }, 'another user\'s private account');
});

t.test('queueReply: mail seen only through a client file needs an account to be chosen', async (t) => {
  const { user: owner } = await createTestUser(db);
  const { inbox } = await createTestAccount(db, owner);
  const msg = await createTestMessage(db, blobs, { locations: [{ mailbox: inbox }] });
  await createTestCommunication(db, msg, await createTestClient(db));
  const { user } = await createTestUser(db);
  const mine = await createTestAccount(db, user);
  const em = db.em.fork();
  t.equal(codeOf(await queueReply(em, user, msg.id, { text: 'x' }).catch((e) => e)), 'account_required:accountId');
  t.equal((await queueReply(em, user, msg.id, { text: 'x', accountId: mine.account.id })).account.id, mine.account.id);
  const unfiled = await createTestMessage(db, blobs, { locations: [{ mailbox: inbox }] });
  t.equal(codeOf(await queueReply(em, user, unfiled.id, { text: 'x', accountId: mine.account.id }).catch((e) => e)), 'not_found:', 'unfiled private mail stays its owner\'s');
});

t.test('queueReply: reply all to a huge recipient list is refused, not trimmed', async (t) => {
  const { user } = await createTestUser(db);
  const { inbox } = await createTestAccount(db, user);
  const to = Array.from({ length: MAX_RECIPIENTS + 5 }, () => ({ address: uniqEmail('r') }));
  const msg = await createTestMessage(db, blobs, { locations: [{ mailbox: inbox }], to });
  const em = db.em.fork();
  t.equal(codeOf(await queueReply(em, user, msg.id, { text: 'x', replyAll: true }).catch((e) => e)), 'too_many_recipients:to');
  t.equal((await queueReply(em, user, msg.id, { text: 'x' })).to.length, 1, 'a plain reply is fine');
});

t.test('queueMessage: recipients deduplicated across To/Cc/Bcc; unknown documents and clients refused', async (t) => {
  const { user } = await createTestUser(db);
  const { account } = await createTestAccount(db, user);
  const em = db.em.fork();
  const row = await queueMessage(em, user, {
    accountId: account.id, to: ['A@Client.example', { name: 'A again', address: 'a@client.example' }], cc: ['a@client.example', 'b@client.example'],
    bcc: ['b@client.example'], subject: '  Your file  ', text: 'Hi',
  });
  t.same(row.to, [{ address: 'a@client.example' }]);
  t.same(row.cc, [{ address: 'b@client.example' }]);
  t.same(row.bcc, []);
  t.equal(row.subject, 'Your file');
  t.equal(row.inReplyTo, null);
  const base = { accountId: account.id, to: ['a@client.example'], subject: 's', text: 't' };
  t.equal(codeOf(await queueMessage(em, user, { ...base, documentIds: [randomUUID()] }).catch((e) => e)), 'document_not_found:documentIds.0');
  t.equal(codeOf(await queueMessage(em, user, { ...base, clientId: randomUUID() }).catch((e) => e)), 'client_not_found:clientId');
  t.equal(codeOf(await queueMessage(em, user, { ...base, forwardMessageId: randomUUID() }).catch((e) => e)), 'not_found:');
});
