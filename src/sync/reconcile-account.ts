// Reconciliation of one account: per synced folder, the UIDs the server has (UID SEARCH ALL) against the
// stored live locations, below the folder's cursor (above it is new mail, the sync's business). What is
// missing — a location lost, a message the cursor passed — is fetched through the sync's own pipeline,
// and what still cannot be stored is recorded as the folder's `missing` (GET /api/sync-health, /metrics,
// the missing-mail alert). Holds the account's sync lease: never runs beside a sync of the same account.
import type { WorkerDeps } from './worker-deps.ts';
import { MailAccount } from '../core/mail/mail-account.entity.ts';
import { imapSettingsFor } from './account-credentials.ts';
import { holdLease } from './account-lease.ts';
import { listOwnAddresses } from '../core/log/filing.ts';
import { listLiveLocationUids, listReconcileFolders, recordReconciliation } from '../core/mail/mailbox-state.ts';
import { classifyImapError, closeImap, openImap, type ImapFlow } from './imap.ts';
import { fetchMissingUids, type MailboxSyncContext } from './sync-mailbox.ts';
import type { ParsePool } from './parse-pool.ts';
import { mailHostPolicy } from '../core/mail/mail-hosts.ts';

export type FolderReconciliation = { server: number; missingBefore: number; fetched: number; missing: number };
export type ReconcileOutcome =
  | { outcome: 'done'; folders: Record<string, FolderReconciliation> }
  | { outcome: 'gone' | 'busy' | 'needs-reauth' }
  | { outcome: 'error'; message: string };

export async function reconcileAccount(deps: WorkerDeps, runtime: { pool: ParsePool }, accountId: string, opts: { signal?: AbortSignal } = {}): Promise<ReconcileOutcome> {
  const em = deps.db.em.fork();
  const account = await em.findOne(MailAccount, { id: accountId });
  if (!account) return { outcome: 'gone' };
  if (account.status === 'needs_reauth') return { outcome: 'needs-reauth' };
  const folders = await listReconcileFolders(em, accountId);
  if (!folders.length) return { outcome: 'done', folders: {} };

  const stop = new AbortController();
  const onOuterAbort = () => stop.abort();
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const lease = await holdLease(deps.db, 'sync', accountId, deps.workerId, () => stop.abort());
  if (!lease) {
    opts.signal?.removeEventListener('abort', onOuterAbort);
    return { outcome: 'busy' };
  }
  let client: ImapFlow | null = null;
  try {
    const settings = await imapSettingsFor(deps, em, account);
    client = await openImap(settings, { signal: stop.signal, id: `reconcile-${accountId.slice(0, 8)}`, hosts: mailHostPolicy(deps.config), socketTimeoutMs: deps.config.imapTimeoutSeconds * 1000 });
    const ctx: MailboxSyncContext = {
      db: deps.db, queue: deps.queue, blobs: deps.blobs, pool: runtime.pool, log: deps.log, events: deps.events ?? null, accountId,
      ownAddresses: new Set(await listOwnAddresses(em)), signal: stop.signal,
      filing: { blobs: deps.blobs, maxAttachmentBytes: deps.config.maxAttachmentBytes }, metrics: deps.metrics ?? null,
    };
    const out: Record<string, FolderReconciliation> = {};
    for (const box of folders) {
      if (stop.signal.aborted) throw new Error('reconciliation stopped');
      let opened;
      try {
        opened = await client.mailboxOpen(box.path, { readOnly: true });
      } catch (err) {
        if (classifyImapError(err).kind !== 'protocol') throw err;
        continue; // the folder is gone or unreadable: the sync reports that
      }
      // A changed UIDVALIDITY voids the stored UIDs: the next sync resets the folder, nothing to compare.
      if (String(opened.uidValidity) !== box.uidValidity) continue;
      const found = await client.search({ all: true }, { uid: true });
      if (!Array.isArray(found)) continue;
      const stored = new Set(await listLiveLocationUids(deps.db.em.fork(), box.id, box.uidValidity, box.lastUid));
      const missing = found.filter((uid) => uid <= box.lastUid && !stored.has(uid));
      let fetched = 0;
      if (missing.length) {
        deps.log.warn({ accountId, folder: box.path, missing: missing.length }, 'reconciliation: mail on the server was not stored; fetching it');
        fetched = (await fetchMissingUids(ctx, client, { id: box.id, path: box.path, role: box.role }, box.uidValidity, missing)).fetched;
      }
      // What is still not stored (a message that failed again, one expunged meanwhile is not on `found` next time).
      const after = missing.length ? new Set(await listLiveLocationUids(deps.db.em.fork(), box.id, box.uidValidity, box.lastUid)) : stored;
      const still = missing.filter((uid) => !after.has(uid)).length;
      await recordReconciliation(deps.db.em.fork(), box.id, box.uidValidity, { missing: still, serverMessages: client.mailbox ? client.mailbox.exists : opened.exists });
      out[box.path] = { server: found.length, missingBefore: missing.length, fetched, missing: still };
    }
    return { outcome: 'done', folders: out };
  } catch (err) {
    const message = classifyImapError(err).message;
    deps.log.warn({ accountId, err }, 'reconciliation failed');
    return { outcome: 'error', message };
  } finally {
    opts.signal?.removeEventListener('abort', onOuterAbort);
    await closeImap(client);
    await lease.release();
  }
}
