// How complete and how fresh each account's copy of its mail is, from the stored counts the sync keeps
// (mailbox.server_messages, stored_messages): for /metrics (every account) and GET /api/sync-health
// (the accounts a user may see). Reads only; never talks to a mail server.
import { kysely, type Em } from '../platform/db.ts';
import type { User } from '../staff/user.entity.ts';

export type AccountSyncState = { id: string; status: string; lastSyncAt: Date | null; createdAt: Date; missing: number };

/** Every account's status, last finished sync (the metrics scrape turns these into lag) and missing mail. */
export async function listAccountSyncStates(em: Em): Promise<AccountSyncState[]> {
  const rows = await kysely(em).selectFrom('mail_account').select(['id', 'status', 'last_sync_at', 'created_at']).orderBy('id').execute();
  const boxes = await kysely(em).selectFrom('mailbox').select(['account_id', 'server_messages', 'stored_messages', 'missing_messages']).execute();
  const missing = new Map<string, number>();
  for (const b of boxes) missing.set(b.account_id, (missing.get(b.account_id) ?? 0) + missingOf(b));
  return rows.map((r) => ({ id: r.id, status: r.status, lastSyncAt: r.last_sync_at ? new Date(r.last_sync_at) : null, createdAt: new Date(r.created_at), missing: missing.get(r.id) ?? 0 }));
}

// The counts' difference, or what the last reconciliation (server UIDs against stored locations) found and
// could not fetch, whichever is more: the counts can hide a gap (a duplicate location offsets a missing
// message), the reconciliation is exact when it runs. Stored can exceed the server's count for a moment (an
// expunge seen before the recount): never negative.
const missingOf = (b: { server_messages: number; stored_messages: number; missing_messages: number }) =>
  Math.max(0, b.server_messages - b.stored_messages, b.missing_messages);

export type FolderHealth = { path: string; serverCount: number; storedCount: number; missing: number; lastSyncAt: string | null };
export type AccountHealth = { accountId: string; name: string; status: string; lastSyncAt: string | null; lastError: string | null; folders: FolderHealth[] };

/** Admins see every account; staff their own and the public ones (as GET /api/mail-accounts). */
export async function listSyncHealth(em: Em, user: Pick<User, 'id' | 'role'>): Promise<AccountHealth[]> {
  let accounts = kysely(em).selectFrom('mail_account').select(['id', 'name', 'status', 'last_sync_at', 'last_error']).orderBy('name').orderBy('id');
  if (user.role !== 'admin') accounts = accounts.where((eb) => eb.or([eb('owner_id', '=', user.id), eb('visibility', '=', 'public')]));
  const rows = await accounts.execute();
  if (!rows.length) return [];
  const boxes = await kysely(em).selectFrom('mailbox')
    .select(['account_id', 'path', 'server_messages', 'stored_messages', 'missing_messages', 'synced_at'])
    .where('account_id', 'in', rows.map((r) => r.id))
    .orderBy('account_id').orderBy('path')
    .execute();
  const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);
  return rows.map((a) => ({
    accountId: a.id, name: a.name, status: a.status, lastSyncAt: iso(a.last_sync_at), lastError: a.last_error ?? null,
    folders: boxes.filter((b) => b.account_id === a.id).map((b) => ({
      path: b.path, serverCount: b.server_messages, storedCount: b.stored_messages,
      missing: missingOf(b), lastSyncAt: iso(b.synced_at),
    })),
  }));
}
