// A synced folder's state in the database: its cursor (UIDVALIDITY, last stored UID, HIGHESTMODSEQ), the
// poison-mail retry counter, progress and error, and the live locations the flag and expunge passes
// compare with the server. The sync shell decides what to do; these functions only read and write rows,
// each in the caller's em (and its transaction, when it has one).
import { sql } from 'kysely';
import { kysely, type Em } from '../platform/db.ts';

export type MailboxState = {
  uidValidity: string | null;
  /** Highest UID fully stored (or known to be gone) under uidValidity. */
  lastUid: number;
  highestModseq: string | null;
  retryUid: number | null;
  retryCount: number;
  storedMessages: number;
};

/** The folder's cursor and counters; throws when the folder was deleted meanwhile. */
export async function getMailboxState(em: Em, mailboxId: string): Promise<MailboxState> {
  const row = await kysely(em).selectFrom('mailbox')
    .select(['uid_validity', 'last_uid', 'highest_modseq', 'retry_uid', 'retry_count', 'stored_messages'])
    .where('id', '=', mailboxId)
    .executeTakeFirst();
  if (!row) throw new Error('folder no longer exists');
  return {
    uidValidity: row.uid_validity === null ? null : String(row.uid_validity),
    lastUid: Number(row.last_uid),
    highestModseq: row.highest_modseq === null ? null : String(row.highest_modseq),
    retryUid: row.retry_uid === null ? null : Number(row.retry_uid),
    retryCount: Number(row.retry_count),
    storedMessages: Number(row.stored_messages),
  };
}

export async function getMailboxLastError(em: Em, mailboxId: string): Promise<string | null> {
  const row = await kysely(em).selectFrom('mailbox').select('last_error').where('id', '=', mailboxId).executeTakeFirst();
  return row?.last_error ?? null;
}

/** Live (not removed) locations of the folder under one UIDVALIDITY. */
export async function countLiveLocations(em: Em, mailboxId: string, uidValidity: string): Promise<number> {
  const row = await kysely(em).selectFrom('message_location')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('mailbox_id', '=', mailboxId).where('uid_validity', '=', uidValidity).where('removed_at', 'is', null)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/**
 * A new UIDVALIDITY (or the first sync): stored UIDs are void (RFC 3501 §2.3.1.1), so the locations of
 * other UIDVALIDITYs are marked removed and the cursor starts over. The caller recounts in the same transaction.
 */
export async function resetMailboxCursor(em: Em, mailboxId: string, uidValidity: string): Promise<void> {
  const db = kysely(em);
  await db.updateTable('message_location').set({ removed_at: sql`now()` })
    .where('mailbox_id', '=', mailboxId).where('uid_validity', '<>', uidValidity).where('removed_at', 'is', null)
    .execute();
  await db.updateTable('mailbox')
    .set({ uid_validity: uidValidity, last_uid: 0, highest_modseq: null, retry_uid: null, retry_count: 0 })
    .where('id', '=', mailboxId)
    .execute();
}

/**
 * Moves the cursor forward to `uid` (never back) within the given UIDVALIDITY, together with the batch
 * it covers: progress counts `count` more, and a poison-mail counter for a UID now passed is cleared.
 * False when the folder's UIDVALIDITY is no longer this one (another runner reset it meanwhile).
 */
export async function advanceMailboxCursor(em: Em, mailboxId: string, uidValidity: string, uid: number, count = 0): Promise<boolean> {
  const passed = (eb: { ref: (c: 'retry_uid') => unknown }) => sql<boolean>`${eb.ref('retry_uid')} <= ${uid}`;
  const rows = await kysely(em).updateTable('mailbox')
    .set((eb) => ({
      last_uid: eb.fn('greatest', ['last_uid', eb.val(uid)]),
      progress_done: eb.fn('least', ['progress_total', eb(eb.ref('progress_done'), '+', count)]),
      // CASE on a nullable column: the builder's case() reads clearer as plain SQL here.
      retry_uid: sql`case when ${passed(eb)} then null else retry_uid end`,
      retry_count: sql`case when ${passed(eb)} then 0 else retry_count end`,
    }))
    .where('id', '=', mailboxId).where('uid_validity', '=', uidValidity)
    .returning('id')
    .execute();
  return rows.length > 0;
}

/**
 * Counts one more attempt at the folder's next UID (committed before trying, so a crash counts too), up to `upTo`.
 * Past it a run does not count when it starts: only an attempt at that message alone does (countAloneAttempt), so a
 * worker killed again and again while it connects, lists or fetches other mail never makes a message poison.
 */
export async function countFetchAttempt(em: Em, mailboxId: string, state: Pick<MailboxState, 'retryUid' | 'retryCount'>, firstUid: number, upTo = Infinity): Promise<number> {
  const same = state.retryUid !== null && state.retryUid === firstUid;
  if (same && state.retryCount >= upTo) return state.retryCount;
  const attempts = same ? state.retryCount + 1 : 1;
  await kysely(em).updateTable('mailbox').set({ retry_uid: firstUid, retry_count: attempts }).where('id', '=', mailboxId).execute();
  return attempts;
}

/** One more attempt at `uid` alone, counted (and committed) as it begins: a death from here on is laid at its door. */
export async function countAloneAttempt(em: Em, mailboxId: string, uid: number): Promise<number> {
  const rows = await kysely(em).updateTable('mailbox')
    .set((eb) => ({ retry_count: eb(eb.ref('retry_count'), '+', 1) }))
    .where('id', '=', mailboxId).where('retry_uid', '=', uid)
    .returning('retry_count')
    .execute();
  return Number(rows[0]?.retry_count ?? 0);
}

/** A network failure is not the message's fault: it does not count as an attempt. */
export async function forgiveFetchAttempt(em: Em, mailboxId: string): Promise<void> {
  await kysely(em).updateTable('mailbox')
    .set((eb) => ({ retry_count: eb.fn('greatest', [eb.val(0), eb(eb.ref('retry_count'), '-', 1)]) }))
    .where('id', '=', mailboxId)
    .execute();
}

export async function startMailboxProgress(em: Em, mailboxId: string, total: number): Promise<void> {
  await kysely(em).updateTable('mailbox').set({ progress_total: total, progress_done: 0 }).where('id', '=', mailboxId).execute();
}

/** The end of a folder's run: server count, sync time, no error; HIGHESTMODSEQ only when the flags were brought up to it. */
export async function finishMailboxSync(em: Em, mailboxId: string, s: { serverMessages: number; highestModseq?: string }): Promise<void> {
  await kysely(em).updateTable('mailbox')
    .set({
      server_messages: s.serverMessages, synced_at: sql`now()`, last_error: null, progress_total: 0, progress_done: 0,
      ...(s.highestModseq !== undefined ? { highest_modseq: s.highestModseq } : {}),
    })
    .where('id', '=', mailboxId)
    .execute();
}

export async function recordMailboxError(em: Em, mailboxId: string, message: string): Promise<void> {
  await kysely(em).updateTable('mailbox').set({ last_error: message, progress_total: 0, progress_done: 0 }).where('id', '=', mailboxId).execute();
}

/** Live locations up to `maxUid` with their flags, for the flag pass. */
export async function listLiveLocationFlags(em: Em, mailboxId: string, uidValidity: string, maxUid: number): Promise<{ uid: number; flags: string[] }[]> {
  const rows = await kysely(em).selectFrom('message_location').select(['uid', 'flags'])
    .where('mailbox_id', '=', mailboxId).where('uid_validity', '=', uidValidity).where('removed_at', 'is', null).where('uid', '<=', maxUid)
    .execute();
  return rows.map((r) => ({ uid: Number(r.uid), flags: [...((r.flags as string[] | null) ?? [])] }));
}

/** Live UIDs up to `maxUid`, for the expunge pass. */
export async function listLiveLocationUids(em: Em, mailboxId: string, uidValidity: string, maxUid: number): Promise<number[]> {
  const rows = await kysely(em).selectFrom('message_location').select('uid')
    .where('mailbox_id', '=', mailboxId).where('uid_validity', '=', uidValidity).where('removed_at', 'is', null).where('uid', '<=', maxUid)
    .execute();
  return rows.map((r) => Number(r.uid));
}

export async function setLocationFlags(em: Em, mailboxId: string, uidValidity: string, uid: number, flags: string[], modseq: string | null): Promise<void> {
  await kysely(em).updateTable('message_location')
    .set({ flags: sql`${flags}::text[]`, modseq })
    .where('mailbox_id', '=', mailboxId).where('uid_validity', '=', uidValidity).where('uid', '=', uid)
    .execute();
}

/** Marks these UIDs' live locations removed (expunged on the server); returns how many were live. */
export async function markLocationsRemoved(em: Em, mailboxId: string, uidValidity: string, uids: readonly number[]): Promise<number> {
  if (!uids.length) return 0;
  // One array parameter, however many UIDs: no per-value placeholders, no parameter limit.
  const rows = await kysely(em).updateTable('message_location').set({ removed_at: sql`now()` })
    .where('mailbox_id', '=', mailboxId).where('uid_validity', '=', uidValidity).where('removed_at', 'is', null)
    .where(sql<boolean>`uid = any(${[...uids]}::bigint[])`)
    .returning('id')
    .execute();
  return rows.length;
}

export type ReconcileFolder = { id: string; path: string; role: 'inbox' | 'sent' | 'other'; uidValidity: string; lastUid: number };

/** An account's folders that have been synced at least once (a cursor to compare the server with). */
export async function listReconcileFolders(em: Em, accountId: string): Promise<ReconcileFolder[]> {
  const rows = await kysely(em).selectFrom('mailbox').select(['id', 'path', 'role', 'uid_validity', 'last_uid'])
    .where('account_id', '=', accountId).where('uid_validity', 'is not', null)
    .orderBy('path')
    .execute();
  return rows.map((r) => ({ id: r.id, path: r.path, role: r.role, uidValidity: String(r.uid_validity), lastUid: Number(r.last_uid) }));
}

/**
 * A reconciliation's result: what is on the server (below the cursor) and still not stored after it
 * fetched what it could, and the server's count. Only under the UIDVALIDITY it compared (a reset since
 * then voids the comparison).
 */
export async function recordReconciliation(em: Em, mailboxId: string, uidValidity: string, r: { missing: number; serverMessages: number }): Promise<void> {
  await kysely(em).updateTable('mailbox')
    .set({ missing_messages: r.missing, server_messages: r.serverMessages, reconciled_at: sql`now()` })
    .where('id', '=', mailboxId).where('uid_validity', '=', uidValidity)
    .execute();
}
