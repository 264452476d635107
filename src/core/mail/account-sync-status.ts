// What the sync records on mail_account: syncing, done (with the folders' errors), failed, refused logins
// counted towards needs_reauth; and which accounts a worker should schedule and watch. An account waiting
// for new credentials (needs_reauth) keeps that status until PATCH resets it: no sync outcome overwrites it.
import { sql } from 'kysely';
import { kysely, type Em } from '../platform/db.ts';
import type { AccountStatus } from './mail-account.entity.ts';

export async function markAccountSyncing(em: Em, accountId: string): Promise<void> {
  await kysely(em).updateTable('mail_account').set({ status: 'syncing' })
    .where('id', '=', accountId).where('status', '<>', 'needs_reauth')
    .execute();
}

/** A finished run: idle, or error with the folders' problems joined in plain words. */
export async function recordAccountSynced(em: Em, accountId: string, errors: readonly string[]): Promise<void> {
  await kysely(em).updateTable('mail_account')
    .set({ status: errors.length ? 'error' : 'idle', last_sync_at: sql<Date>`now()`, last_error: errors.length ? errors.join('; ') : null, auth_failures: 0 })
    .where('id', '=', accountId).where('status', '<>', 'needs_reauth')
    .execute();
}

export async function recordAccountSyncError(em: Em, accountId: string, message: string): Promise<void> {
  await kysely(em).updateTable('mail_account').set({ status: 'error', last_error: message })
    .where('id', '=', accountId).where('status', '<>', 'needs_reauth')
    .execute();
}

/** A refused login: counted; at `maxFailures` the account goes to needs_reauth and stops retrying. */
export async function recordAuthFailure(em: Em, accountId: string, message: string, maxFailures: number): Promise<{ failures: number; needsReauth: boolean }> {
  const row = await kysely(em).updateTable('mail_account')
    .set((eb) => ({
      auth_failures: eb(eb.ref('auth_failures'), '+', 1),
      last_error: message,
      status: eb.case().when(eb(eb.ref('auth_failures'), '+', 1), '>=', maxFailures).then('needs_reauth' as AccountStatus).else('error' as AccountStatus).end(),
    }))
    .where('id', '=', accountId)
    .returning(['auth_failures', 'status'])
    .executeTakeFirst();
  return { failures: Number(row?.auth_failures ?? 0), needsReauth: row?.status === 'needs_reauth' };
}

/**
 * Every account's id; `syncable` leaves out those waiting for new credentials, `unwatched` those whose
 * IDLE watch lease is held and live (what a worker looking for accounts to watch needs).
 */
export async function listMailAccountIds(em: Em, opts: { syncable?: boolean; unwatched?: boolean } = {}): Promise<string[]> {
  let query = kysely(em).selectFrom('mail_account').select('id');
  if (opts.syncable) query = query.where('status', '<>', 'needs_reauth');
  if (opts.unwatched) query = query.where((eb) => eb.or([eb('watch_owner', 'is', null), eb('watch_until', '<', sql<Date>`now()`)]));
  return (await query.execute()).map((r) => r.id);
}
