// Follow-up tasks (a3ASESOR's agenda): a staff member's to-do with an optional due time, optionally about a
// client, a log record or a message. Due tasks notify their assignee; open ones with a due time are in the
// assignee's calendar feed.
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import { Client } from '../crm/client.entity.ts';
import { Message } from '../mail/message.entity.ts';
import { User } from '../staff/user.entity.ts';
import { Communication } from './communication.entity.ts';

export const TASK_STATUSES = ['open', 'done'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const Task = defineEntity({
  name: 'Task',
  indexes: [{ properties: ['assignee', 'status', 'dueAt'] }, { properties: ['client'] }],
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    title: p.text(),
    notes: p.text().default(''),
    dueAt: p.datetime().nullable(),
    status: p.enum(TASK_STATUSES).default('open'),
    assignee: () => p.manyToOne(User).deleteRule('cascade'),
    createdBy: () => p.manyToOne(User).nullable().deleteRule('set null'),
    client: () => p.manyToOne(Client).nullable().deleteRule('cascade'),
    communication: () => p.manyToOne(Communication).nullable().deleteRule('set null'),
    message: () => p.manyToOne(Message).nullable().deleteRule('set null'),
    /** The due time the assignee was last notified for: a changed due time notifies again, a repeat does not. */
    notifiedDueAt: p.datetime().nullable(),
    doneAt: p.datetime().nullable(),
    /** Bumped on every change: the calendar feed's SEQUENCE, so subscribed calendars take the new version. */
    revision: p.integer().default(0),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});
export type Task = InferEntity<typeof Task>;

/** A user's secret calendar-feed address: only its sha256 is kept; a new one replaces the old. */
export const CalendarFeed = defineEntity({
  name: 'CalendarFeed',
  properties: {
    user: () => p.manyToOne(User).primary().deleteRule('cascade'),
    tokenHash: p.string().unique(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export type CalendarFeed = InferEntity<typeof CalendarFeed>;
