// The CRM shape (TaxDome's): a client account links to many contacts, a contact may belong to several
// clients, and each of a contact's addresses carries its own switches (sync, notify, auto-save).
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import { LANGUAGES, User } from '../staff/user.entity.ts';

export const NOTIFY_CATEGORIES = ['documents', 'file_requests', 'reminders', 'messages'] as const;
export type NotifyCategory = (typeof NOTIFY_CATEGORIES)[number];

export const Client = defineEntity({
  name: 'Client',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    name: p.string().index(),
    taxId: p.string().nullable().index(),
    notes: p.text().default(''),
    /** Visible only to its team (client_team) and to admins (core/mail/visibility.ts visibleClient). */
    restricted: p.boolean().default(false),
    createdBy: () => p.manyToOne(User).nullable().deleteRule('set null'),
    /** The responsible staff member: told of new mail filed to the client (their clientMailNotice). */
    owner: () => p.manyToOne(User).nullable().deleteRule('set null').index(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});
export type Client = InferEntity<typeof Client>;

/** Where a contact's mail goes when the contact belongs to several clients (issue 15). */
export const CONTACT_FILINGS = ['all', 'primary', 'ask'] as const;
export type ContactFiling = (typeof CONTACT_FILINGS)[number];

/** The staff who may see a restricted client (admins always may). */
export const ClientTeam = defineEntity({
  name: 'ClientTeam',
  properties: {
    client: () => p.manyToOne(Client).primary().deleteRule('cascade'),
    user: () => p.manyToOne(User).primary().deleteRule('cascade').index(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export type ClientTeam = InferEntity<typeof ClientTeam>;

export const Contact = defineEntity({
  name: 'Contact',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    name: p.string(),
    notes: p.text().default(''),
    /** all: every client (the default); primary: primaryClient only; ask: staff choose (log/contact-filing.ts). */
    filing: p.enum(CONTACT_FILINGS).default('all'),
    primaryClient: () => p.manyToOne(Client).nullable().deleteRule('set null'),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});
export type Contact = InferEntity<typeof Contact>;

export const ClientContact = defineEntity({
  name: 'ClientContact',
  properties: {
    client: () => p.manyToOne(Client).primary().deleteRule('cascade'),
    contact: () => p.manyToOne(Contact).primary().deleteRule('cascade'),
    /** Free text such as "director" or "spouse". */
    role: p.string().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export type ClientContact = InferEntity<typeof ClientContact>;

export const ContactEmail = defineEntity({
  name: 'ContactEmail',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    contact: () => p.manyToOne(Contact).deleteRule('cascade'),
    /** Normalised (core/mail/addresses.ts); one address belongs to one contact. */
    address: p.text().unique(),
    sync: p.boolean().default(true),
    notify: p.boolean().default(true),
    notifyCategories: p.array().default([...NOTIFY_CATEGORIES]),
    autoSaveAttachments: p.boolean().default(false),
    language: p.enum(LANGUAGES).default('en'),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});
export type ContactEmail = InferEntity<typeof ContactEmail>;
