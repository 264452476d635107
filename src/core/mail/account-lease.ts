// Per-account leases in mail_account, so that however many workers run, one syncs an account at a time
// ('sync': lease_owner/lease_until) and one keeps its IDLE connection ('watch': watch_owner/watch_until).
// The database clock decides expiry, so workers on hosts with skewed clocks still agree. The holding
// loop (renewal timer, dead-holder detection) is the sync shell's (src/sync/account-lease.ts).
import { sql } from 'kysely';
import { kysely, type Em } from '../platform/db.ts';

export type LeaseKind = 'sync' | 'watch';

const expiresIn = (ttlMs: number) => sql<Date>`now() + (${ttlMs} * interval '1 millisecond')`;

/** Takes the lease when free, expired, or already ours. */
export async function acquireAccountLease(em: Em, kind: LeaseKind, accountId: string, owner: string, ttlMs: number): Promise<boolean> {
  const db = kysely(em);
  const query = kind === 'sync'
    ? db.updateTable('mail_account').set({ lease_owner: owner, lease_until: expiresIn(ttlMs) })
      .where((eb) => eb.or([eb('lease_owner', 'is', null), eb('lease_owner', '=', owner), eb('lease_until', '<', sql<Date>`now()`)]))
    : db.updateTable('mail_account').set({ watch_owner: owner, watch_until: expiresIn(ttlMs) })
      .where((eb) => eb.or([eb('watch_owner', 'is', null), eb('watch_owner', '=', owner), eb('watch_until', '<', sql<Date>`now()`)]));
  const rows = await query.where('id', '=', accountId).returning('id').execute();
  return rows.length > 0;
}

export async function releaseAccountLease(em: Em, kind: LeaseKind, accountId: string, owner: string): Promise<void> {
  const db = kysely(em);
  const query = kind === 'sync'
    ? db.updateTable('mail_account').set({ lease_owner: null, lease_until: null }).where('lease_owner', '=', owner)
    : db.updateTable('mail_account').set({ watch_owner: null, watch_until: null }).where('watch_owner', '=', owner);
  await query.where('id', '=', accountId).execute();
}

/** Who holds the lease (expired or not: the caller asks after failing to acquire it). */
export async function getAccountLeaseHolder(em: Em, kind: LeaseKind, accountId: string): Promise<string | null> {
  const row = await kysely(em).selectFrom('mail_account')
    .select(kind === 'sync' ? 'lease_owner as holder' : 'watch_owner as holder')
    .where('id', '=', accountId)
    .executeTakeFirst();
  return row?.holder ?? null;
}

/** Takes the lease from a holder known to be dead (its process is gone); false when someone else changed it meanwhile. */
export async function takeAccountLeaseFrom(em: Em, kind: LeaseKind, accountId: string, deadHolder: string, owner: string, ttlMs: number): Promise<boolean> {
  const db = kysely(em);
  const query = kind === 'sync'
    ? db.updateTable('mail_account').set({ lease_owner: owner, lease_until: expiresIn(ttlMs) }).where('lease_owner', '=', deadHolder)
    : db.updateTable('mail_account').set({ watch_owner: owner, watch_until: expiresIn(ttlMs) }).where('watch_owner', '=', deadHolder);
  const rows = await query.where('id', '=', accountId).returning('id').execute();
  return rows.length > 0;
}

/**
 * Extends every lease of this kind that `owner` holds on these accounts in one statement (a worker may
 * hold thousands); returns the accounts whose lease it still held. The others were lost.
 */
export async function renewAccountLeases(em: Em, kind: LeaseKind, accountIds: readonly string[], owner: string, ttlMs: number): Promise<Set<string>> {
  if (!accountIds.length) return new Set();
  const db = kysely(em);
  const query = kind === 'sync'
    ? db.updateTable('mail_account').set({ lease_until: expiresIn(ttlMs) }).where('lease_owner', '=', owner)
    : db.updateTable('mail_account').set({ watch_until: expiresIn(ttlMs) }).where('watch_owner', '=', owner);
  const rows = await query.where('id', 'in', [...accountIds]).returning('id').execute();
  return new Set(rows.map((r) => r.id));
}
