// The reply spine through a real worker: client mail delivered to Dovecot is synced in and filed; a reply
// queued to it is sent to the SMTP peer, APPENDed to Sent, synced back in, and shows in the parent's
// thread (outbound) and in the client's communication log.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { openDb } from '../../src/core/platform/db.ts';
import { createLocalQueue } from '../../src/core/platform/jobs.ts';
import { createLocalBlobStore } from '../../src/core/blobs/blob-store.ts';
import { createMailAccount, requestAccountSync } from '../../src/core/mail/accounts.ts';
import { createClient } from '../../src/core/crm/clients.ts';
import { createContact } from '../../src/core/crm/contacts.ts';
import { Communication } from '../../src/core/log/communication.entity.ts';
import { Message, MessageLocation } from '../../src/core/mail/message.entity.ts';
import { Outbox } from '../../src/core/outbox/outbox.entity.ts';
import { User } from '../../src/core/staff/user.entity.ts';
import { enqueueSend, queueMessage, queueReply } from '../../src/core/outbox/outbox.ts';
import { startWorker } from '../../src/sync/worker.ts';
import { getDovecot } from '../support/dovecot.ts';
import { testConfig, uniq, uniqEmail } from '../support/env.ts';
import { startSmtpSink } from '../support/smtp-sink.ts';
import { headerValues } from '../support/sending.ts';
import { createTestUser } from '../support/factories.ts';

const config = testConfig();
const db = await openDb(config, { migrate: false, poolMax: 5 });
const blobs = createLocalBlobStore(config.blobDir);
const queue = createLocalQueue();
const silent = { info: () => {}, warn: () => {}, error: () => {} };
const worker = await startWorker({ config, db, queue, blobs, log: silent, workerId: `test-${randomUUID()}` });
const dovecot = await getDovecot();
const sink = await startSmtpSink();
t.teardown(async () => {
  await queue.close();
  await worker.stop();
  await sink.close();
  await db.close();
});

async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined>, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found) return found;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

t.test('a reply is sent, saved in Sent, synced back into the thread and filed in the client log', async (t) => {
  const { user } = await createTestUser(db, 'staff', 'Ana Firm');
  const mail = await dovecot.addUser({ prefix: 'spine' });
  const clientAddress = uniqEmail('client');
  const em = db.em.fork();
  const account = await createMailAccount(em, user, {
    name: 'Ana', email: mail.email, visibility: 'private',
    imap: { host: mail.host, port: mail.port, secure: false, username: mail.user, password: mail.password, allowInsecure: true },
    smtp: { host: sink.host, port: sink.port, secure: false, username: sink.user, password: sink.password, allowInsecure: true },
  }, config.secretKey);
  const client = createClient(em, { id: user.id }, { name: uniq('Client') });
  await em.flush();
  await createContact(em, { id: user.id }, { name: 'Client Person', emails: [{ address: clientAddress }], clientIds: [client.id] }, { blobs, maxAttachmentBytes: config.maxAttachmentBytes });
  await em.flush();

  const parentId = `${uniq('parent')}@client.example`;
  await dovecot.deliver(mail.user, Buffer.from(
    `From: "Client Person" <${clientAddress}>\r\nTo: ${mail.email}\r\nSubject: Quarterly VAT\r\nDate: Tue, 03 Mar 2026 10:00:00 +0000\r\n` +
    `Message-ID: <${parentId}>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHere are the figures.\r\n`,
  ));
  await requestAccountSync(queue, account.id, 'manual');
  const parent = await waitFor('the parent to be synced', () => db.em.fork().findOne(Message, { messageIdHeader: parentId }));

  const em2 = db.em.fork();
  const row = await queueReply(em2, await em2.findOneOrFail(User, { id: user.id }), parent.id, { text: 'Thanks, we will file it.' });
  await em2.flush();
  await enqueueSend(queue, row.id);

  const sent = await waitFor('the outbox row to be sent', async () => {
    const r = await db.em.fork().findOneOrFail(Outbox, { id: row.id });
    if (r.status === 'failed') throw new Error(`send failed: ${r.error}`);
    return r.status === 'sent' && r.sentCopy ? r : null;
  });
  t.equal(sent.sentCopy, 'appended');
  const got = await sink.waitFor((m) => m.raw.toString('latin1').includes(`<${row.messageIdHeader}>`));
  t.same(got.to, [clientAddress]);
  t.same(headerValues(got.raw, 'in-reply-to'), [`<${parentId}>`]);

  // Stored when the SMTP server took it (issue 15); the Sent copy then adds its location to that message.
  const copy = await waitFor('the reply to be stored', () => db.em.fork().findOne(Message, { messageIdHeader: row.messageIdHeader }));
  t.equal(copy.threadId, parent.threadId, 'in the parent\'s thread');
  t.equal(copy.direction, 'outbound');
  t.equal(copy.subject, 'Re: Quarterly VAT');
  const loc = await waitFor('the Sent copy to be synced in', () => db.em.fork().findOne(MessageLocation, { message: copy.id }, { populate: ['mailbox'] }));
  t.equal(loc.mailbox.role, 'sent');
  t.ok(loc.flags.includes('\\Seen'), 'stored as seen, as APPENDed');
  const record = await waitFor('the reply in the client log', () => db.em.fork().findOne(Communication, { client: client.id, message: copy.id }));
  t.equal(record.kind, 'email');
  t.ok(await db.em.fork().findOne(Communication, { client: client.id, message: parent.id }), 'the parent is filed too');
});

t.test('mail sent for a client is logged for it even when the recipient address does not sync', async (t) => {
  const { user } = await createTestUser(db, 'staff', 'Bo Firm');
  const mail = await dovecot.addUser({ prefix: 'forclient' });
  const em = db.em.fork();
  const account = await createMailAccount(em, user, {
    name: 'Bo', email: mail.email, visibility: 'private',
    imap: { host: mail.host, port: mail.port, secure: false, username: mail.user, password: mail.password, allowInsecure: true },
    smtp: { host: sink.host, port: sink.port, secure: false, username: sink.user, password: sink.password, allowInsecure: true },
  }, config.secretKey);
  const client = createClient(em, { id: user.id }, { name: uniq('Client') });
  await em.flush();
  // The client's accountant is not a contact (or has sync off): address filing would never log this mail.
  const outsider = uniqEmail('advisor');
  const row = await queueMessage(em, await em.findOneOrFail(User, { id: user.id }), {
    accountId: account.id, to: [{ address: outsider }], subject: 'Your 2025 return', text: 'Filed today.', clientId: client.id,
  });
  await em.flush();
  await enqueueSend(queue, row.id);
  const copy = await waitFor('the Sent copy to be synced in', () => db.em.fork().findOne(Message, { messageIdHeader: row.messageIdHeader }));
  const record = await waitFor('the mail in the client log', () => db.em.fork().findOne(Communication, { client: client.id, message: copy.id }));
  t.equal(record.initiatedBy, 'firm');
  t.equal(record.subject, 'Your 2025 return');
});
