// The unfiled queue (listMessages with filed=false) on real PostgreSQL. It reads only locations flagged
// unfiled, so the flag must follow every way mail gets filed or unfiled: by hand, automatically for a
// contact's address (retroactively too), unfiling, and a new location of mail already filed.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { openDb } from '../../../src/core/platform/db.ts';
import { createLocalBlobStore } from '../../../src/core/blobs/blob-store.ts';
import { fileMessageToClient, unfileMessageFromClient } from '../../../src/core/log/communications.ts';
import { listMessages } from '../../../src/core/mail/message-queries.ts';
import { testConfig, uniqEmail } from '../../support/env.ts';
import { createTestAccount, createTestClient, createTestCommunication, createTestContact, createTestLocation, createTestMessage, createTestUser } from '../../support/factories.ts';

const config = testConfig();
const db = await openDb(config, { migrate: false, poolMax: 3 });
const blobs = createLocalBlobStore(config.blobDir);
const deps = { blobs, maxAttachmentBytes: config.maxAttachmentBytes };
t.teardown(() => db.close());

t.test('the queue and the location flags follow filing, unfiling and new locations', async (t) => {
  const { user } = await createTestUser(db);
  const box = await createTestAccount(db, user, { visibility: 'private' });
  const client = await createTestClient(db);
  const contactAddress = uniqEmail('client');
  const word = `w${randomUUID().replace(/-/g, '').slice(0, 10)}`;
  const base = Date.now() - 3_600_000;
  const make = (i: number, mailbox = box.inbox, from?: string) => createTestMessage(db, blobs, {
    subject: `m${i} ${word}`, sentAt: new Date(base + i * 1000), locations: [{ mailbox }], ...(from ? { from: { address: from } } : {}),
  });
  const stays = await make(1);
  const byHand = await make(2);
  const unfiledLater = await make(3, box.sent);
  const byAddress = await make(4, box.inbox, contactAddress);
  const movedIn = await make(5, box.sent);
  const queue = async (q?: string) =>
    (await listMessages(db.em.fork(), user, { filed: false, accountId: box.account.id, ...(q ? { q } : {}) }, { limit: 50 })).items.map((i) => i.id);
  // Every location's flag says whether its message has a record (what the queue's index relies on).
  const flagsAgree = async () => (await db.em.fork().execute<{ wrong: number }[]>(
    `select count(*)::int as wrong from message_location l join mailbox b on b.id = l.mailbox_id
     where b.account_id = ? and l.filed <> exists (select 1 from communication c where c.message_id = l.message_id)`,
    [box.account.id],
  ))[0]!.wrong;
  t.same(await queue(), [movedIn.id, byAddress.id, unfiledLater.id, byHand.id, stays.id], 'all unfiled at first, newest first');

  await db.em.fork().transactional((em) => fileMessageToClient(em, user, byHand.id, client.id));
  await createTestCommunication(db, unfiledLater, client);
  await createTestCommunication(db, movedIn, client);
  // A contact with this address files its mail retroactively (one set-based insert).
  const { filed } = await createTestContact(db, deps, { emails: [contactAddress], clientIds: [client.id], actor: user });
  t.equal(filed, 1, 'the contact\'s mail was filed retroactively');
  t.same(await queue(), [stays.id], 'filed by hand, automatically and retroactively: out of the queue');

  await db.em.fork().transactional((em) => unfileMessageFromClient(em, user, unfiledLater.id, client.id));
  t.same(await queue(), [unfiledLater.id, stays.id], 'unfiled: back in the queue');
  // The filed message shows up in the inbox too (a move, or a copy): its new location starts out filed.
  await createTestLocation(db, movedIn, box.inbox);
  t.same(await queue(), [unfiledLater.id, stays.id], 'a new location of filed mail stays out of the queue');
  t.same(await queue(word), [unfiledLater.id, stays.id], 'searching the queue reads the same locations');
  t.equal(await flagsAgree(), 0, 'every location flag agrees with the records');

  // A flag may lag behind a filing racing a new location; the queue still checks the records.
  await db.em.fork().execute('update message_location set filed = false where message_id = ?', [byHand.id]);
  t.same(await queue(), [unfiledLater.id, stays.id], 'a lagging flag does not bring filed mail back');
  // The whole list reads filed mail through filing and only unfiled locations through the mailboxes.
  const list = await listMessages(db.em.fork(), user, { q: word }, { limit: 50 });
  t.same(list.items.map((i) => i.id), [movedIn.id, byAddress.id, unfiledLater.id, byHand.id, stays.id], 'the whole list has each message once');
});
