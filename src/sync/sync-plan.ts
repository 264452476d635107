// Decides what one mailbox sync must do from the stored cursor and the state the server reports on
// SELECT. Pure: no IMAP, no database. The caller does the I/O and commits rows and cursor together.
//
// Invariants (each enforced here or by the helpers below):
// - The UID cursor (`uidNext`: every UID below it has been stored or recorded as failed) only moves
//   forward: advanceUidCursor() never lowers it.
// - UIDs are only meaningful together with UIDVALIDITY (RFC 3501 §2.3.1.1): a changed UIDVALIDITY
//   means every stored UID of the folder is void, so the folder is re-listed ('reset') and existing
//   content re-linked, never duplicated.
// - "UID FETCH N:*" returns the highest message even when its UID is below N (RFC 3501 §6.4.8: "*"
//   is the largest UID in use, and N:* equals *:N), so fetched UIDs below fromUid are skipped
//   (isUidToFetch).
// - HIGHESTMODSEQ stored is the value seen at SELECT, before fetching, so a change made while we
//   sync is seen again next time rather than lost.

export type StoredMailboxState = {
  /** UIDVALIDITY the stored UIDs belong to. */
  uidValidity: bigint | number | string;
  /** The cursor: the lowest UID not yet handled (every UID below it is stored or failed). */
  uidNext: number;
  /** HIGHESTMODSEQ recorded at the last completed flag sync, null when unknown. */
  highestModseq: bigint | number | string | null;
  /** Locations of this mailbox currently present (not marked removed). */
  storedCount: number;
};

export type ServerMailboxState = {
  uidValidity: bigint | number | string;
  /** UIDNEXT from SELECT; null when the server did not send it (allowed by RFC 3501). */
  uidNext: number | null;
  /** HIGHESTMODSEQ from SELECT; null without CONDSTORE or with NOMODSEQ. */
  highestModseq: bigint | number | string | null;
  /** EXISTS: messages in the mailbox now. */
  exists: number;
  condstore: boolean;
  qresync: boolean;
};

export type PlanOptions = {
  /**
   * Without CONDSTORE the only way to see flag changes is to fetch every message's FLAGS; the
   * caller sets this when such a scan is due (e.g. every few minutes), not on every IDLE wake-up.
   */
  fullFlagScan?: boolean;
};

/** How to bring flags of already-stored messages up to date (and detect expunges). */
export type FlagSync =
  /** UID FETCH 1:<uidNext-1> (FLAGS) (CHANGEDSINCE modseq [VANISHED]); vanished when QRESYNC is on. */
  | { mode: 'changed-since'; changedSince: bigint; vanished: boolean }
  /** Fetch FLAGS of every stored UID and compare; UID SEARCH ALL finds expunged ones. */
  | { mode: 'full' }
  | { mode: 'none' };

export type SyncPlan =
  /** Never synced: fetch everything from UID 1 and remember uidValidity. */
  | { kind: 'initial'; uidValidity: bigint; fromUid: 1; reason: string }
  /**
   * Stored UIDs are void (UIDVALIDITY changed, or UIDNEXT went backwards): re-list the folder from
   * UID 1, re-link content already stored (by dedupe key) instead of storing it again, mark the
   * old locations removed. No notifications for re-linked content.
   */
  | { kind: 'reset'; uidValidity: bigint; fromUid: 1; reason: string }
  | { kind: 'none'; reason: string }
  /** New mail: fetch UIDs >= fromUid (skipping lower ones the server returns); flags as planned. */
  | { kind: 'fetch-new'; fromUid: number; flags: FlagSync; checkExpunged: boolean; reason: string }
  /** No new mail; existing messages need attention: their flags, or (checkExpunged) removals. */
  | { kind: 'flags-only'; flags: FlagSync; checkExpunged: boolean; reason: string };

const toBigInt = (v: bigint | number | string): bigint => (typeof v === 'bigint' ? v : BigInt(v));

/**
 * The plan for one mailbox. `checkExpunged` asks the caller to compare the server's EXISTS with the
 * stored count once new mail is in (see needsExpungeScan) when VANISHED is not available.
 */
export function planSync(stored: StoredMailboxState | null, server: ServerMailboxState, options: PlanOptions = {}): SyncPlan {
  const uidValidity = toBigInt(server.uidValidity);
  if (stored === null) return { kind: 'initial', uidValidity, fromUid: 1, reason: 'folder never synced' };
  if (toBigInt(stored.uidValidity) !== uidValidity) {
    return { kind: 'reset', uidValidity, fromUid: 1, reason: `UIDVALIDITY changed from ${stored.uidValidity} to ${uidValidity}` };
  }
  // UIDNEXT never decreases while UIDVALIDITY stays (RFC 3501 §2.3.1.1). A server restored from a
  // backup can break that and would hand new mail UIDs we believe handled: re-list, don't trust.
  if (server.uidNext !== null && server.uidNext < stored.uidNext) {
    return { kind: 'reset', uidValidity, fromUid: 1, reason: `UIDNEXT went back from ${stored.uidNext} to ${server.uidNext}` };
  }

  // Without UIDNEXT we cannot tell whether there is new mail: "UID FETCH cursor:*" finds out cheaply.
  const hasNew = server.uidNext === null ? server.exists > 0 : server.uidNext > stored.uidNext;
  const flags = planFlags(stored, server, options);
  const vanished = flags.mode === 'changed-since' && flags.vanished;
  // Expunges are certain when fewer messages exist than we hold and nothing new came in; with new
  // mail the count can only be compared after the fetch.
  const countMismatch = hasNew ? server.exists < stored.storedCount : server.exists !== stored.storedCount;
  const checkExpunged = !vanished && flags.mode !== 'full' && (hasNew || countMismatch);

  if (hasNew) {
    return { kind: 'fetch-new', fromUid: Math.max(1, stored.uidNext), flags, checkExpunged, reason: 'new mail' };
  }
  if (flags.mode === 'none' && countMismatch) {
    // No CONDSTORE, not due for a full scan, but messages disappeared: find which.
    return { kind: 'flags-only', flags, checkExpunged: true, reason: `server has ${server.exists} messages, ${stored.storedCount} stored` };
  }
  if (flags.mode !== 'none') return { kind: 'flags-only', flags, checkExpunged, reason: 'flags may have changed' };
  return { kind: 'none', reason: 'nothing changed' };
}

function planFlags(stored: StoredMailboxState, server: ServerMailboxState, options: PlanOptions): FlagSync {
  if (stored.storedCount === 0 && stored.uidNext <= 1) return { mode: 'none' };
  if (server.condstore && server.highestModseq !== null) {
    const now = toBigInt(server.highestModseq);
    if (stored.highestModseq === null) return { mode: 'full' }; // first sync with CONDSTORE: establish a baseline
    const last = toBigInt(stored.highestModseq);
    if (now === last) return { mode: 'none' };
    // A lower value than we recorded breaks RFC 7162's promise; CHANGEDSINCE would miss changes.
    if (now < last) return { mode: 'full' };
    return { mode: 'changed-since', changedSince: last, vanished: server.qresync };
  }
  return options.fullFlagScan ? { mode: 'full' } : { mode: 'none' };
}

/** Whether a UID returned by "UID FETCH fromUid:*" is one to store (the server may return fromUid-1). */
export function isUidToFetch(uid: number, fromUid: number): boolean {
  return Number.isInteger(uid) && uid >= fromUid;
}

/**
 * The cursor after handling `uid` (stored, or recorded as failed): one past the highest UID handled,
 * never lower than before.
 */
export function advanceUidCursor(current: number, uid: number): number {
  return Math.max(current, uid + 1);
}

/**
 * After new mail is stored: without VANISHED, a server count different from what we hold means
 * messages were expunged (or we missed some), and a UID SEARCH ALL diff must find which.
 */
export function needsExpungeScan(exists: number, storedCountAfterFetch: number): boolean {
  return exists !== storedCountAfterFetch;
}
