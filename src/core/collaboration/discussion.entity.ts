// Discussions (Caseware's "debate") with a client's contact group: one mail thread rooted at
// root_message_id_header; comments come from staff (app) or from participants' replies (mail).
// A reply from someone who is not a participant is kept as a 'held' comment, never shown as posted.
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import { Client, ContactEmail } from '../crm/client.entity.ts';
import { MailAccount } from '../mail/mail-account.entity.ts';
import { Message } from '../mail/message.entity.ts';
import { LANGUAGES, User } from '../staff/user.entity.ts';

export const DISCUSSION_COMMENT_STATUSES = ['posted', 'held'] as const;
export type DiscussionCommentStatus = (typeof DISCUSSION_COMMENT_STATUSES)[number];

export const Discussion = defineEntity({
  name: 'Discussion',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    client: () => p.manyToOne(Client).deleteRule('cascade'),
    account: () => p.manyToOne(MailAccount).nullable().deleteRule('set null'),
    createdBy: () => p.manyToOne(User).nullable().deleteRule('set null'),
    subject: p.text(),
    /** Language of the thread's wording (one mail to the whole group). */
    language: p.enum(LANGUAGES),
    /** Message-ID (no angle brackets) of the opening mail: the root every reply references. */
    rootMessageIdHeader: p.text(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});
export type Discussion = InferEntity<typeof Discussion>;

export const DiscussionParticipant = defineEntity({
  name: 'DiscussionParticipant',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    discussion: () => p.manyToOne(Discussion).deleteRule('cascade'),
    contactEmail: () => p.manyToOne(ContactEmail).nullable().deleteRule('set null'),
    /** Normalised address at the time of posting: replies are matched against it. */
    address: p.text(),
    name: p.text().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export type DiscussionParticipant = InferEntity<typeof DiscussionParticipant>;

export const DiscussionComment = defineEntity({
  name: 'DiscussionComment',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    discussion: () => p.manyToOne(Discussion).deleteRule('cascade'),
    status: p.enum(DISCUSSION_COMMENT_STATUSES).default('posted'),
    /** Staff author (comment from the app or the opening post); null for a reply by mail. */
    authorUser: () => p.manyToOne(User).nullable().deleteRule('set null'),
    /** Sender address of a reply by mail. */
    authorAddress: p.text().nullable(),
    authorName: p.text().nullable(),
    body: p.text(),
    /** The stored mail this comment is (a reply), or the synced copy of the mail we sent. */
    message: () => p.manyToOne(Message).nullable().deleteRule('set null'),
    /** Message-ID (no angle brackets) of the mail carrying this comment: replies may reference it. */
    messageIdHeader: p.text().nullable(),
    outboxId: p.uuid().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export type DiscussionComment = InferEntity<typeof DiscussionComment>;
