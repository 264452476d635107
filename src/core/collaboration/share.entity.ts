// Document shares: chosen client documents sent to chosen contacts as per-recipient signed download
// links (no login). Only a SHA-256 of each token is stored; downloads are recorded per link.
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import { Client, ContactEmail } from '../crm/client.entity.ts';
import { Document } from '../documents/document.entity.ts';
import { MailAccount } from '../mail/mail-account.entity.ts';
import { LANGUAGES, User } from '../staff/user.entity.ts';

export const Share = defineEntity({
  name: 'Share',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    client: () => p.manyToOne(Client).deleteRule('cascade'),
    account: () => p.manyToOne(MailAccount).nullable().deleteRule('set null'),
    createdBy: () => p.manyToOne(User).nullable().deleteRule('set null'),
    message: p.text().default(''),
    expiresAt: p.datetime(),
    revokedAt: p.datetime().nullable(),
    revokedBy: () => p.manyToOne(User).nullable().deleteRule('set null'),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export type Share = InferEntity<typeof Share>;

export const ShareRecipient = defineEntity({
  name: 'ShareRecipient',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    share: () => p.manyToOne(Share).deleteRule('cascade'),
    contactEmail: () => p.manyToOne(ContactEmail).nullable().deleteRule('set null'),
    address: p.text(),
    name: p.text().nullable(),
    language: p.enum(LANGUAGES),
    outboxId: p.uuid().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export type ShareRecipient = InferEntity<typeof ShareRecipient>;

export const ShareLink = defineEntity({
  name: 'ShareLink',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    shareRecipient: () => p.manyToOne(ShareRecipient).deleteRule('cascade'),
    document: () => p.manyToOne(Document).deleteRule('cascade'),
    /** sha256 hex of the token sent in the mail; the token itself is never stored. */
    tokenHash: p.string().unique(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export type ShareLink = InferEntity<typeof ShareLink>;

export const ShareDownload = defineEntity({
  name: 'ShareDownload',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    shareLink: () => p.manyToOne(ShareLink).deleteRule('cascade'),
    at: p.datetime().onCreate(() => new Date()),
    ip: p.text().nullable(),
    userAgent: p.text().nullable(),
  },
});
export type ShareDownload = InferEntity<typeof ShareDownload>;
