// Appends to the audit trail inside the caller's unit of work (it commits with the change it records).
import type { EntityManager } from '@mikro-orm/core';
import { sql } from 'kysely';
import { kysely, type Em } from '../platform/db.ts';
import { AuditEvent } from './audit-event.entity.ts';

export type AuditInput = {
  actorId: string | null;
  action: string;
  entityType: string;
  entityId?: string | null;
  clientId?: string | null;
  details?: Record<string, unknown>;
};

export function recordAudit(em: EntityManager, e: AuditInput): void {
  em.create(AuditEvent, {
    actor: e.actorId,
    action: e.action,
    entityType: e.entityType,
    entityId: e.entityId ?? null,
    clientId: e.clientId ?? null,
    details: e.details ?? {},
  });
}

/**
 * The round trip of a 'ping' job (recorded by the worker that ran it as a system.ping audit event):
 * null while no worker has run it yet. details is jsonb: its fields are read with ->> (no builder form).
 */
export async function findPingRoundTrip(em: Em, text: string): Promise<{ latencyMs: number | null } | null> {
  const row = await kysely(em).selectFrom('audit_event')
    .select(sql<number | null>`(details->>'latencyMs')::int`.as('latency'))
    .where('action', '=', 'system.ping')
    .where(sql<string>`details->>'text'`, '=', text)
    .limit(1)
    .executeTakeFirst();
  return row ? { latencyMs: row.latency === null ? null : Number(row.latency) } : null;
}
