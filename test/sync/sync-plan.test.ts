// The sync plan decides whether mail is fetched, re-listed or left alone: a wrong row here means
// lost mail (cursor skipped), duplicates (UIDVALIDITY ignored) or flags that never update.
import t from 'tap';
import { advanceUidCursor, isUidToFetch, needsExpungeScan, planSync, type ServerMailboxState, type StoredMailboxState } from '../../src/sync/sync-plan.ts';

const server = (o: Partial<ServerMailboxState> = {}): ServerMailboxState => ({
  uidValidity: 100, uidNext: 51, highestModseq: null, exists: 50, condstore: false, qresync: false, ...o,
});
const stored = (o: Partial<StoredMailboxState> = {}): StoredMailboxState => ({
  uidValidity: '100', uidNext: 51, highestModseq: null, storedCount: 50, ...o,
});

t.test('planSync table', async (t) => {
  const rows: Array<[string, StoredMailboxState | null, ServerMailboxState, object, Record<string, unknown>]> = [
    ['never synced', null, server(), {}, { kind: 'initial', fromUid: 1, uidValidity: 100n }],
    ['never synced, empty folder', null, server({ exists: 0, uidNext: 1 }), {}, { kind: 'initial', fromUid: 1 }],
    ['UIDVALIDITY changed', stored(), server({ uidValidity: 101 }), {}, { kind: 'reset', fromUid: 1, uidValidity: 101n }],
    ['UIDVALIDITY compared as numbers, not strings', stored({ uidValidity: '0100' }), server({ uidValidity: 100n }), {}, { kind: 'none' }],
    ['UIDNEXT went backwards', stored({ uidNext: 60 }), server({ uidNext: 40 }), {}, { kind: 'reset', fromUid: 1 }],
    ['nothing changed, no CONDSTORE', stored(), server(), {}, { kind: 'none' }],
    ['nothing changed, full flag scan due', stored(), server(), { fullFlagScan: true }, { kind: 'flags-only', flags: { mode: 'full' }, checkExpunged: false }],
    ['new mail, no CONDSTORE', stored(), server({ uidNext: 55, exists: 54 }), {}, { kind: 'fetch-new', fromUid: 51, flags: { mode: 'none' }, checkExpunged: true }],
    ['new mail, cursor beyond gaps', stored({ uidNext: 51 }), server({ uidNext: 9000, exists: 51 }), {}, { kind: 'fetch-new', fromUid: 51 }],
    ['no UIDNEXT from server, mail present', stored(), server({ uidNext: null }), {}, { kind: 'fetch-new', fromUid: 51 }],
    ['no UIDNEXT from server, empty folder', stored({ storedCount: 0 }), server({ uidNext: null, exists: 0 }), {}, { kind: 'none' }],
    ['expunged, no new mail, no CONDSTORE', stored(), server({ exists: 48 }), {}, { kind: 'flags-only', flags: { mode: 'none' }, checkExpunged: true }],
    ['CONDSTORE, modseq unchanged', stored({ highestModseq: '900' }), server({ condstore: true, highestModseq: 900n }), {}, { kind: 'none' }],
    ['CONDSTORE, modseq moved', stored({ highestModseq: '900' }), server({ condstore: true, highestModseq: '905' }), {},
      { kind: 'flags-only', flags: { mode: 'changed-since', changedSince: 900n, vanished: false }, checkExpunged: false }],
    ['CONDSTORE, modseq moved and count dropped', stored({ highestModseq: 900 }), server({ condstore: true, highestModseq: 905, exists: 49 }), {},
      { kind: 'flags-only', flags: { mode: 'changed-since', changedSince: 900n, vanished: false }, checkExpunged: true }],
    ['QRESYNC, modseq moved: VANISHED reports expunges', stored({ highestModseq: 900 }), server({ condstore: true, qresync: true, highestModseq: 905, exists: 49 }), {},
      { kind: 'flags-only', flags: { mode: 'changed-since', changedSince: 900n, vanished: true }, checkExpunged: false }],
    ['QRESYNC, new mail and flag changes', stored({ highestModseq: 900 }), server({ condstore: true, qresync: true, highestModseq: 910, uidNext: 53, exists: 52 }), {},
      { kind: 'fetch-new', fromUid: 51, flags: { mode: 'changed-since', changedSince: 900n, vanished: true }, checkExpunged: false }],
    ['CONDSTORE appears for the first time: baseline with a full scan', stored({ highestModseq: null }), server({ condstore: true, highestModseq: 7 }), {},
      { kind: 'flags-only', flags: { mode: 'full' }, checkExpunged: false }],
    ['HIGHESTMODSEQ went backwards: CHANGEDSINCE cannot be trusted', stored({ highestModseq: 900 }), server({ condstore: true, highestModseq: 10 }), {},
      { kind: 'flags-only', flags: { mode: 'full' } }],
    ['64-bit modseq beyond Number precision', stored({ highestModseq: '9007199254740993' }), server({ condstore: true, highestModseq: '9007199254740995' }), {},
      { kind: 'flags-only', flags: { mode: 'changed-since', changedSince: 9007199254740993n } }],
    ['server advertises CONDSTORE but sends NOMODSEQ', stored({ highestModseq: 900 }), server({ condstore: true, highestModseq: null }), {}, { kind: 'none' }],
    ['empty stored folder gets its first mail', stored({ uidNext: 1, storedCount: 0 }), server({ uidNext: 2, exists: 1, condstore: true, highestModseq: 3 }), {},
      { kind: 'fetch-new', fromUid: 1, flags: { mode: 'none' } }],
  ];
  for (const [why, s, srv, opts, want] of rows) t.match(planSync(s, srv, opts), want, why);
});

t.test('every plan says why (for the sync log)', async (t) => {
  t.match(planSync(stored(), server({ uidValidity: 5 })).reason, /UIDVALIDITY changed from 100 to 5/);
  t.match(planSync(stored({ uidNext: 60 }), server({ uidNext: 40 })).reason, /UIDNEXT went back/);
});

t.test('N:* may return N-1: skip UIDs below the cursor', async (t) => {
  t.equal(isUidToFetch(50, 51), false, 'the server answered 51:* with the last message, UID 50');
  t.equal(isUidToFetch(51, 51), true);
  t.equal(isUidToFetch(4000, 51), true);
  t.equal(isUidToFetch(Number.NaN, 1), false);
});

t.test('the cursor only moves forward', async (t) => {
  t.equal(advanceUidCursor(51, 51), 52);
  t.equal(advanceUidCursor(51, 70), 71, 'gaps are fine');
  t.equal(advanceUidCursor(80, 70), 80, 'handling an older UID never moves it back');
  let cursor = 1;
  for (const uid of [5, 3, 9, 7]) cursor = advanceUidCursor(cursor, uid);
  t.equal(cursor, 10);
});

t.test('needsExpungeScan', async (t) => {
  t.equal(needsExpungeScan(54, 54), false);
  t.equal(needsExpungeScan(53, 54), true, 'one expunged while we fetched');
  t.equal(needsExpungeScan(55, 54), true, 'we hold fewer than the server: find the missing');
});
