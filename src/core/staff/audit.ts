// Appends to the audit trail inside the caller's unit of work (it commits with the change it records).
import type { EntityManager } from '@mikro-orm/core';
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
