// Announces filing approvals (issue 12): each pending consent row not yet announced becomes one bell
// notification for the mailbox's owner (with the email copy they may have asked for). Called after every
// path that can create requests, in the same transaction; rows are claimed with SKIP LOCKED so two
// transactions never announce one twice. Nothing here tells the requester anything.
import { kysely, type Em } from '../platform/db.ts';
import type { Language } from '../staff/user.entity.ts';
import { createNotification } from './staff-notifications.ts';

export const FILING_APPROVALS_LINK = '/settings/filing-approvals';

const TITLES: Record<Language, (address: string, client: string, by: string | null) => string> = {
  en: (a, c, by) => `${by ?? 'An address of a client'} asks to file your private mail with ${a} to ${c}`,
  es: (a, c, by) => `${by ?? 'Una dirección de un cliente'} pide archivar tu correo privado con ${a} en ${c}`,
  nl: (a, c, by) => `${by ?? 'Een adres van een klant'} vraagt je privémail met ${a} bij ${c} te archiveren`,
};

/** Notifies owners of the pending requests not yet announced; returns the email copies to send after the commit. */
export async function announceFilingApprovals(em: Em, opts: { publicUrl?: string } = {}): Promise<string[]> {
  const db = kysely(em);
  const rows = await db.selectFrom('filing_consent as fc')
    .innerJoin('client as c', 'c.id', 'fc.client_id')
    .innerJoin('app_user as o', 'o.id', 'fc.owner_id')
    .leftJoin('app_user as u', 'u.id', 'fc.requested_by_id')
    .select(['fc.id', 'fc.owner_id', 'fc.address', 'c.name as client_name', 'o.language', 'u.name as requester'])
    .where('fc.status', '=', 'pending').where('fc.notified_at', 'is', null)
    .orderBy('fc.created_at').limit(500)
    .forUpdate('fc').skipLocked()
    .execute();
  if (!rows.length) return [];
  const outboxIds: string[] = [];
  for (const r of rows) {
    const title = TITLES[r.language](r.address, r.client_name, r.requester);
    const { outboxId } = await createNotification(em, { userId: r.owner_id, kind: 'filing_approval', title, link: FILING_APPROVALS_LINK }, opts);
    if (outboxId) outboxIds.push(outboxId);
  }
  await db.updateTable('filing_consent').set({ notified_at: new Date() }).where('id', 'in', rows.map((r) => r.id)).execute();
  return outboxIds;
}
