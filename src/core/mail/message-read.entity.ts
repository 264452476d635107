// Read state per user, kept by Dossier (issue 16): a row says this user has read this message. No row is
// unread. The mailbox's own \Seen flag is never read or written for this (sync opens folders read-only).
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { User } from '../staff/user.entity.ts';
import { Message } from './message.entity.ts';

export const MessageRead = defineEntity({
  name: 'MessageRead',
  // The primary key (user, message) answers "has this user read it" per listed row; this one serves the
  // cascade when a message is deleted.
  indexes: [{ properties: ['message'] }],
  properties: {
    user: () => p.manyToOne(User).primary().deleteRule('cascade'),
    message: () => p.manyToOne(Message).primary().deleteRule('cascade'),
    readAt: p.datetime().onCreate(() => new Date()),
  },
});
export type MessageRead = InferEntity<typeof MessageRead>;
