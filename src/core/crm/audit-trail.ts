// Reads a client's audit trail (who created, edited, filed, unfiled, deleted what, and when), newest
// first. Writing is audit.ts's job; rows are never changed here.
import type { Em } from '../platform/db.ts';
import { getClient } from './clients.ts';
import { cursorTimeSql, decodeCursor, encodeCursor } from '../platform/keyset-cursor.ts';

export type AuditView = {
  id: string; at: string; actor: { id: string; name: string } | null; action: string; entityType: string; entityId: string | null;
  details: Record<string, unknown>;
};

export async function listClientAudit(em: Em, clientId: string, page: { limit: number; cursor?: string }): Promise<{ items: AuditView[]; nextCursor: string | null }> {
  await getClient(em, clientId);
  const params: unknown[] = [clientId];
  let where = 'a.client_id = ?';
  if (page.cursor) {
    const pos = decodeCursor(page.cursor);
    where += ' and (a.at, a.id) < (?::timestamptz, ?::uuid)';
    params.push(pos.at, pos.id);
  }
  const rows = await em.execute<{ id: string; at: Date; cursor_at: string; actor_id: string | null; actor_name: string | null; action: string; entity_type: string; entity_id: string | null; details: unknown }[]>(
    `select a.id, a.at, ${cursorTimeSql('a.at')} as cursor_at, a.actor_id, u.name as actor_name, a.action, a.entity_type, a.entity_id, a.details
     from audit_event a left join app_user u on u.id = a.actor_id
     where ${where} order by a.at desc, a.id desc limit ?`,
    [...params, page.limit + 1],
  );
  const more = rows.length > page.limit;
  const items = rows.slice(0, page.limit);
  const last = items[items.length - 1];
  return {
    items: items.map((r) => ({
      id: r.id, at: new Date(r.at).toISOString(), actor: r.actor_id ? { id: r.actor_id, name: r.actor_name ?? '' } : null,
      action: r.action, entityType: r.entity_type, entityId: r.entity_id,
      details: (typeof r.details === 'string' ? JSON.parse(r.details) : r.details) as Record<string, unknown>,
    })),
    nextCursor: more && last ? encodeCursor({ at: last.cursor_at, id: last.id }) : null,
  };
}
