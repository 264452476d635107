// Sync incidents: an account waiting for new credentials (needs_reauth), one that has not finished a sync
// for three sync intervals (stalled), and mail the reconciliation found on the server but could not store
// (missing). Each incident notifies the account's owner and every administrator once — bell, plus email
// where they asked for it — when it opens; it closes when the account is healthy again, so a recurrence
// notifies again. The open incidents live on the account row (sync_incidents), changed with a compare-and-set
// so two workers scanning at once notify once.
import { sql } from 'kysely';
import { kysely, type Db } from '../platform/db.ts';
import type { JobQueue } from '../platform/jobs.ts';
import { enqueueSend } from '../outbox/outbox.ts';
import { createNotification } from '../collaboration/staff-notifications.ts';

export type IncidentKind = 'needs_reauth' | 'stalled' | 'missing';
/** Without a finished sync for this many intervals, an account counts as stalled. */
export const STALLED_AFTER_INTERVALS = 3;

const TEXT: Record<IncidentKind, (name: string, n: number) => { title: string; body: string }> = {
  needs_reauth: (name) => ({ title: `Mailbox ${name} needs to be reconnected`, body: 'The mail server refused the login. Until the account is reconnected in Settings → Mail accounts, no new mail from it reaches Dossier.' }),
  stalled: (name) => ({ title: `Mailbox ${name} has stopped syncing`, body: 'No sync of this mailbox has finished for a while. Settings → Sync health shows its last error.' }),
  missing: (name, n) => ({ title: `Mailbox ${name} has mail Dossier could not store`, body: `${n} message(s) on the mail server are not in Dossier. Settings → Sync health shows the folders.` }),
};

export type SyncAlertScanResult = { opened: { accountId: string; kind: IncidentKind }[]; closed: { accountId: string; kind: IncidentKind }[] };

/** Opens and closes incidents for every account (or those given); returns what changed. */
export async function runSyncAlertScan(db: Db, queue: JobQueue, opts: { syncIntervalSeconds: number; publicUrl?: string; accountIds?: string[]; now?: Date }): Promise<SyncAlertScanResult> {
  const now = opts.now ?? new Date();
  const stalledBefore = new Date(now.getTime() - STALLED_AFTER_INTERVALS * opts.syncIntervalSeconds * 1000);
  let query = kysely(db.em.fork()).selectFrom('mail_account as a')
    .select((eb) => ['a.id', 'a.name', 'a.owner_id', 'a.status', 'a.last_sync_at', 'a.created_at', 'a.sync_incidents',
      eb.selectFrom('mailbox as b').select((e) => e.fn.coalesce(e.fn.sum<number>('b.missing_messages'), e.lit(0)).as('m')).whereRef('b.account_id', '=', 'a.id').as('missing')]);
  if (opts.accountIds) {
    if (!opts.accountIds.length) return { opened: [], closed: [] };
    query = query.where('a.id', 'in', opts.accountIds);
  }
  const accounts = await query.execute();
  const result: SyncAlertScanResult = { opened: [], closed: [] };
  for (const a of accounts) {
    const missing = Number(a.missing ?? 0);
    const current = new Set<IncidentKind>();
    if (a.status === 'needs_reauth') current.add('needs_reauth');
    else if (new Date(a.last_sync_at ?? a.created_at) < stalledBefore) current.add('stalled');
    if (missing > 0) current.add('missing');
    const before = [...((a.sync_incidents as string[] | null) ?? [])].sort();
    const after = [...current].sort();
    if (before.join(',') === after.join(',')) continue;
    const opened = after.filter((k) => !before.includes(k));
    const outboxIds: string[] = [];
    const changed = await db.em.fork().transactional(async (em) => {
      // Compare-and-set: another scan that changed the set first wins, and notifies instead of this one.
      const rows = await kysely(em).updateTable('mail_account').set({ sync_incidents: sql`${after}::text[]` })
        .where('id', '=', a.id).where(sql<boolean>`sync_incidents = ${before}::text[]`)
        .returning('id').execute();
      if (!rows.length) return false;
      if (!opened.length) return true;
      const admins = await kysely(em).selectFrom('app_user').select('id').where('role', '=', 'admin').where('active', '=', true).execute();
      const recipients = new Set([a.owner_id, ...admins.map((u) => u.id)]);
      for (const kind of opened) {
        const text = TEXT[kind](a.name, missing);
        for (const userId of recipients) {
          const { outboxId } = await createNotification(em, { userId, kind: `sync_${kind}`, title: text.title, body: text.body, link: '/settings/sync-health' }, { publicUrl: opts.publicUrl });
          if (outboxId) outboxIds.push(outboxId);
        }
      }
      await em.flush();
      return true;
    });
    if (!changed) continue;
    // After the commit; should it fail, resume-outbox finds the queued rows.
    for (const id of outboxIds) await enqueueSend(queue, id).catch(() => undefined);
    for (const kind of opened) result.opened.push({ accountId: a.id, kind });
    for (const kind of before.filter((k) => !current.has(k as IncidentKind))) result.closed.push({ accountId: a.id, kind: kind as IncidentKind });
  }
  return result;
}
