// Threading decides which conversation a reply lands in: these rows cover real header shapes and the
// hostile corpus's message-id-hostile.eml / header-injection-subject.eml / references-10000 cases.
import t from 'tap';
import {
  MAX_MESSAGE_ID_LENGTH,
  capReferences,
  getThreadRootId,
  listThreadCandidates,
  normalizeMessageId,
  parseMessageIdField,
  parseMessageIdList,
  threadIdFromRootId,
} from '../../../src/core/mail/threading.ts';

t.test('normalizeMessageId', async (t) => {
  const cases: Array<[string | null, string | null]> = [
    ['<a@b.example>', 'a@b.example'],
    ['  < a@b.example >  ', 'a@b.example'],
    ['a@b.example', 'a@b.example'],
    ['<CAByYQsEaO0O4GgfWivReAX=r_OECkcwQgkgSbXJy7LeCm5vvNg@mail.gmail.com>', 'CAByYQsEaO0O4GgfWivReAX=r_OECkcwQgkgSbXJy7LeCm5vvNg@mail.gmail.com'],
    ['<Case@Sensitive>', 'Case@Sensitive'],
    ['<11107978796724623>', '11107978796724623'],
    ['<>', null],
    ['', null],
    [null, null],
    ['<\'); DROP TABLE messages;--"@hostile.example>', null],
    ['<a\u0000b@x>', null],
    ['<a\r\nb@x>', null],
    [`<${'x'.repeat(4000)}@hostile.example>`, null],
    [`<${'x'.repeat(MAX_MESSAGE_ID_LENGTH - 2)}@h>`, `${'x'.repeat(MAX_MESSAGE_ID_LENGTH - 2)}@h`],
  ];
  for (const [raw, want] of cases) t.equal(normalizeMessageId(raw), want, JSON.stringify(raw)?.slice(0, 80));
});

t.test('parseMessageIdField', async (t) => {
  t.equal(parseMessageIdField('<a@b>'), 'a@b');
  t.equal(parseMessageIdField('<a@b> (comment)'), 'a@b');
  t.equal(parseMessageIdField('12223'), '12223', 'bare token from an old mailer');
  t.equal(parseMessageIdField('  '), null);
  t.equal(parseMessageIdField('not an id at all'), null);
  t.equal(parseMessageIdField(undefined), null);
});

t.test('parseMessageIdList', async (t) => {
  t.same(parseMessageIdList('<a@x> <b@x>\r\n <c@x>'), ['a@x', 'b@x', 'c@x']);
  t.same(
    parseMessageIdList('<a@hostile.example> <a@hostile.example> <not closed@hostile.example <> no-brackets@hostile.example <c@hostile.example>'),
    ['a@hostile.example', 'c@hostile.example'],
    'message-id-hostile.eml: duplicates, unclosed, empty and bare ids',
  );
  t.same(parseMessageIdList('<orig@client.example> =?UTF-8?Q?=0D=0ABcc:_refs@example.net?='), ['orig@client.example'], 'an encoded-word is never decoded into an id');
  t.same(parseMessageIdList('<v03007800aeddccd448d0@[206.100.174.203]> (message from Michelle on Wed, 18 Dec 1996)'), ['v03007800aeddccd448d0@[206.100.174.203]']);
  t.same(parseMessageIdList('a@x, b@x'), ['a@x', 'b@x'], 'bare ids with @');
  t.same(parseMessageIdList('Your message of Tuesday'), [], 'prose is not an id');
  t.same(parseMessageIdList(''), []);
  t.same(parseMessageIdList(null), []);
});

t.test('capReferences keeps the root and the most recent', async (t) => {
  const ids = Array.from({ length: 10000 }, (_, i) => `r${i}@x`);
  const capped = capReferences(ids);
  t.equal(capped.length, 50);
  t.equal(capped[0], 'r0@x', 'root kept');
  t.equal(capped[1], 'r9951@x');
  t.equal(capped[49], 'r9999@x', 'parent kept');
  t.same(capReferences(['a', 'b']), ['a', 'b']);
  t.same(capReferences(['a', 'b', 'c'], 2), ['a', 'c']);
  t.same(capReferences(['a', 'b', 'c'], 1), ['a']);
});

t.test('listThreadCandidates: root, then closest ancestors, then itself; never the subject', async (t) => {
  const cases: Array<[string, Parameters<typeof listThreadCandidates>[0], string[]]> = [
    ['fresh message', { messageId: 'm@x', inReplyTo: null, references: [] }, ['m@x']],
    ['reply with References', { messageId: 'm3@x', inReplyTo: 'm2@x', references: ['m1@x', 'm2@x'] }, ['m1@x', 'm2@x', 'm3@x']],
    ['long chain', { messageId: 'm5', inReplyTo: 'm4', references: ['m1', 'm2', 'm3', 'm4'] }, ['m1', 'm4', 'm3', 'm2', 'm5']],
    ['In-Reply-To only (Outlook-style)', { messageId: 'm2@x', inReplyTo: 'm1@x', references: [] }, ['m1@x', 'm2@x']],
    ['In-Reply-To disagrees with References', { messageId: 'm', inReplyTo: 'other', references: ['r1', 'r2'] }, ['r1', 'other', 'r2', 'm']],
    ['no ids at all', { messageId: null, inReplyTo: null, references: [] }, []],
  ];
  for (const [why, h, want] of cases) t.same(listThreadCandidates(h), want, why);
});

t.test('getThreadRootId and threadIdFromRootId', async (t) => {
  t.equal(getThreadRootId({ messageId: 'm3', inReplyTo: 'm2', references: ['m1', 'm2'] }), 'm1');
  t.equal(getThreadRootId({ messageId: 'm2', inReplyTo: 'm1', references: [] }), 'm1');
  t.equal(getThreadRootId({ messageId: 'm1', inReplyTo: null, references: [] }), 'm1');
  t.equal(getThreadRootId({ messageId: null, inReplyTo: null, references: [] }), null);
  const a = threadIdFromRootId('m1@x');
  t.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a version-5 UUID');
  t.equal(threadIdFromRootId('m1@x'), a, 'deterministic: a root and its replies agree whatever order they arrive in');
  t.not(threadIdFromRootId('M1@x'), a, 'ids are case-sensitive');
});
