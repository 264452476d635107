// The communication log (a3ASESOR's registro): one record per client per email (filing is
// materialised so records carry tags and can be unfiled), plus manual records of calls, visits, letters.
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import { Client } from '../crm/client.entity.ts';
import { Message } from '../mail/message.entity.ts';
import { User } from '../staff/user.entity.ts';

export const COMMUNICATION_KINDS = ['email', 'call', 'visit', 'meeting', 'letter', 'other'] as const;
export type CommunicationKind = (typeof COMMUNICATION_KINDS)[number];
export const INITIATORS = ['client', 'firm'] as const;
export type Initiator = (typeof INITIATORS)[number];

export const Reason = defineEntity({
  name: 'Reason',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    name: p.string().unique(),
    active: p.boolean().default(true),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export type Reason = InferEntity<typeof Reason>;

export const Area = defineEntity({
  name: 'Area',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    name: p.string().unique(),
    active: p.boolean().default(true),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export type Area = InferEntity<typeof Area>;

export const Communication = defineEntity({
  name: 'Communication',
  // Filing is idempotent: one record per (client, message). Manual records have no message.
  uniques: [{ properties: ['client', 'message'] }],
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    client: () => p.manyToOne(Client).deleteRule('cascade'),
    kind: p.enum(COMMUNICATION_KINDS),
    subject: p.text(),
    notes: p.text().default(''),
    occurredAt: p.datetime().index(),
    initiatedBy: p.enum(INITIATORS),
    reason: () => p.manyToOne(Reason).nullable().deleteRule('set null'),
    area: () => p.manyToOne(Area).nullable().deleteRule('set null'),
    author: () => p.manyToOne(User).nullable().deleteRule('set null'),
    message: () => p.manyToOne(Message).nullable().deleteRule('cascade'),
    /** How an email record got here: by address match in sync/retroactive filing, or by hand. */
    filedBy: p.enum(['auto', 'manual'] as const).nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});
export type Communication = InferEntity<typeof Communication>;

/** Staff unfiled this message from this client (or deleted its record): automatic filing must not bring
 *  it back when an address is re-enabled or re-linked. Filing it by hand lifts the exclusion. */
export const FilingExclusion = defineEntity({
  name: 'FilingExclusion',
  properties: {
    client: () => p.manyToOne(Client).primary().deleteRule('cascade'),
    message: () => p.manyToOne(Message).primary().deleteRule('cascade'),
    createdBy: () => p.manyToOne(User).nullable().deleteRule('set null'),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export type FilingExclusion = InferEntity<typeof FilingExclusion>;
