// Append-only audit trail: who did what to which object, and when. Rows are never updated or deleted;
// client_id has no foreign key so the trail outlives the client it describes.
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import { User } from './user.entity.ts';

export const AuditEvent = defineEntity({
  name: 'AuditEvent',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    at: p.datetime().onCreate(() => new Date()),
    actor: () => p.manyToOne(User).nullable().deleteRule('set null'),
    action: p.string(),
    entityType: p.string(),
    entityId: p.uuid().nullable(),
    clientId: p.uuid().nullable().index(),
    details: p.json<Record<string, unknown>>().default('{}'),
  },
});
export type AuditEvent = InferEntity<typeof AuditEvent>;
