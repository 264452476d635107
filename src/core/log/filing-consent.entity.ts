// Private-mail consent (issue 12): whether mail that lives only in one user's private mailboxes may be filed
// to a client for one address (one row per owner, address, client), and the messages their owner kept private.
// Rows only say yes or no: filing.ts reads them in its single INSERT, nothing else files private mail.
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import { Client } from '../crm/client.entity.ts';
import { Message } from '../mail/message.entity.ts';
import { User } from '../staff/user.entity.ts';

export const CONSENT_STATUSES = ['pending', 'approved', 'declined'] as const;
export type ConsentStatus = (typeof CONSENT_STATUSES)[number];

export const FilingConsent = defineEntity({
  name: 'FilingConsent',
  uniques: [{ properties: ['owner', 'address', 'client'] }],
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    /** The owner of the private mailboxes this consent is about (all of them: the person decides, not the box). */
    owner: () => p.manyToOne(User).deleteRule('cascade'),
    /** Normalised address. */
    address: p.text(),
    client: () => p.manyToOne(Client).deleteRule('cascade'),
    status: p.enum(CONSENT_STATUSES),
    /** True when someone else's action asked the owner (an approval); false for the owner's own adds. */
    asked: p.boolean().default(false),
    requestedBy: () => p.manyToOne(User).nullable().deleteRule('set null'),
    /** When the owner's bell got the request (null: not announced yet). */
    notifiedAt: p.datetime().nullable(),
    decidedAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});
export type FilingConsent = InferEntity<typeof FilingConsent>;

/** A message the owner of a private mailbox holding it keeps private: never filed, hidden from colleagues. */
export const PrivateMessage = defineEntity({
  name: 'PrivateMessage',
  properties: {
    message: () => p.manyToOne(Message).primary().deleteRule('cascade'),
    markedBy: () => p.manyToOne(User).nullable().deleteRule('set null'),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export type PrivateMessage = InferEntity<typeof PrivateMessage>;
