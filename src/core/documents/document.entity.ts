// Client documents: files saved from mail, uploaded by staff, or received for a file request.
// A document whose file was not kept (too large) stays as a visible marker with no blob.
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import { Client } from '../crm/client.entity.ts';
import { Attachment, Message } from '../mail/message.entity.ts';
import { User } from '../staff/user.entity.ts';

export const DOCUMENT_SOURCES = ['email', 'upload', 'request'] as const;
export type DocumentSource = (typeof DOCUMENT_SOURCES)[number];
export const DOCUMENT_STATUSES = ['saved', 'too_large'] as const;
export type DocumentStatus = (typeof DOCUMENT_STATUSES)[number];

export const Document = defineEntity({
  name: 'Document',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    client: () => p.manyToOne(Client).deleteRule('cascade'),
    sha256: p.string().nullable(),
    name: p.text(),
    category: p.string().nullable(),
    visibleToClient: p.boolean(),
    size: p.bigint('number'),
    contentType: p.text(),
    source: p.enum(DOCUMENT_SOURCES),
    status: p.enum(DOCUMENT_STATUSES).default('saved'),
    message: () => p.manyToOne(Message).nullable().deleteRule('set null'),
    attachment: () => p.manyToOne(Attachment).nullable().deleteRule('set null'),
    createdBy: () => p.manyToOne(User).nullable().deleteRule('set null'),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});
export type Document = InferEntity<typeof Document>;

/** The firm's managed list of document categories (staff add and rename, admins delete); documents name one as text. */
export const DocumentCategory = defineEntity({
  name: 'DocumentCategory',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    name: p.string().unique(),
    active: p.boolean().default(true),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export type DocumentCategory = InferEntity<typeof DocumentCategory>;
