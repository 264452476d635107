// Mail content stored once per distinct message, and where it lives: one location per
// (mailbox, uidvalidity, uid). Addresses and attachments hang off the content row.
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import { Mailbox } from './mail-account.entity.ts';
import { messageSearchVector } from './search-terms.ts';
import { TsvectorLiteralType } from './tsvector-literal-type.ts';
import type { MessageAuthentication } from './incoming-message.ts';

export const PARSE_STATUSES = ['ok', 'partial', 'failed'] as const;
export type ParseStatus = (typeof PARSE_STATUSES)[number];
export const DIRECTIONS = ['inbound', 'outbound'] as const;
export type Direction = (typeof DIRECTIONS)[number];
export const ADDRESS_ROLES = ['from', 'sender', 'reply_to', 'to', 'cc', 'bcc'] as const;
export type AddressRole = (typeof ADDRESS_ROLES)[number];

export const Message = defineEntity({
  name: 'Message',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    messageIdHeader: p.text().nullable().index(),
    /** sha256 over the content-defining parts (see core/mail/dedupe.ts): equal for copies of one message in
     *  different mailboxes, different for two messages that merely share a Message-ID. */
    dedupeHash: p.string().unique(),
    rawBlob: p.string(),
    rawSize: p.integer(),
    subject: p.text().default(''),
    fromAddress: p.text().nullable().index(),
    fromName: p.text().nullable(),
    /** Date header when sane, else the earliest IMAP INTERNALDATE. */
    sentAt: p.datetime().index(),
    text: p.text().default(''),
    /** HTML as received (decoded to UTF-8); sanitised on the way out, never stored sanitised. */
    html: p.text().nullable().lazy(),
    snippet: p.text().default(''),
    threadId: p.uuid().index(),
    inReplyTo: p.text().nullable(),
    references: p.array().default([]),
    hasAttachments: p.boolean().default(false),
    direction: p.enum(DIRECTIONS).default('inbound'),
    parseStatus: p.enum(PARSE_STATUSES),
    parseError: p.text().nullable(),
    /** Sender verification at ingest (issue 12; see incoming-message.ts); null when not checked (stored before, or sent by us). */
    authentication: p.json<MessageAuthentication>().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    /** Full-text terms (tsvector literal, core/mail/search-terms.ts); the sync builds it in its parse threads. Never loaded. */
    search: p.type(TsvectorLiteralType).nullable().lazy().onCreate((m) => messageSearchVector(m)),
  },
});
export type Message = InferEntity<typeof Message>;

export const MessageLocation = defineEntity({
  name: 'MessageLocation',
  // The last guard against duplicates: one row per (mailbox, uidvalidity, uid).
  uniques: [{ properties: ['mailbox', 'uidValidity', 'uid'] }],
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    message: () => p.manyToOne(Message).deleteRule('cascade'),
    mailbox: () => p.manyToOne(Mailbox).deleteRule('cascade'),
    uidValidity: p.bigint('string'),
    uid: p.bigint('number'),
    flags: p.array().default([]),
    modseq: p.bigint('string').nullable(),
    internalDate: p.datetime().nullable(),
    /** Set when the server expunged it (or the folder was reset and it did not come back). */
    removedAt: p.datetime().nullable(),
    /** Copies of the message's sent_at and of "filed to a client", for the list indexes: database
     *  triggers keep them (migrations location-order, location-filed), whatever the application writes. */
    sentAt: p.datetime().nullable(),
    filed: p.boolean().default(false),
  },
});
export type MessageLocation = InferEntity<typeof MessageLocation>;

export const MessageAddress = defineEntity({
  name: 'MessageAddress',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    message: () => p.manyToOne(Message).deleteRule('cascade'),
    role: p.enum(ADDRESS_ROLES),
    address: p.text().index(),
    name: p.text().nullable(),
    position: p.integer(),
  },
});
export type MessageAddress = InferEntity<typeof MessageAddress>;

export const Attachment = defineEntity({
  name: 'Attachment',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    message: () => p.manyToOne(Message).deleteRule('cascade'),
    sha256: p.string().index(),
    filename: p.text(),
    contentType: p.text(),
    size: p.bigint('number'),
    contentId: p.text().nullable(),
    /** Inline part (Content-Disposition inline or referenced by cid:); not a "real" attachment. */
    inline: p.boolean().default(false),
    position: p.integer(),
  },
});
export type Attachment = InferEntity<typeof Attachment>;

/** Content-addressed file in the blob store; rows are written in the same transaction as their users. */
export const Blob = defineEntity({
  name: 'Blob',
  properties: {
    sha256: p.string().primary(),
    size: p.bigint('number'),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export type Blob = InferEntity<typeof Blob>;
