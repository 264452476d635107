// Who sends an outbox row: one atomic claim per attempt (so two workers never both send it), and the
// rows whose send job was lost and must be enqueued again. The send itself is the sync worker's.
import { sql } from 'kysely';
import { kysely, type Em } from '../platform/db.ts';

export type OutboxClaim =
  | { kind: 'claimed'; previous: 'queued' | 'sending' }
  | { kind: 'done' }
  | { kind: 'busy'; retryInMs: number };

/**
 * Takes the row for this attempt: one UPDATE under a row lock, so two workers (a stalled job run again,
 * a duplicate enqueue) never both send it. `previous` is the status it had: 'sending' means an earlier
 * attempt stopped without a clear answer, and the mail may have gone out.
 */
export async function claimOutboxRow(em: Em, outboxId: string, leaseMs: number): Promise<OutboxClaim> {
  const db = kysely(em);
  const claimed = await db.updateTable('outbox as o')
    .from(db.selectFrom('outbox').select(['id', 'status']).where('id', '=', outboxId).forUpdate().as('prev'))
    .set((eb) => ({
      status: 'sending',
      attempts: eb(eb.ref('o.attempts'), '+', 1),
      lease_until: sql<Date>`now() + (${leaseMs} * interval '1 millisecond')`,
      updated_at: sql<Date>`now()`,
    }))
    .whereRef('o.id', '=', 'prev.id')
    .where('o.status', 'in', ['queued', 'sending'])
    .where((eb) => eb.or([eb('o.lease_until', 'is', null), eb('o.lease_until', '<', sql<Date>`now()`)]))
    .returning('prev.status as previous')
    .executeTakeFirst();
  if (claimed) return { kind: 'claimed', previous: claimed.previous as 'queued' | 'sending' };
  const state = await db.selectFrom('outbox')
    .select(['status', sql<number | null>`ceil(extract(epoch from (lease_until - now())) * 1000)::int`.as('wait_ms')])
    .where('id', '=', outboxId)
    .executeTakeFirst();
  if (!state || state.status === 'sent' || state.status === 'failed') return { kind: 'done' };
  return { kind: 'busy', retryInMs: Math.max(1000, Number(state.wait_ms ?? 0) + 1000) };
}

/**
 * Rows nobody is working on: queued (or left 'sending' between attempts), untouched for `staleMs`, no
 * live lease; oldest first, at most `limit`. `accountId` limits it to one account's rows.
 */
export async function listStrandedOutboxIds(em: Em, opts: { staleMs: number; limit: number; accountId?: string }): Promise<string[]> {
  let query = kysely(em).selectFrom('outbox').select('id')
    .where('status', 'in', ['queued', 'sending'])
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', sql<Date>`now()`)]))
    .where('updated_at', '<', sql<Date>`now() - (${opts.staleMs} * interval '1 millisecond')`)
    .orderBy('updated_at', 'asc')
    .limit(opts.limit);
  if (opts.accountId) query = query.where('account_id', '=', opts.accountId);
  return (await query.execute()).map((r) => r.id);
}
