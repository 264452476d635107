// In-app notifications for staff (the bell) and firm-wide settings stored as one JSON value per key.
// A notification points at what it is about; it never carries client mail content beyond a title.
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import { Client } from '../crm/client.entity.ts';
import { FileRequest } from '../collaboration/file-request.entity.ts';
import { Message } from '../mail/message.entity.ts';
import { Task } from '../log/task.entity.ts';
import { User } from './user.entity.ts';

export const Notification = defineEntity({
  name: 'Notification',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    user: () => p.manyToOne(User).deleteRule('cascade'),
    /** request_replied, request_documents, request_fulfilled, request_held, request_overdue, ... */
    kind: p.string(),
    title: p.text(),
    body: p.text().default(''),
    client: () => p.manyToOne(Client).nullable().deleteRule('cascade'),
    fileRequest: () => p.manyToOne(FileRequest).nullable().deleteRule('cascade'),
    message: () => p.manyToOne(Message).nullable().deleteRule('set null'),
    task: () => p.manyToOne(Task).nullable().deleteRule('cascade'),
    /** Web-app path the notification opens (e.g. /clients/<id>?tab=discussions). */
    link: p.text().nullable(),
    readAt: p.datetime().nullable(),
    /** Still to be mailed in the user's next client-mail digest. */
    emailPending: p.boolean().default(false),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export type Notification = InferEntity<typeof Notification>;

export const FirmSetting = defineEntity({
  name: 'FirmSetting',
  properties: {
    key: p.text().primary(),
    value: p.json<Record<string, unknown>>(),
    updatedBy: () => p.manyToOne(User).nullable().deleteRule('set null'),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});
export type FirmSetting = InferEntity<typeof FirmSetting>;
