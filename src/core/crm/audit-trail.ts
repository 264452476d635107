// Reads a client's audit trail (who created, edited, filed, unfiled, deleted what, and when), newest
// first. Writing is audit.ts's job; rows are never changed here.
import { kysely, type Em } from '../platform/db.ts';
import { getClient } from './clients.ts';
import { cursorTime, cursorTimestamp, decodeCursor, encodeCursor } from '../platform/keyset-cursor.ts';

export type AuditView = {
  id: string; at: string; actor: { id: string; name: string } | null; action: string; entityType: string; entityId: string | null;
  details: Record<string, unknown>;
};

export async function listClientAudit(em: Em, clientId: string, page: { limit: number; cursor?: string }): Promise<{ items: AuditView[]; nextCursor: string | null }> {
  await getClient(em, clientId);
  let query = kysely(em).selectFrom('audit_event as a').leftJoin('app_user as u', 'u.id', 'a.actor_id')
    .select((eb) => ['a.id', 'a.at', cursorTime(eb.ref('a.at')).as('cursor_at'), 'a.actor_id', 'u.name as actor_name', 'a.action', 'a.entity_type', 'a.entity_id', 'a.details'])
    .where('a.client_id', '=', clientId);
  if (page.cursor) {
    const pos = decodeCursor(page.cursor);
    query = query.where((eb) => eb(eb.refTuple('a.at', 'a.id'), '<', eb.tuple(cursorTimestamp(pos), pos.id)));
  }
  const rows = await query.orderBy('a.at', 'desc').orderBy('a.id', 'desc').limit(page.limit + 1).execute();
  const more = rows.length > page.limit;
  const items = rows.slice(0, page.limit);
  const last = items[items.length - 1];
  return {
    items: items.map((r) => ({
      id: r.id, at: new Date(r.at).toISOString(), actor: r.actor_id ? { id: r.actor_id, name: r.actor_name ?? '' } : null,
      action: r.action, entityType: r.entity_type, entityId: r.entity_id,
      details: r.details,
    })),
    nextCursor: more && last ? encodeCursor({ at: last.cursor_at, id: last.id }) : null,
  };
}
