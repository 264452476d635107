// File requests (Caseware's, answered by email): the request, its recipients (each with a reply token
// and the Message-ID of the mail they got), checklist items, received documents and the timeline.
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import { Client, ContactEmail } from '../crm/client.entity.ts';
import { Document } from '../documents/document.entity.ts';
import { MailAccount } from '../mail/mail-account.entity.ts';
import { Message } from '../mail/message.entity.ts';
import { LANGUAGES, User } from '../staff/user.entity.ts';

export const FILE_REQUEST_STATUSES = ['open', 'partially_fulfilled', 'fulfilled', 'cancelled'] as const;
export type FileRequestStatus = (typeof FILE_REQUEST_STATUSES)[number];
export const FILE_REQUEST_EVENT_KINDS = [
  'sent', 'resent', 'reminded', 'replied', 'document_received', 'held_for_review', 'accepted',
  'item_updated', 'acknowledged', 'overdue', 'cancelled', 'fulfilled',
] as const;
export type FileRequestEventKind = (typeof FILE_REQUEST_EVENT_KINDS)[number];

export const FileRequest = defineEntity({
  name: 'FileRequest',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    client: () => p.manyToOne(Client).deleteRule('cascade'),
    /** The mailbox the request (and its reminders) are sent from. */
    account: () => p.manyToOne(MailAccount).nullable().deleteRule('set null'),
    /** The owner: notified of replies, documents and overdue. */
    createdBy: () => p.manyToOne(User).nullable().deleteRule('set null'),
    subject: p.text(),
    description: p.text().default(''),
    message: p.text().default(''),
    status: p.enum(FILE_REQUEST_STATUSES).default('open'),
    /** YYYY-MM-DD (a calendar day, no zone), or null. */
    dueDate: p.text().nullable(),
    /** Existing client documents attached to the request mail ("please update this file"). */
    documentIds: p.json<string[]>().default('[]'),
    reminderCount: p.integer().default(1),
    reminderIntervalSeconds: p.integer().default(259200),
    remindersSent: p.integer().default(0),
    /** The next reminder's due time: the database, not the job queue, is the truth (jobs re-check it). */
    nextReminderAt: p.datetime().nullable(),
    overdueNotifiedAt: p.datetime().nullable(),
    sentAt: p.datetime().nullable(),
    fulfilledAt: p.datetime().nullable(),
    cancelledAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});
export type FileRequest = InferEntity<typeof FileRequest>;

export const FileRequestRecipient = defineEntity({
  name: 'FileRequestRecipient',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    fileRequest: () => p.manyToOne(FileRequest).deleteRule('cascade'),
    contactEmail: () => p.manyToOne(ContactEmail).nullable().deleteRule('set null'),
    /** Normalised, as it was when the request was sent. */
    address: p.text(),
    name: p.text().nullable(),
    language: p.enum(LANGUAGES),
    /** The plus-address token of Reply-To (`local+r-<token>@domain`). */
    token: p.text().unique(),
    /** Message-ID (no brackets) of the request mail this recipient got: replies carry it in In-Reply-To/References. */
    messageIdHeader: p.text().nullable(),
    outboxId: p.uuid().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export type FileRequestRecipient = InferEntity<typeof FileRequestRecipient>;

export const FileRequestItem = defineEntity({
  name: 'FileRequestItem',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    fileRequest: () => p.manyToOne(FileRequest).deleteRule('cascade'),
    position: p.integer(),
    label: p.text(),
    fulfilled: p.boolean().default(false),
    fulfilledAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export type FileRequestItem = InferEntity<typeof FileRequestItem>;

export const FileRequestDocument = defineEntity({
  name: 'FileRequestDocument',
  properties: {
    fileRequest: () => p.manyToOne(FileRequest).primary().deleteRule('cascade'),
    document: () => p.manyToOne(Document).primary().deleteRule('cascade'),
    item: () => p.manyToOne(FileRequestItem).nullable().deleteRule('set null'),
    message: () => p.manyToOne(Message).nullable().deleteRule('set null'),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export type FileRequestDocument = InferEntity<typeof FileRequestDocument>;

export const FileRequestEvent = defineEntity({
  name: 'FileRequestEvent',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    fileRequest: () => p.manyToOne(FileRequest).deleteRule('cascade'),
    kind: p.enum(FILE_REQUEST_EVENT_KINDS),
    at: p.datetime().onCreate(() => new Date()),
    actor: () => p.manyToOne(User).nullable().deleteRule('set null'),
    /** The client address concerned (recipient mailed, reply sender). */
    address: p.text().nullable(),
    message: () => p.manyToOne(Message).nullable().deleteRule('set null'),
    outboxId: p.uuid().nullable(),
    documentIds: p.json<string[]>().default('[]'),
    details: p.json<Record<string, unknown>>().default('{}'),
  },
});
export type FileRequestEvent = InferEntity<typeof FileRequestEvent>;
