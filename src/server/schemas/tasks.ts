// API contract for follow-up tasks and the calendar feed (issue 15).
import { Type, type Static } from 'typebox';
import { DateTime, PageQuery, Uuid, page, Nullable } from '../schemas.ts';

const Ref = Type.Object({ id: Uuid, name: Type.String() });
export const TaskStatus = Type.Union([Type.Literal('open'), Type.Literal('done')]);

export const TaskView = Type.Object({
  id: Uuid, title: Type.String(), dueAt: Nullable(DateTime), status: TaskStatus, notes: Type.String(),
  assignee: Ref, createdBy: Nullable(Ref), client: Nullable(Ref), communicationId: Nullable(Uuid), messageId: Nullable(Uuid),
  doneAt: Nullable(DateTime), createdAt: DateTime, updatedAt: DateTime,
});
export type TaskView = Static<typeof TaskView>;
export const TaskCreated = Type.Object({ task: TaskView });
export const TaskPage = page(TaskView);

const Title = Type.String({ minLength: 1, maxLength: 300 });
const Notes = Type.String({ maxLength: 20000 });

export const TaskCreate = Type.Object({
  title: Title,
  dueAt: Type.Optional(Nullable(DateTime)),
  assigneeId: Type.Optional(Uuid),
  clientId: Type.Optional(Nullable(Uuid)),
  communicationId: Type.Optional(Nullable(Uuid)),
  messageId: Type.Optional(Nullable(Uuid)),
  notes: Type.Optional(Notes),
}, { additionalProperties: false });
export type TaskCreate = Static<typeof TaskCreate>;

export const TaskPatch = Type.Object({
  title: Type.Optional(Title),
  dueAt: Type.Optional(Nullable(DateTime)),
  assigneeId: Type.Optional(Uuid),
  status: Type.Optional(TaskStatus),
  notes: Type.Optional(Notes),
}, { additionalProperties: false, minProperties: 1 });
export type TaskPatch = Static<typeof TaskPatch>;

export const TaskListQuery = Type.Object({
  /** `me` (the default) or a user id. */
  assignee: Type.Optional(Type.Union([Type.Literal('me'), Uuid])),
  status: Type.Optional(TaskStatus),
  clientId: Type.Optional(Uuid),
  ...PageQuery,
}, { additionalProperties: false });
export type TaskListQuery = Static<typeof TaskListQuery>;

export const TaskCount = Type.Object({ open: Type.Integer(), overdue: Type.Integer() });
export const CalendarFeedCreated = Type.Object({ url: Type.String() });
export const CalendarParams = Type.Object({ file: Type.String({ maxLength: 200 }) });
