// Full-text search in listMessages on real PostgreSQL: the newest-first window and the GIN fallback
// must return exactly what a plain scan would, for common and rare words, across pages.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { openDb } from '../../../src/core/platform/db.ts';
import { createLocalBlobStore } from '../../../src/core/blobs/blob-store.ts';
import { listMessages, type MessageFilters } from '../../../src/core/mail/message-queries.ts';
import { testConfig } from '../../support/env.ts';
import { createTestAccount, createTestClient, createTestCommunication, createTestMessage, createTestUser } from '../../support/factories.ts';

const config = testConfig();
const db = await openDb(config, { migrate: false, poolMax: 3 });
const blobs = createLocalBlobStore(config.blobDir);
t.teardown(() => db.close());

/** A viewer with a private mailbox, a colleague with another, and a client to file to. */
async function twoColleaguesAndAClient() {
  const { user } = await createTestUser(db);
  const { user: other } = await createTestUser(db);
  return { user, mine: await createTestAccount(db, user, { visibility: 'private' }), theirs: await createTestAccount(db, other, { visibility: 'private' }), client: await createTestClient(db) };
}

const token = () => `tok${randomUUID().replace(/-/g, '').slice(0, 10)}`;

t.test('window and GIN fallback agree with a full scan, for common and rare words, page by page', async (t) => {
  const { user, mine, theirs, client } = await twoColleaguesAndAClient();
  const common = token();
  const rare = token();
  const scope = token(); // every message of this test carries it, so results never include others' rows
  const expectedCommon: string[] = [];
  const expectedRare: string[] = [];
  const expectedFiledCommon: string[] = [];
  const base = Date.now() - 86_400_000;
  for (let i = 0; i < 40; i++) {
    const words = [scope, i % 2 === 0 ? common : '', i % 13 === 0 ? rare : ''].join(' ');
    // Alternate: my mailbox; a colleague's mailbox but filed (visible); a colleague's unfiled (hidden).
    const where = i % 3;
    const m = await createTestMessage(db, blobs, {
      subject: `m${i} ${words}`, sentAt: new Date(base + i * 1000),
      locations: [{ mailbox: where === 0 ? mine.inbox : theirs.inbox }],
      // The rare word also appears only in one attachment's name.
      attachments: i === 7 ? [{ filename: `anexo_${rare}.pdf`, contentType: 'application/pdf', content: `%PDF ${i}` }] : [],
    });
    if (where === 1) await createTestCommunication(db, m, client);
    const visible = where !== 2;
    if (visible && i % 2 === 0) expectedCommon.unshift(m.id);
    if (visible && where === 1 && i % 2 === 0) expectedFiledCommon.unshift(m.id);
    if (visible && (i % 13 === 0 || i === 7)) expectedRare.unshift(m.id);
  }
  t.ok(expectedRare.length >= 3 && expectedCommon.length > 10, 'the data has rare and common words');
  const collect = async (filters: MessageFilters, window: number, limit: number) => {
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await listMessages(db.em.fork(), user, filters, { limit, cursor }, { searchWindow: window });
      ids.push(...page.items.map((i) => i.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return ids;
  };
  // Window 1 and 3 force the GIN fallback on nearly every page; 2000 answers from the window.
  for (const window of [1, 3, 7, 2000]) {
    t.same(await collect({ q: `${scope} ${common}` }, window, 4), expectedCommon, `common word, window ${window}`);
    t.same(await collect({ q: rare }, window, 2), expectedRare, `rare word in text and in an attachment name, window ${window}`);
    t.same(await collect({ q: `${scope} ${common}`, filed: true }, window, 3), expectedFiledCommon, `with a filter, window ${window}`);
  }
  t.same(await collect({ q: `${scope} nothingmatches${token()}` }, 1, 10), [], 'no match at all');
});

t.test('matches years apart: the time windows below the walk find them in order, page by page', async (t) => {
  const { user, mine, theirs, client } = await twoColleaguesAndAClient();
  const word = token();
  const scope = token();
  const expected: string[] = [];
  const now = Date.now();
  // Newest first, ever further apart (i³ hours: the last is three years old), so windows sized from
  // the newest mail keep growing; a third of the mail is a colleague's unfiled mail (never listed).
  for (let i = 0; i < 30; i++) {
    const where = i % 3;
    const inText = i % 4 === 1;
    const inName = i === 26;
    const m = await createTestMessage(db, blobs, {
      subject: `m${i} ${scope} ${inText ? word : ''}`, sentAt: new Date(now - i ** 3 * 3_600_000),
      locations: [{ mailbox: where === 0 ? mine.inbox : theirs.inbox }],
      attachments: inName ? [{ filename: `${word}.pdf`, contentType: 'application/pdf', content: `%PDF ${i}` }] : [],
    });
    if (where === 1) await createTestCommunication(db, m, client);
    if (where !== 2 && (inText || inName)) expected.push(m.id);
  }
  t.ok(expected.length >= 5, 'the data has matches to find');
  const collect = async (limit: number, window: number) => {
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await listMessages(db.em.fork(), user, { q: `${scope} ${word}` }, { limit, cursor }, { searchWindow: window });
      ids.push(...page.items.map((i) => i.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return ids;
  };
  for (const [limit, window] of [[1, 1], [2, 1], [3, 2], [50, 1], [2, 100]] as const) {
    t.same(await collect(limit, window), expected, `pages of ${limit}, first walk of ${window}`);
  }
});

t.test('a second walk continues where the first ended', async (t) => {
  const { user } = await createTestUser(db);
  const box = await createTestAccount(db, user, { visibility: 'private' });
  const word = token();
  const scope = token();
  const expected: string[] = [];
  const base = Date.now() - 3_600_000;
  // Every other message matches: a first walk of 6 finds 3, too few for a page of 5 but enough to walk on.
  for (let i = 0; i < 24; i++) {
    const m = await createTestMessage(db, blobs, {
      subject: `m${i} ${scope} ${i % 2 === 1 ? word : ''}`, sentAt: new Date(base + i * 1000), locations: [{ mailbox: box.inbox }],
    });
    if (i % 2 === 1) expected.unshift(m.id);
  }
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await listMessages(db.em.fork(), user, { q: `${scope} ${word}`, accountId: box.account.id }, { limit: 5, cursor }, { searchWindow: 6 });
    ids.push(...page.items.map((i) => i.id));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  t.same(ids, expected, 'every match once, in order');
});

t.test('filed mail and the viewer\'s unfiled mail interleave: each walked as far back as the other, merged in order', async (t) => {
  const { user, mine, theirs, client } = await twoColleaguesAndAClient();
  const word = token();
  const scope = token();
  const expected: string[] = [];
  // Dated ahead of every other test's mail, so the walks start among these messages; filed mail is
  // everyone's, so it goes when the test ends rather than top every later list in this database.
  const base = Date.now() + 1000 * 86_400_000 + Math.floor(Math.random() * 86_400_000);
  const created: string[] = [];
  t.teardown(() => db.em.fork().execute('delete from message where id in (?)', [created]));
  for (let i = 0; i < 36; i++) {
    const filed = i % 2 === 1;
    const m = await createTestMessage(db, blobs, {
      subject: `m${i} ${scope} ${i % 3 === 0 ? word : ''}`, sentAt: new Date(base + i * 1000),
      locations: [{ mailbox: filed ? theirs.inbox : mine.inbox }],
    });
    created.push(m.id);
    if (filed) await createTestCommunication(db, m, client);
    if (i % 3 === 0) expected.unshift(m.id);
  }
  for (const [limit, window] of [[2, 1], [3, 2], [2, 5], [4, 3]] as const) {
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await listMessages(db.em.fork(), user, { q: word }, { limit, cursor }, { searchWindow: window });
      ids.push(...page.items.map((i) => i.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    t.same(ids, expected, `pages of ${limit}, first walk of ${window}`);
  }
});
