// Filing on real PostgreSQL: pipeline filing, retroactive filing with its preview, sync off/on, shared
// contacts, one record per client for a message stored in two mailboxes, and the firm's own addresses.
import t from 'tap';
import { openDb } from '../../../src/core/platform/db.ts';
import { createLocalBlobStore } from '../../../src/core/blobs/blob-store.ts';
import { fileAddress, fileMessage, previewFiling } from '../../../src/core/log/filing.ts';
import { updateContactEmail, linkContact, createContact } from '../../../src/core/crm/contacts.ts';
import { fileMessageToClient, unfileMessageFromClient } from '../../../src/core/log/communications.ts';
import { ContactEmail } from '../../../src/core/crm/client.entity.ts';
import { Message } from '../../../src/core/mail/message.entity.ts';
import { DomainError } from '../../../src/core/platform/errors.ts';
import { testConfig, uniqEmail } from '../../support/env.ts';
import { createFiledTestMessage, createTestAccount, createTestClient, createTestContact, createTestLocation, createTestMessageFromSource, createTestUser, listMessageRecords } from '../../support/factories.ts';

const config = testConfig();
const db = await openDb(config, { migrate: false, poolMax: 4 });
const blobs = createLocalBlobStore(config.blobDir);
const deps = { blobs, maxAttachmentBytes: config.maxAttachmentBytes };
t.teardown(() => db.close());
const { user } = await createTestUser(db);

t.test('a message from or to a contact address is filed to its client, initiated by whoever sent it; other mail is not', async (t) => {
  const client = await createTestClient(db);
  const addr = uniqEmail('client');
  await createTestContact(db, deps, { emails: [addr], clientIds: [client.id] });
  const fromClient = await createFiledTestMessage(db, blobs, { from: addr, subject: 'Invoice question' }, deps);
  const toClient = await createFiledTestMessage(db, blobs, { from: uniqEmail('staff'), to: [addr] }, deps);
  const unrelated = await createFiledTestMessage(db, blobs, { from: uniqEmail('stranger') }, deps);
  t.same(fromClient.filing?.filedNow, [client.id]);
  t.same((await listMessageRecords(db, fromClient.message.id)).map((r) => [r.client_id, r.initiated_by, r.filed_by, r.subject]), [[client.id, 'client', 'auto', 'Invoice question']]);
  t.same((await listMessageRecords(db, toClient.message.id)).map((r) => r.initiated_by), ['firm']);
  t.same(await listMessageRecords(db, unrelated.message.id), [], 'unrelated mail stays unfiled');
  const again = await db.em.fork().transactional((em) => fileMessage(em, fromClient.message, deps));
  t.same(again.filedNow, [], 'filing again creates nothing');
  t.same(again.clientIds, [client.id]);
  t.equal((await listMessageRecords(db, fromClient.message.id)).length, 1);
});

t.test('Cc and Reply-To match too; the address is normalised', async (t) => {
  const client = await createTestClient(db);
  const addr = uniqEmail('cc');
  await createTestContact(db, deps, { emails: [addr.toUpperCase()], clientIds: [client.id] });
  const cc = await createFiledTestMessage(db, blobs, { cc: [addr] }, deps);
  const replyTo = await createFiledTestMessage(db, blobs, { replyTo: [addr] }, deps);
  t.equal((await listMessageRecords(db, cc.message.id)).length, 1);
  t.equal((await listMessageRecords(db, replyTo.message.id)).length, 1);
});

t.test('adding an address later files the old mail, and the preview count equals what gets filed', async (t) => {
  const client = await createTestClient(db);
  const addr = uniqEmail('later');
  const old = [
    await createFiledTestMessage(db, blobs, { from: addr, sentAt: new Date('2024-01-02T10:00:00Z') }, deps),
    await createFiledTestMessage(db, blobs, { to: [addr] }, deps),
    await createFiledTestMessage(db, blobs, { cc: [addr] }, deps),
  ];
  await createFiledTestMessage(db, blobs, { from: uniqEmail('other') }, deps);
  for (const m of old) t.same(await listMessageRecords(db, m.message.id), [], 'unfiled before the address is known');
  const preview = await previewFiling(db.em.fork(), user, addr, { clientId: client.id });
  t.equal(preview.messages, 3);
  t.same(preview.clients.map((c) => c.id), [client.id]);
  const { filed } = await createTestContact(db, deps, { emails: [addr], clientIds: [client.id] });
  t.equal(filed, preview.messages, 'filed equals the preview');
  for (const m of old) t.same((await listMessageRecords(db, m.message.id)).map((r) => r.client_id), [client.id]);
  t.equal((await previewFiling(db.em.fork(), user, addr)).messages, 0, 'nothing left to file');
  const rerun = await db.em.fork().transactional((em) => fileAddress(em, addr, deps));
  t.equal(rerun.messages, 0, 'retroactive filing is idempotent');
});

t.test('disabling sync stops new filing and keeps history; re-enabling files what was missed', async (t) => {
  const client = await createTestClient(db);
  const addr = uniqEmail('sync');
  await createTestContact(db, deps, { emails: [addr], clientIds: [client.id] });
  const before = await createFiledTestMessage(db, blobs, { from: addr }, deps);
  const email = await db.em.fork().findOneOrFail(ContactEmail, { address: addr } as never);
  const off = await db.em.fork().transactional((em) => updateContactEmail(em, null, email.id, { sync: false }, deps));
  t.equal(off.filed, 0);
  const during = await createFiledTestMessage(db, blobs, { from: addr }, deps);
  t.equal((await listMessageRecords(db, before.message.id)).length, 1, 'history stays');
  t.same(await listMessageRecords(db, during.message.id), [], 'new mail is not filed while sync is off');
  const preview = await previewFiling(db.em.fork(), user, addr);
  t.equal(preview.messages, 1, 'preview shows what re-enabling would file');
  const on = await db.em.fork().transactional((em) => updateContactEmail(em, null, email.id, { sync: true }, deps));
  t.equal(on.filed, 1);
  t.equal((await listMessageRecords(db, during.message.id)).length, 1);
});

t.test('a contact in two clients files to both; unfiling from one leaves the other', async (t) => {
  const a = await createTestClient(db);
  const b = await createTestClient(db);
  const addr = uniqEmail('director');
  await createTestContact(db, deps, { emails: [addr], clientIds: [a.id, b.id] });
  const { message, filing } = await createFiledTestMessage(db, blobs, { from: addr }, deps);
  t.same(filing?.filedNow.sort(), [a.id, b.id].sort());
  await db.em.fork().transactional((em) => unfileMessageFromClient(em, user, message.id, a.id));
  t.same((await listMessageRecords(db, message.id)).map((r) => r.client_id), [b.id]);
});

t.test('unfiling sticks: re-enabling sync or re-linking the contact does not file the message again; filing by hand does', async (t) => {
  const client = await createTestClient(db);
  const addr = uniqEmail('sticky');
  const { contact } = await createTestContact(db, deps, { emails: [addr], clientIds: [client.id] });
  const { message } = await createFiledTestMessage(db, blobs, { from: addr, subject: 'Personal, not for the file' }, deps);
  // It sits in the shared info@ mailbox, so staff still see it once it is out of the client's log.
  const info = await createTestAccount(db, user, { visibility: 'public' });
  await createTestLocation(db, message, info.inbox);
  const kept = await createFiledTestMessage(db, blobs, { from: addr }, deps);
  await db.em.fork().transactional((em) => unfileMessageFromClient(em, user, message.id, client.id));
  t.same(await listMessageRecords(db, message.id), [], 'unfiled');

  const email = await db.em.fork().findOneOrFail(ContactEmail, { address: addr } as never);
  await db.em.fork().transactional((em) => updateContactEmail(em, null, email.id, { sync: false }, deps));
  t.equal((await previewFiling(db.em.fork(), user, addr)).messages, 0, 'the preview does not promise to refile it');
  const on = await db.em.fork().transactional((em) => updateContactEmail(em, null, email.id, { sync: true }, deps));
  t.equal(on.filed, 0, 're-enabling sync files nothing');
  await db.em.fork().transactional((em) => fileAddress(em, addr, deps));
  await db.em.fork().transactional((em) => linkContact(em, null, client.id, contact.id, {}, deps));
  t.same(await listMessageRecords(db, message.id), [], 'still unfiled after retroactive filing and re-linking');
  t.equal((await listMessageRecords(db, kept.message.id)).length, 1, 'the rest of the history is untouched');

  await db.em.fork().transactional((em) => fileMessageToClient(em, user, message.id, client.id));
  t.same((await listMessageRecords(db, message.id)).map((r) => r.filed_by), ['manual'], 'filing by hand brings it back');
  await db.em.fork().transactional((em) => unfileMessageFromClient(em, user, message.id, client.id));
  t.same(await listMessageRecords(db, message.id), [], 'and it can be unfiled again');
});

t.test('linking a contact to a second client files its existing mail there too', async (t) => {
  const a = await createTestClient(db);
  const b = await createTestClient(db);
  const addr = uniqEmail('linked');
  const { contact } = await createTestContact(db, deps, { emails: [addr], clientIds: [a.id] });
  const { message } = await createFiledTestMessage(db, blobs, { to: [addr] }, deps);
  t.equal((await previewFiling(db.em.fork(), user, addr, { clientId: b.id })).messages, 1);
  const linked = await db.em.fork().transactional((em) => linkContact(em, null, b.id, contact.id, {}, deps));
  t.equal(linked.filed, 1);
  t.same((await listMessageRecords(db, message.id)).map((r) => r.client_id).sort(), [a.id, b.id].sort());
});

t.test('the same message in a private mailbox and info@ gives one log record per client', async (t) => {
  const client = await createTestClient(db);
  const addr = uniqEmail('both');
  // Added by the private mailbox's owner: their consent (issue 12), so the private copy files at once.
  await createTestContact(db, deps, { emails: [addr], clientIds: [client.id], actor: user });
  const priv = await createTestAccount(db, user, { visibility: 'private' });
  const info = await createTestAccount(db, user, { visibility: 'public' });
  const { message } = await createFiledTestMessage(db, blobs, { from: addr, to: [priv.account.email, info.account.email], locations: [{ mailbox: priv.inbox }] }, deps);
  // The copy in info@ arrives later: a second location of the same content row, filed again.
  await createTestLocation(db, message, info.inbox);
  await db.em.fork().transactional(async (em) => {
    const m = await em.findOneOrFail(Message, { id: message.id } as never);
    const again = await fileMessage(em, m, deps);
    t.same(again.filedNow, []);
  });
  t.equal((await listMessageRecords(db, message.id)).length, 1);
  const rows = await db.em.fork().execute<{ n: number }[]>('select count(*)::int as n from message_location where message_id = ?', [message.id]);
  t.equal(rows[0]?.n, 2, 'two locations');
});

t.test("the firm's own mailbox addresses are never client addresses", async (t) => {
  const box = await createTestAccount(db, user, { visibility: 'public' });
  const client = await createTestClient(db);
  await t.rejects(createTestContact(db, deps, { emails: [box.account.email], clientIds: [client.id] }), { code: 'own_mailbox_address' });
  // A contact address that later becomes a firm mailbox stops filing.
  const addr = uniqEmail('becomes-own');
  await createTestContact(db, deps, { emails: [addr], clientIds: [client.id] });
  await createTestAccount(db, user, { email: addr });
  const { message } = await createFiledTestMessage(db, blobs, { from: addr }, deps);
  t.same(await listMessageRecords(db, message.id), []);
  const preview = await previewFiling(db.em.fork(), user, addr);
  t.equal(preview.ownAddress, true);
  t.equal(preview.messages, 0);
});

t.test('bad addresses and duplicates are refused naming the field', async (t) => {
  const em = db.em.fork();
  const err = await createContact(em, null, { name: 'X', emails: [{ address: uniqEmail() }, { address: 'not an address' }] }, deps).catch((e) => e);
  t.ok(err instanceof DomainError);
  t.equal(err.field, 'emails.1.address');
  const addr = uniqEmail('dup');
  await createTestContact(db, deps, { emails: [addr] });
  await t.rejects(createTestContact(db, deps, { emails: [addr] }), { code: 'address_taken', field: 'emails.0.address' });
});

t.test('through the pipeline: one source delivered to a private mailbox and to info@ is one message, one record', async (t) => {
  const client = await createTestClient(db);
  const addr = uniqEmail('pipeline');
  await createTestContact(db, deps, { emails: [addr], clientIds: [client.id] });
  const priv = await createTestAccount(db, user, { visibility: 'private' });
  const info = await createTestAccount(db, user, { visibility: 'public' });
  const raw = Buffer.from(
    `From: Client <${addr}>\r\nTo: ${priv.account.email}, ${info.account.email}\r\nSubject: Both boxes\r\n` +
    `Message-ID: <${uniqEmail('mid')}>\r\nDate: Tue, 07 Jan 2025 09:00:00 +0100\r\n\r\nHello both\r\n`,
  );
  const first = await createTestMessageFromSource(db, blobs, priv.inbox, raw, deps);
  const second = await createTestMessageFromSource(db, blobs, info.inbox, raw, deps);
  t.equal(second.id, first.id, 'one content row');
  t.same((await listMessageRecords(db, first.id)).map((r) => [r.client_id, r.initiated_by, r.subject]), [[client.id, 'client', 'Both boxes']]);
});
