// Mail from or to a contact who belongs to several clients and asks staff which one ("ask" filing, issue 15):
// it is in no client's log until someone files it; filing it by hand removes the row. Shown as Inbox+'s
// "Needs a client" view, and unfiled.
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { Message } from './message.entity.ts';

export const MessageAwaitingClient = defineEntity({
  name: 'MessageAwaitingClient',
  properties: {
    message: () => p.manyToOne(Message).primary().deleteRule('cascade'),
    /** The clients it could go to when it arrived (the asking contacts' clients). */
    clientIds: p.array().default([]),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export type MessageAwaitingClient = InferEntity<typeof MessageAwaitingClient>;
