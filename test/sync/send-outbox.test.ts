// The 'send-outbox' job against a real SMTP peer and a real Dovecot: replies leave with the right threading
// headers, land in Sent (seen), are retried on 4xx, fail with the server's words on 5xx, and are never
// sent twice (concurrent runs, or an interrupted attempt whose message is already in Sent).
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { openDb } from '../../src/core/platform/db.ts';
import { createLocalQueue } from '../../src/core/platform/jobs.ts';
import { createLocalBlobStore } from '../../src/core/blobs/blob-store.ts';
import { Outbox } from '../../src/core/outbox/outbox.entity.ts';
import { enqueueSend, queueReply } from '../../src/core/outbox/outbox.ts';
import { createHandlers } from '../../src/sync/handlers.ts';
import { providerSavesSentMail, resumeOutbox, shouldAppendSentCopy } from '../../src/sync/send-outbox.ts';
import type { WorkerDeps } from '../../src/sync/worker-deps.ts';
import { getDovecot } from '../support/dovecot.ts';
import { startSmtpSink, type SmtpMessage } from '../support/smtp-sink.ts';
import { testConfig, uniq } from '../support/env.ts';
import { headerFields, headerValues } from '../support/sending.ts';
import { createTestClientMail, createTestReceivedMessage, createTestSendingAccount, type TestSendingAccount } from '../support/factories.ts';

const HOSTILE = new URL('../../../shared/corpus/hostile/', import.meta.url);
const config = testConfig();
const db = await openDb(config, { migrate: false, poolMax: 5 });
const blobs = createLocalBlobStore(config.blobDir);
const queue = createLocalQueue();
const silent = { info: () => {}, warn: () => {}, error: () => {} };
const deps: WorkerDeps = { config, db, queue, blobs, log: silent, workerId: `test-${randomUUID()}` };
// The real handlers; each finished send-outbox job is counted per row, so a test can wait for jobs that must
// do nothing (a duplicate, a recovered send) to have run instead of sleeping.
const handlers = createHandlers(deps);
const sendJobsRun = new Map<string, number>();
queue.work({
  ...handlers,
  'send-outbox': async (payload, ctx) => {
    try {
      await handlers['send-outbox'](payload, ctx);
    } finally {
      sendJobsRun.set(payload.outboxId, (sendJobsRun.get(payload.outboxId) ?? 0) + 1);
    }
  },
}, { concurrency: 4 });
/** Resolves once `count` send-outbox jobs for the row have finished, and the SMTP peer's sessions have closed. */
async function sendJobsDone(outboxId: string, count: number, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while ((sendJobsRun.get(outboxId) ?? 0) < count) {
    if (Date.now() > until) throw new Error(`only ${sendJobsRun.get(outboxId) ?? 0} of ${count} send jobs ran for ${outboxId}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  await sink.settled();
}
const dovecot = await getDovecot();
const sink = await startSmtpSink();
t.teardown(async () => {
  await queue.close();
  await sink.close();
  await db.close();
});

const services = { db, config, blobs, dovecot, sink };
type Fixture = TestSendingAccount;
const setup = (opts: Parameters<typeof createTestSendingAccount>[1] = {}) => createTestSendingAccount(services, opts);
const receive = (f: Fixture, raw: Buffer) => createTestReceivedMessage(services, f, raw);
const rawMail = createTestClientMail;

async function reply(f: Fixture, messageId: string, input: Parameters<typeof queueReply>[3] = { text: 'Thanks, received.' }): Promise<Outbox> {
  const em = db.em.fork();
  const row = await queueReply(em, f.user, messageId, input);
  await em.flush();
  return row;
}

/** Waits for one of `statuses`; for 'sent', also for the Sent copy step to finish (sentCopy set). */
async function waitForStatus(id: string, statuses: string[], timeoutMs = 30_000): Promise<Outbox> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const row = await db.em.fork().findOneOrFail(Outbox, { id });
    if (statuses.includes(row.status) && (row.status !== 'sent' || row.sentCopy)) return row;
    if (Date.now() > until) throw new Error(`outbox ${id} still ${row.status} (${row.error ?? ''})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const withId = (messageIdHeader: string) => (m: SmtpMessage) => m.raw.toString('latin1').includes(`<${messageIdHeader}>`);
const header = headerValues;

/** UIDs in the user's Sent folder whose Message-ID is `id` (Dovecot's own search). */
async function sentUids(user: string, id: string): Promise<number[]> {
  const out = await dovecot.doveadm(['search', '-u', user, 'mailbox', 'Sent', 'header', 'Message-ID', `<${id}>`]);
  // Tab output: a header line ("mailbox-guid uid"), then one row per message.
  return out.split('\n').slice(1).filter(Boolean).map((l) => Number(l.trim().split(/\s+/)[1]));
}

t.test('a reply reaches the SMTP peer with threading headers and is saved, seen, in Sent', async (t) => {
  const f = await setup({ signature: 'Ana Firm\nTax advisers' });
  const parentId = `${uniq('parent')}@client.example`;
  const messageId = await receive(f, rawMail(f, { messageId: parentId, references: '<root-7@client.example>', subject: 'RE: Invoice 7' }));
  const row = await reply(f, messageId);
  await enqueueSend(queue, row.id);
  const done = await waitForStatus(row.id, ['sent', 'failed']);
  t.equal(done.status, 'sent', done.error ?? '');
  t.equal(done.sentCopy, 'appended');
  t.notOk(done.error);

  const got = await sink.waitFor(withId(row.messageIdHeader));
  t.same(got.to, ['client@client.example'], 'to the sender of the parent');
  t.equal(got.from, f.account.email, 'envelope sender is the account');
  t.same(header(got.raw, 'message-id'), [`<${row.messageIdHeader}>`]);
  t.match(row.messageIdHeader, new RegExp(`@${f.account.email.split('@')[1]!.replace(/\./g, '\\.')}$`), 'Message-ID in the account domain');
  t.same(header(got.raw, 'in-reply-to'), [`<${parentId}>`]);
  t.same(header(got.raw, 'references'), [`<root-7@client.example> <${parentId}>`]);
  t.same(header(got.raw, 'subject'), ['Re: Invoice 7'], 'one Re:, not stacked');
  t.match(header(got.raw, 'from')[0], f.account.email);
  const body = got.raw.toString('utf8');
  t.match(body, /Thanks, received\.\r\n\r\n-- \r\nAna Firm\r\nTax advisers/, 'signature under the "-- " separator');

  const uids = await sentUids(f.mail.user, row.messageIdHeader);
  t.equal(uids.length, 1, 'one copy in Sent');
  const flags = await dovecot.fetchFlags(f.mail.user, 'Sent', uids);
  t.ok(flags.get(uids[0]!)?.includes('\\Seen'), 'the copy is marked seen');
  t.equal(sink.messages.filter(withId(row.messageIdHeader)).length, 1, 'sent once');
});

t.test('a 451 is retried with backoff and the message is sent once', async (t) => {
  const f = await setup();
  const messageId = await receive(f, rawMail(f));
  const row = await reply(f, messageId);
  sink.rejectNext(1, 451, { message: 'Greylisted, come back later' });
  await enqueueSend(queue, row.id);
  // Between the attempts (the first retry waits 2 s) the row is queued again and says why.
  let between: Outbox | null = null;
  for (let i = 0; i < 100 && !between; i++) {
    const r = await db.em.fork().findOneOrFail(Outbox, { id: row.id });
    if (r.attempts === 1 && r.status === 'queued') between = r;
    else await new Promise((res) => setTimeout(res, 20));
  }
  t.match(between?.error, /Retrying: .*451.*Greylisted/, 'the retry reason is visible meanwhile');
  const done = await waitForStatus(row.id, ['sent', 'failed']);
  t.equal(done.status, 'sent', done.error ?? '');
  t.equal(done.attempts, 2);
  t.equal(sink.messages.filter(withId(row.messageIdHeader)).length, 1, 'the sink accepted it exactly once');
  t.ok(sink.rejections.some((r) => r.code === 451 && r.from === f.account.email), 'the first attempt was refused');
});

t.test('a 550 fails at once with the server\'s words and nothing in Sent', async (t) => {
  const f = await setup();
  const messageId = await receive(f, rawMail(f));
  const row = await reply(f, messageId);
  sink.rejectNext(1, 550, { stage: 'rcpt', message: 'No such user here' });
  await enqueueSend(queue, row.id);
  const done = await waitForStatus(row.id, ['sent', 'failed']);
  t.equal(done.status, 'failed');
  t.match(done.error, /550.*No such user here/);
  t.equal(done.attempts, 1, 'not retried');
  t.equal(sink.messages.filter(withId(row.messageIdHeader)).length, 0);
  t.same(await sentUids(f.mail.user, row.messageIdHeader), []);
});

t.test('an interrupted attempt whose message is already in Sent is not sent again', async (t) => {
  const f = await setup();
  const messageId = await receive(f, rawMail(f));
  const row = await reply(f, messageId);
  // As a crash after DATA leaves it: the row still 'sending', the provider's copy already in Sent.
  await db.em.fork().nativeUpdate(Outbox, { id: row.id }, { status: 'sending', attempts: 1 });
  await dovecot.deliver(f.mail.user, Buffer.from(`Message-ID: <${row.messageIdHeader}>\r\nFrom: ${f.account.email}\r\nTo: client@client.example\r\nSubject: ${row.subject}\r\n\r\nThanks, received.\r\n`), { folder: 'Sent', flags: ['\\Seen'] });
  await enqueueSend(queue, row.id);
  const done = await waitForStatus(row.id, ['sent', 'failed']);
  t.equal(done.status, 'sent');
  t.equal(done.sentCopy, 'already_there');
  await sendJobsDone(row.id, 1);
  t.equal(sink.messages.filter(withId(row.messageIdHeader)).length, 0, 'the SMTP peer never saw it again');
  t.equal((await sentUids(f.mail.user, row.messageIdHeader)).length, 1, 'no second copy in Sent');
});

t.test('an interrupted attempt with nothing in Sent is sent, once', async (t) => {
  const f = await setup();
  const messageId = await receive(f, rawMail(f));
  const row = await reply(f, messageId);
  await db.em.fork().nativeUpdate(Outbox, { id: row.id }, { status: 'sending', attempts: 1 });
  await enqueueSend(queue, row.id);
  const done = await waitForStatus(row.id, ['sent', 'failed']);
  t.equal(done.status, 'sent');
  t.equal(sink.messages.filter(withId(row.messageIdHeader)).length, 1);
});

t.test('the same row enqueued several times at once is sent once', async (t) => {
  const f = await setup();
  const messageId = await receive(f, rawMail(f));
  const row = await reply(f, messageId);
  await Promise.all([enqueueSend(queue, row.id), enqueueSend(queue, row.id), enqueueSend(queue, row.id)]);
  const done = await waitForStatus(row.id, ['sent', 'failed']);
  t.equal(done.status, 'sent');
  await sendJobsDone(row.id, 3);
  t.equal(sink.messages.filter(withId(row.messageIdHeader)).length, 1);
  t.equal((await sentUids(f.mail.user, row.messageIdHeader)).length, 1);
});

t.test('sentCopy "never" sends without an APPEND; known providers save their own copy', async (t) => {
  const f = await setup({ sentCopy: 'never' });
  const messageId = await receive(f, rawMail(f));
  const row = await reply(f, messageId);
  await enqueueSend(queue, row.id);
  const done = await waitForStatus(row.id, ['sent', 'failed']);
  t.equal(done.status, 'sent');
  t.equal(done.sentCopy, 'skipped');
  t.same(await sentUids(f.mail.user, row.messageIdHeader), []);
  t.ok(providerSavesSentMail('smtp.gmail.com'));
  t.ok(providerSavesSentMail('SMTP.Office365.com.'));
  t.notOk(providerSavesSentMail('mail.firm.example'));
  t.notOk(shouldAppendSentCopy({ sentCopy: 'auto', smtpHost: 'smtp.gmail.com' }));
  t.ok(shouldAppendSentCopy({ sentCopy: 'auto', smtpHost: 'mail.firm.example' }));
  t.ok(shouldAppendSentCopy({ sentCopy: 'always', smtpHost: 'smtp.gmail.com' }));
});

t.test('replying to the header-injection corpus: one Subject, no Bcc or injected header, no injected recipient', async (t) => {
  for (const file of ['header-injection-subject.eml', 'header-injection-from.eml']) {
    const f = await setup({ email: 'owner@yourcompany.example' });
    const raw = readFileSync(new URL(file, HOSTILE));
    const messageId = await receive(f, raw);
    for (const replyAll of [false, true]) {
      const row = await reply(f, messageId, { text: 'Noted.', replyAll });
      await enqueueSend(queue, row.id);
      const done = await waitForStatus(row.id, ['sent', 'failed']);
      t.equal(done.status, 'sent', `${file} replyAll=${replyAll}: ${done.error ?? ''}`);
      const got = await sink.waitFor(withId(row.messageIdHeader));
      const names = headerFields(got.raw).map(([n]) => n);
      t.equal(names.filter((n) => n === 'subject').length, 1, `${file}: one Subject`);
      t.notOk(names.includes('bcc'), `${file}: no Bcc header`);
      t.notOk(names.includes('x-injected'), `${file}: no X-Injected header`);
      t.notOk(names.includes('disposition-notification-to'), `${file}: no read receipt asked`);
      t.notOk(got.to.some((a) => a.endsWith('example.net')), `${file}: no injected recipient (${got.to.join(', ')})`);
      t.ok(got.to.every((a) => a.endsWith('@client.example')), `${file}: only the client's addresses`);
      t.notOk(got.to.includes('owner@yourcompany.example'), `${file}: never to ourselves`);
      if (file === 'header-injection-from.eml') t.same(got.to, ['accounts@client.example'], 'Reply-To wins; the quoted Cc local part is not used');
    }
  }
});

t.test('a reply quoting smtp-smuggling.eml arrives as one message, with no smuggled second one', async (t) => {
  const f = await setup();
  const hostile = readFileSync(new URL('smtp-smuggling.eml', HOSTILE));
  const messageId = await receive(f, hostile);
  const quoted = hostile.toString('utf8').split('\r\n\r\n').slice(1).join('\r\n\r\n');
  const before = sink.messages.length;
  const row = await reply(f, messageId, { text: `Received.\n\n${quoted}` });
  await enqueueSend(queue, row.id);
  const done = await waitForStatus(row.id, ['sent', 'failed']);
  t.equal(done.status, 'sent', done.error ?? '');
  await sendJobsDone(row.id, 1);
  const arrived = sink.messages.slice(before);
  t.equal(arrived.length, 1, 'one message');
  t.same(arrived[0]!.to, ['sender@attacker.example']);
  t.notOk(sink.messages.some((m) => m.to.includes('victim@example.net')), 'no smuggled recipient');
  t.ok(arrived[0]!.raw.toString('latin1').includes('wire the money'), 'the quote went as text');
});

t.test('a queued row whose job was lost is picked up again by resume-outbox, and sent once', async (t) => {
  const f = await setup();
  const messageId = await receive(f, rawMail(f));
  const row = await reply(f, messageId);
  // Committed, but the enqueue never happened (queue down after the commit): only the sweep can find it.
  await db.em.fork().getConnection().execute("update outbox set updated_at = now() - interval '10 minutes' where id = ?", [row.id]);
  const fresh = await reply(f, messageId);
  const resumed = await resumeOutbox(deps, 5 * 60_000, { accountId: f.account.id });
  t.equal(resumed, 1, 'only the stale row');
  const done = await waitForStatus(row.id, ['sent', 'failed']);
  t.equal(done.status, 'sent');
  t.equal(sink.messages.filter(withId(row.messageIdHeader)).length, 1);
  const untouched = await db.em.fork().findOneOrFail(Outbox, { id: fresh.id });
  t.equal(untouched.status, 'queued', 'a row queued just now is left to its own job');
});
