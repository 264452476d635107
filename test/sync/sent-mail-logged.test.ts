// Mail sent from Dossier is a message, in its thread and in the client log, as soon as the SMTP server takes
// it: with an account that has no Sent folder it never comes back through sync, and with one its Sent copy
// (our APPEND, or a provider's own copy with other bytes) joins the same message — one record, not two.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { openDb } from '../../src/core/platform/db.ts';
import { createLocalQueue } from '../../src/core/platform/jobs.ts';
import { createLocalBlobStore } from '../../src/core/blobs/blob-store.ts';
import { createMailAccount, requestAccountSync } from '../../src/core/mail/accounts.ts';
import { isMessageVisible } from '../../src/core/mail/visibility.ts';
import { createClient } from '../../src/core/crm/clients.ts';
import { createContact } from '../../src/core/crm/contacts.ts';
import { Communication } from '../../src/core/log/communication.entity.ts';
import { Mailbox } from '../../src/core/mail/mail-account.entity.ts';
import { Message, MessageLocation } from '../../src/core/mail/message.entity.ts';
import { Outbox } from '../../src/core/outbox/outbox.entity.ts';
import { User } from '../../src/core/staff/user.entity.ts';
import { enqueueSend, queueMessage, queueReply } from '../../src/core/outbox/outbox.ts';
import { startWorker } from '../../src/sync/worker.ts';
import { getDovecot, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { testConfig, uniq, uniqEmail } from '../support/env.ts';
import { startSmtpSink } from '../support/smtp-sink.ts';
import { createTestUser } from '../support/factories.ts';
import type { SentCopyMode } from '../../src/core/mail/mail-account.entity.ts';

const config = testConfig();
const db = await openDb(config, { migrate: false, poolMax: 5 });
const blobs = createLocalBlobStore(config.blobDir);
const queue = createLocalQueue();
const silent = { info: () => {}, warn: () => {}, error: () => {} };
const worker = await startWorker({ config, db, queue, blobs, log: silent, workerId: `test-${randomUUID()}` });
const dovecot = await getDovecot();
const noSent = await startDovecot({ withoutSent: true });
const sink = await startSmtpSink();
t.teardown(async () => {
  await queue.close();
  await worker.stop();
  await sink.close();
  await noSent.stop();
  await db.close();
});
const filing = { blobs, maxAttachmentBytes: config.maxAttachmentBytes };

async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined>, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found) return found;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A staff member with a mailbox on `server`, a client with one contact, and a synced mail from that contact. */
async function setup(server: Dovecot, sentCopy: SentCopyMode = 'auto') {
  const { user } = await createTestUser(db, 'staff', 'Ana Firm');
  const mail = await server.addUser({ prefix: 'sent' });
  const clientAddress = uniqEmail('client');
  const em = db.em.fork();
  const account = await createMailAccount(em, user, {
    name: 'Ana', email: mail.email, visibility: 'private',
    imap: { host: mail.host, port: mail.port, secure: false, username: mail.user, password: mail.password, allowInsecure: true },
    smtp: { host: sink.host, port: sink.port, secure: false, username: sink.user, password: sink.password, allowInsecure: true },
  }, config.secretKey);
  account.sentCopy = sentCopy;
  const client = createClient(em, { id: user.id }, { name: uniq('Client') });
  await em.flush();
  await createContact(em, { id: user.id }, { name: 'Client Person', emails: [{ address: clientAddress }], clientIds: [client.id] }, filing);
  await em.flush();
  const parentId = `${uniq('parent')}@client.example`;
  await server.deliver(mail.user, Buffer.from(
    `From: "Client Person" <${clientAddress}>\r\nTo: ${mail.email}\r\nSubject: Quarterly VAT\r\nDate: Tue, 03 Mar 2026 10:00:00 +0000\r\n` +
    `Message-ID: <${parentId}>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHere are the figures.\r\n`,
  ));
  await requestAccountSync(queue, account.id, 'manual');
  const parent = await waitFor('the parent to be synced', () => db.em.fork().findOne(Message, { messageIdHeader: parentId }));
  return { user, mail, account, client, clientAddress, parent };
}

async function reply(userId: string, parentId: string): Promise<Outbox> {
  const em = db.em.fork();
  const row = await queueReply(em, await em.findOneOrFail(User, { id: userId }), parentId, { text: 'Thanks, we will file it.' });
  await em.flush();
  await enqueueSend(queue, row.id);
  return row;
}

/** The row once sent and its Sent-copy step done; fails the test on a failed send. */
const sentRow = (id: string) => waitFor('the outbox row to be sent', async () => {
  const r = await db.em.fork().findOneOrFail(Outbox, { id });
  if (r.status === 'failed') throw new Error(`send failed: ${r.error}`);
  return r.status === 'sent' && r.sentCopy ? r : null;
});

t.test('no Sent folder: a reply and a mail for a client are in the thread and the client log within seconds', async (t) => {
  const f = await setup(noSent);
  t.notOk(await db.em.fork().findOne(Mailbox, { account: f.account.id, role: 'sent' }), 'the account has no Sent folder');
  const row = await reply(f.user.id, f.parent.id);
  const started = Date.now();
  const message = await waitFor('the reply stored as a message', () => db.em.fork().findOne(Message, { messageIdHeader: row.messageIdHeader }), 10_000);
  const record = await waitFor('the reply in the client log', () => db.em.fork().findOne(Communication, { client: f.client.id, message: message.id }), 10_000);
  t.ok(Date.now() - started < 10_000, 'within seconds of sending');
  t.equal(record.kind, 'email');
  t.equal(record.initiatedBy, 'firm');
  t.equal(message.threadId, f.parent.threadId, 'in the parent\'s thread');
  t.equal(message.direction, 'outbound');
  t.equal(message.subject, 'Re: Quarterly VAT');
  const done = await sentRow(row.id);
  t.equal(done.sentCopy, 'failed', 'there was no Sent folder to copy it to');
  t.equal(done.sentMessage?.id, message.id, 'the outbox row links the message');
  t.equal(await db.em.fork().count(MessageLocation, { message: message.id }), 0, 'it lies in no folder');
  t.ok(await isMessageVisible(db.em.fork(), { id: f.user.id }, message.id), 'the sender sees it');
  const { user: other } = await createTestUser(db, 'staff', 'Bo Firm');
  t.ok(await isMessageVisible(db.em.fork(), { id: other.id }, message.id), 'filed to a client: the firm sees it');

  // A new mail for the client to someone who is no contact (an advisor): logged by the row's client.
  const em = db.em.fork();
  const outsider = uniqEmail('advisor');
  const compose = await queueMessage(em, await em.findOneOrFail(User, { id: f.user.id }), {
    accountId: f.account.id, to: [{ address: outsider }], subject: 'Your 2025 return', text: 'Filed today.', clientId: f.client.id,
  });
  await em.flush();
  await enqueueSend(queue, compose.id);
  const composed = await waitFor('the new mail stored', () => db.em.fork().findOne(Message, { messageIdHeader: compose.messageIdHeader }), 10_000);
  const logged = await waitFor('the new mail in the client log', () => db.em.fork().findOne(Communication, { client: f.client.id, message: composed.id }), 10_000);
  t.equal(logged.subject, 'Your 2025 return');
  await sentRow(compose.id);
});

t.test('with a Sent folder the APPENDed copy joins the stored message: one message, one record', async (t) => {
  const f = await setup(dovecot);
  const row = await reply(f.user.id, f.parent.id);
  const message = await waitFor('the reply stored as a message', () => db.em.fork().findOne(Message, { messageIdHeader: row.messageIdHeader }), 10_000);
  t.equal((await sentRow(row.id)).sentCopy, 'appended');
  const loc = await waitFor('the Sent copy synced in', () => db.em.fork().findOne(MessageLocation, { message: message.id }, { populate: ['mailbox'] }));
  t.equal(loc.mailbox.role, 'sent');
  t.equal(await db.em.fork().count(Message, { messageIdHeader: row.messageIdHeader }), 1, 'one message');
  t.equal(await db.em.fork().count(Communication, { client: f.client.id, message: { messageIdHeader: row.messageIdHeader } }), 1, 'one log record');
});

t.test('a provider\'s own Sent copy with other bytes joins by Message-ID', async (t) => {
  // Gmail and Microsoft 365 file the copy themselves ('never' APPEND here); theirs may differ in content fields.
  const f = await setup(dovecot, 'never');
  const row = await reply(f.user.id, f.parent.id);
  const message = await waitFor('the reply stored as a message', () => db.em.fork().findOne(Message, { messageIdHeader: row.messageIdHeader }), 10_000);
  t.equal((await sentRow(row.id)).sentCopy, 'skipped');
  const sent = await sink.waitFor((m) => m.raw.toString('latin1').includes(`<${row.messageIdHeader}>`));
  // The provider's copy: the same Message-ID, a rewritten Date and an extra line in the body.
  const copy = Buffer.from(sent.raw.toString('latin1').replace(/^Date: .*$/mu, 'Date: Wed, 04 Mar 2026 09:00:00 +0000').replace(/\r\n$/u, '\r\n-- \r\nSent from the provider\r\n'), 'latin1');
  await dovecot.deliver(f.mail.user, copy, { folder: 'Sent', flags: ['\\Seen'] });
  await requestAccountSync(queue, f.account.id, 'manual');
  const loc = await waitFor('the provider copy synced in', () => db.em.fork().findOne(MessageLocation, { message: message.id }, { populate: ['mailbox'] }));
  t.equal(loc.mailbox.role, 'sent');
  t.equal(await db.em.fork().count(Message, { messageIdHeader: row.messageIdHeader }), 1, 'one message');
  t.equal(await db.em.fork().count(Communication, { client: f.client.id, message: { messageIdHeader: row.messageIdHeader } }), 1, 'one log record');
});
