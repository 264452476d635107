// Sending through the API: reply and new-message routes queue a row (202) that a worker on the same
// BullMQ queue sends to the SMTP peer; GET /api/outbox/:id shows the outcome in the server's words;
// header fields with line breaks are refused with 400 naming the field; nobody sees another's outbox.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { Document } from '../../src/core/documents/document.entity.ts';
import { Client } from '../../src/core/crm/client.entity.ts';
import { createHandlers } from '../../src/sync/handlers.ts';
import { signIn, startTestApp, userSession, type Session } from '../support/app.ts';
import { getDovecot } from '../support/dovecot.ts';
import { uniq } from '../support/env.ts';
import { startSmtpSink, type SmtpMessage } from '../support/smtp-sink.ts';
import { headerFields, headerValues } from '../support/sending.ts';
import { createTestClientMail, createTestReceivedMessage, createTestSendingAccount, type TestSendingAccount } from '../support/factories.ts';

const ta = await startTestApp();
const silent = { info: () => {}, warn: () => {}, error: () => {} };
ta.queue.work(createHandlers({ config: ta.config, db: ta.db, queue: ta.queue, blobs: ta.blobs, log: silent, workerId: `test-${randomUUID()}` }));
const dovecot = await getDovecot();
const sink = await startSmtpSink();
t.teardown(async () => {
  await ta.close();
  await sink.close();
});
const services = { db: ta.db, config: ta.config, blobs: ta.blobs, dovecot, sink };

async function signedIn(opts: Parameters<typeof createTestSendingAccount>[1] = {}): Promise<{ f: TestSendingAccount; s: Session }> {
  const f = await createTestSendingAccount(services, opts);
  return { f, s: { user: f.user, ...(await signIn(ta.app, f.email)) } };
}

async function waitForOutbox(s: Session, id: string, timeoutMs = 30_000): Promise<{ status: string; error?: string; messageId: string }> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await s.request('GET', `/api/outbox/${id}`);
    if (res.statusCode !== 200) throw new Error(`GET /api/outbox/${id}: ${res.statusCode} ${res.body}`);
    const body = res.json();
    if (body.status === 'sent' || body.status === 'failed') return body;
    if (Date.now() > until) throw new Error(`outbox ${id} still ${body.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
const withId = (id: string) => (m: SmtpMessage) => m.raw.toString('latin1').includes(id);

t.test('POST /api/messages/:id/reply → 202, the SMTP peer gets it threaded, GET shows it sent', async (t) => {
  const { f, s } = await signedIn({ sentCopy: 'never' });
  const parentId = `${uniq('p')}@client.example`;
  const messageId = await createTestReceivedMessage(services, f, createTestClientMail(f, { messageId: parentId, subject: 'Payroll March', cc: 'bookkeeper@client.example, ' + f.account.email }));
  const res = await s.request('POST', `/api/messages/${messageId}/reply`, { text: 'Done.', replyAll: true });
  t.equal(res.statusCode, 202, res.body);
  const { outboxId } = res.json();
  t.match(outboxId, /^[0-9a-f-]{36}$/);
  const done = await waitForOutbox(s, outboxId);
  t.equal(done.status, 'sent', done.error ?? '');
  t.match(done.messageId, /^<[0-9a-f-]{36}@/);
  const got = await sink.waitFor(withId(done.messageId));
  t.same(got.to.sort(), ['bookkeeper@client.example', 'client@client.example'], 'reply all without ourselves');
  t.same(headerValues(got.raw, 'in-reply-to'), [`<${parentId}>`]);
  t.same(headerValues(got.raw, 'subject'), ['Re: Payroll March']);

  const list = await s.request('GET', '/api/outbox?status=sent');
  t.equal(list.statusCode, 200);
  t.same(list.json().items.map((i: { id: string }) => i.id), [outboxId], 'the caller\'s sent rows');
  t.same((await s.request('GET', '/api/outbox?status=failed')).json().items, []);
});

t.test('a 550 shows as failed with the server\'s words', async (t) => {
  const { f, s } = await signedIn({ sentCopy: 'never' });
  const messageId = await createTestReceivedMessage(services, f, createTestClientMail(f));
  sink.rejectNext(1, 550, { message: '5.7.1 Message rejected as spam' });
  const res = await s.request('POST', `/api/messages/${messageId}/reply`, { text: 'Hello' });
  t.equal(res.statusCode, 202);
  const done = await waitForOutbox(s, res.json().outboxId);
  t.equal(done.status, 'failed');
  t.match(done.error, /550 5\.7\.1 Message rejected as spam/);
});

t.test('POST /api/outbox sends new mail; Bcc reaches the envelope only; documents are attached', async (t) => {
  const { f, s } = await signedIn({ sentCopy: 'never' });
  const em = ta.db.em.fork();
  const stored = await ta.blobs.put(Buffer.from('%PDF-1.4 test document'));
  await em.execute('insert into blob (sha256, size, created_at) values (?, ?, now()) on conflict do nothing', [stored.sha256, stored.size]);
  const client = em.create(Client, { name: uniq('Client') } as never);
  const doc = em.create(Document, { client, sha256: stored.sha256, name: '../../etc/Invoice 7.pdf', visibleToClient: false, size: stored.size, contentType: 'application/pdf', source: 'upload' } as never);
  await em.flush();
  const res = await s.request('POST', '/api/outbox', {
    accountId: f.account.id, to: [{ name: 'Client Person', address: 'client@client.example' }], bcc: ['archive@firm.example'],
    subject: 'Your documents', text: 'Attached.', clientId: client.id, documentIds: [doc.id],
  });
  t.equal(res.statusCode, 202, res.body);
  const done = await waitForOutbox(s, res.json().outboxId);
  t.equal(done.status, 'sent', done.error ?? '');
  const got = await sink.waitFor(withId(done.messageId));
  t.same(got.to.sort(), ['archive@firm.example', 'client@client.example']);
  t.notOk(headerFields(got.raw).some(([n]) => n === 'bcc'), 'no Bcc header');
  const raw = got.raw.toString('latin1');
  t.match(raw, /Content-Disposition: attachment; filename="?Invoice 7\.pdf"?/, 'attached under its base name');
  t.ok(raw.includes(Buffer.from('%PDF-1.4 test document').toString('base64')), 'with its bytes');
});

t.test('header fields with line breaks, and non-addresses, are refused with 400 naming the field', async (t) => {
  const { f, s } = await signedIn({ sentCopy: 'never' });
  const base = { accountId: f.account.id, to: ['client@client.example'], subject: 'Hello', text: 'Hi' };
  const cases: [string, Record<string, unknown>, string][] = [
    ['subject CRLF + Bcc', { subject: 'Invoice\r\nBcc: victim@example.net' }, 'subject'],
    ['subject bare LF', { subject: 'Invoice\nX-Injected: 1' }, 'subject'],
    ['name with CRLF', { to: [{ name: 'Support\r\nBcc: everyone@example.net', address: 'support@client.example' }] }, 'to.0.name'],
    ['address with CRLF', { cc: ['a@client.example\r\nBcc: b@example.net'] }, 'cc.0'],
    ['not an address', { to: ['client@client.example', 'not an address'] }, 'to.1'],
    ['quoted local part', { bcc: ['"x%0d%0aBcc:y@example.net"@client.example'] }, 'bcc.0'],
    ['no body', { text: undefined }, 'text'],
    ['unknown field', { headers: { Bcc: 'x@example.net' } }, 'headers'],
  ];
  const before = sink.messages.length;
  for (const [label, over, field] of cases) {
    const res = await s.request('POST', '/api/outbox', { ...base, ...over });
    t.equal(res.statusCode, 400, `${label}: ${res.body}`);
    t.equal(res.json().error.field, field, label);
  }
  const messageId = await createTestReceivedMessage(services, f, createTestClientMail(f));
  const reply = await s.request('POST', `/api/messages/${messageId}/reply`, { text: '' });
  t.equal(reply.statusCode, 400);
  t.equal(reply.json().error.field, 'text');
  t.equal(sink.messages.length, before, 'nothing was sent');
});

t.test('nobody replies from, or sees the outbox of, another user\'s private mailbox', async (t) => {
  const { f, s } = await signedIn({ sentCopy: 'never' });
  const other = await userSession(ta);
  const messageId = await createTestReceivedMessage(services, f, createTestClientMail(f));
  t.equal((await other.request('POST', `/api/messages/${messageId}/reply`, { text: 'Hi' })).statusCode, 404, 'their message is invisible');
  t.equal((await other.request('POST', '/api/outbox', { accountId: f.account.id, to: ['a@client.example'], subject: 'x', text: 'y' })).statusCode, 404, 'their account cannot be sent from');
  const mine = await s.request('POST', `/api/messages/${messageId}/reply`, { text: 'Hi' });
  t.equal(mine.statusCode, 202);
  t.equal((await other.request('GET', `/api/outbox/${mine.json().outboxId}`)).statusCode, 404);
  t.same((await other.request('GET', '/api/outbox')).json().items, []);
  t.equal((await s.request('POST', `/api/messages/${randomUUID()}/reply`, { text: 'Hi' })).statusCode, 404, 'unknown message');
  await waitForOutbox(s, mine.json().outboxId);
});

t.test('a forward carries the original, unchanged, as a message/rfc822 attachment', async (t) => {
  const { f, s } = await signedIn({ sentCopy: 'never' });
  const originalId = `${uniq('orig')}@client.example`;
  const messageId = await createTestReceivedMessage(services, f, createTestClientMail(f, { messageId: originalId, subject: 'Contract draft', body: 'Draft attached, please review.' }));
  const res = await s.request('POST', '/api/outbox', { accountId: f.account.id, to: ['partner@firm.example'], subject: 'Fwd: Contract draft', text: 'FYI', forwardMessageId: messageId });
  t.equal(res.statusCode, 202, res.body);
  const done = await waitForOutbox(s, res.json().outboxId);
  t.equal(done.status, 'sent', done.error ?? '');
  const raw = (await sink.waitFor(withId(done.messageId))).raw.toString('latin1');
  t.match(raw, /Content-Type: message\/rfc822/);
  t.ok(raw.includes(`Message-ID: <${originalId}>`), 'the original header block travels inside');
  t.ok(raw.includes('Draft attached, please review.'));
  t.same(headerValues((await sink.waitFor(withId(done.messageId))).raw, 'in-reply-to'), [], 'a forward does not claim to be a reply');
});
