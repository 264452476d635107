// Follow-up tasks: create, read, list, change and delete, and the calendar feed's secret and contents.
// Tasks are the firm's work list (any staff member may see and change them, like the client log); a task
// that names a message needs the caller to see that message, so a task cannot be used to probe private mail.
// Never flushes and never enqueues: the route commits, then schedules the due-time job (taskDueJob).
import { createHash, randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { kysely, type Em } from '../platform/db.ts';
import { InvalidInputError, NotFoundError } from '../platform/errors.ts';
import { cleanHeaderText } from '../platform/text.ts';
import { filterVisibleClientIds, isMessageVisible, visibleClient, type Viewer } from '../mail/visibility.ts';
import { CalendarFeed, Task, type TaskStatus } from './task.entity.ts';

export type Ref = { id: string; name: string };
export type TaskView = {
  id: string; title: string; dueAt: string | null; status: TaskStatus; notes: string;
  assignee: Ref; createdBy: Ref | null; client: Ref | null; communicationId: string | null; messageId: string | null;
  doneAt: string | null; createdAt: string; updatedAt: string;
};
export type TaskInput = {
  title: string; dueAt?: string | null; assigneeId?: string; clientId?: string | null;
  communicationId?: string | null; messageId?: string | null; notes?: string;
};
export type TaskPatch = Partial<{ title: string; dueAt: string | null; assigneeId: string; status: TaskStatus; notes: string }>;
export type TaskFilters = { assigneeId?: string; status?: TaskStatus; clientId?: string };

const TITLE_MAX = 300;

function cleanTitle(title: string): string {
  const clean = cleanHeaderText(title).trim().slice(0, TITLE_MAX);
  if (!clean) throw new InvalidInputError('invalid_input', 'title is required', 'title');
  return clean;
}

const parseDue = (dueAt: string | null | undefined): Date | null => (dueAt ? new Date(dueAt) : null);

async function requireActiveUser(em: Em, id: string, field: string): Promise<string> {
  const row = await kysely(em).selectFrom('app_user').select('id').where('id', '=', id).where('active', '=', true).executeTakeFirst();
  if (!row) throw new InvalidInputError('unknown_reference', `${field} names no active user`, field);
  return row.id;
}

/** A client the actor may see (a restricted client of another team reads as no client at all). */
async function requireClient(em: Em, actor: Viewer, id: string): Promise<string> {
  const row = await kysely(em).selectFrom('client as c').select('c.id').where('c.id', '=', id).where(visibleClient(actor, 'c.id')).executeTakeFirst();
  if (!row) throw new InvalidInputError('unknown_reference', 'clientId names no client', 'clientId');
  return row.id;
}

/** The client a log record or a message belongs to when the caller named none (a message filed to one client only). */
async function impliedClient(em: Em, actor: Viewer, communicationId: string | null, messageId: string | null): Promise<string | null> {
  if (communicationId) {
    const row = await kysely(em).selectFrom('communication').select('client_id').where('id', '=', communicationId).executeTakeFirst();
    return row?.client_id ?? null;
  }
  if (messageId) {
    // Of the clients the actor may see: a restricted client they are not on is never implied.
    const rows = await kysely(em).selectFrom('communication').select('client_id').where('message_id', '=', messageId)
      .where(visibleClient(actor, 'communication.client_id')).limit(2).execute();
    return rows.length === 1 ? rows[0]!.client_id : null;
  }
  return null;
}

export async function createTask(em: Em, actor: Viewer, input: TaskInput): Promise<Task> {
  const title = cleanTitle(input.title);
  const assignee = await requireActiveUser(em, input.assigneeId ?? actor.id, 'assigneeId');
  const communicationId = input.communicationId ?? null;
  const messageId = input.messageId ?? null;
  if (communicationId) {
    const found = await kysely(em).selectFrom('communication').select(['id', 'client_id']).where('id', '=', communicationId).executeTakeFirst();
    if (!found || !(await filterVisibleClientIds(em, actor, [found.client_id])).length) throw new NotFoundError('Communication');
  }
  // 404, not 422: whether a message id exists is itself private when the caller cannot see it.
  if (messageId && !(await isMessageVisible(em, actor, messageId))) throw new NotFoundError('Message');
  const clientId = input.clientId ? await requireClient(em, actor, input.clientId) : await impliedClient(em, actor, communicationId, messageId);
  return em.create(Task, {
    title, notes: input.notes ?? '', dueAt: parseDue(input.dueAt), status: 'open', assignee, createdBy: actor.id,
    client: clientId, communication: communicationId, message: messageId,
  });
}

async function loadTask(em: Em, id: string): Promise<Task> {
  const task = await em.findOne(Task, { id });
  if (!task) throw new NotFoundError('Task');
  return task;
}

export async function updateTask(em: Em, id: string, patch: TaskPatch): Promise<Task> {
  const task = await loadTask(em, id);
  if (patch.title !== undefined) task.title = cleanTitle(patch.title);
  if (patch.notes !== undefined) task.notes = patch.notes;
  if (patch.dueAt !== undefined) task.dueAt = parseDue(patch.dueAt);
  if (patch.assigneeId !== undefined) em.assign(task, { assignee: await requireActiveUser(em, patch.assigneeId, 'assigneeId') });
  if (patch.status !== undefined && patch.status !== task.status) {
    task.status = patch.status;
    task.doneAt = patch.status === 'done' ? new Date() : null;
  }
  task.revision += 1;
  return task;
}

export async function deleteTask(em: Em, id: string): Promise<void> {
  em.remove(await loadTask(em, id));
}

/** The due-time job for a task, or null when none is needed (done, no due time). Its id changes with the due time. */
export function taskDueJob(task: Pick<Task, 'id' | 'status' | 'dueAt'>, now = Date.now()): { taskId: string; delayMs: number; jobId: string } | null {
  if (task.status !== 'open' || !task.dueAt) return null;
  return { taskId: task.id, delayMs: Math.max(0, task.dueAt.getTime() - now), jobId: `task-due-${task.id}-${task.dueAt.getTime()}` };
}

// ---------------------------------------------------------------- reading

/** Undated tasks sort after every dated one (a real timestamp: to_char has no rendering of 'infinity'). */
const UNDATED = sql`coalesce(t.due_at, '9999-12-31T00:00:00Z'::timestamptz)`;

function selectTasks(em: Em) {
  return kysely(em).selectFrom('task as t')
    .innerJoin('app_user as a', 'a.id', 't.assignee_id')
    .leftJoin('app_user as cb', 'cb.id', 't.created_by_id')
    .leftJoin('client as c', 'c.id', 't.client_id')
    .select([
      't.id', 't.title', 't.notes', 't.due_at', 't.status', 't.done_at', 't.created_at', 't.updated_at', 't.communication_id', 't.message_id',
      'a.id as assignee_id', 'a.name as assignee_name', 'cb.id as created_by_id', 'cb.name as created_by_name', 'c.id as client_id', 'c.name as client_name',
      // The list's order: open before done, then by due time (none last), then id. Kept as text for the cursor.
      sql<number>`(case when t.status = 'open' then 0 else 1 end)`.as('rank'),
      sql<string>`to_char(${UNDATED} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('sort_at'),
    ]);
}
type TaskRow = Awaited<ReturnType<ReturnType<typeof selectTasks>['executeTakeFirstOrThrow']>>;

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

function toView(r: TaskRow): TaskView {
  return {
    id: r.id, title: r.title, notes: r.notes, dueAt: iso(r.due_at), status: r.status as TaskStatus,
    assignee: { id: r.assignee_id, name: r.assignee_name },
    createdBy: r.created_by_id ? { id: r.created_by_id, name: r.created_by_name ?? '' } : null,
    client: r.client_id ? { id: r.client_id, name: r.client_name ?? '' } : null,
    communicationId: r.communication_id, messageId: r.message_id,
    doneAt: iso(r.done_at), createdAt: iso(r.created_at)!, updatedAt: iso(r.updated_at)!,
  };
}

export async function getTaskView(em: Em, id: string): Promise<TaskView> {
  const row = await selectTasks(em).where('t.id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError('Task');
  return toView(row);
}

type TaskCursor = [rank: number, sortAt: string, id: string];

function encodeTaskCursor(c: TaskCursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeTaskCursor(cursor: string): TaskCursor {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 3 && (v[0] === 0 || v[0] === 1) && typeof v[1] === 'string' && /^\d{4}-\d{2}-\d{2}T[\d:.]+Z$/u.test(v[1])
      && typeof v[2] === 'string' && /^[0-9a-f-]{36}$/iu.test(v[2])) return v as TaskCursor;
  } catch { /* not ours */ }
  throw new InvalidInputError('invalid_cursor', 'The cursor is not one this server handed out', 'cursor');
}

/** A page of tasks: open first (soonest due first, undated last), then done; keyset over (rank, due, id). */
export async function listTasks(em: Em, viewer: Viewer, filters: TaskFilters, page: { limit: number; cursor?: string }): Promise<{ items: TaskView[]; nextCursor: string | null }> {
  const rank = sql<number>`(case when t.status = 'open' then 0 else 1 end)`;
  let q = selectTasks(em).where((eb) => eb.or([eb('t.client_id', 'is', null), visibleClient(viewer, 't.client_id')]));
  if (filters.assigneeId) q = q.where('t.assignee_id', '=', filters.assigneeId);
  if (filters.status) q = q.where('t.status', '=', filters.status);
  if (filters.clientId) q = q.where('t.client_id', '=', filters.clientId);
  if (page.cursor) {
    const [r, at, id] = decodeTaskCursor(page.cursor);
    q = q.where(sql<boolean>`(${rank}, ${UNDATED}, t.id) > (${r}::int, ${at}::timestamptz, ${id}::uuid)`);
  }
  const rows = await q.orderBy(rank).orderBy(UNDATED).orderBy('t.id').limit(page.limit + 1).execute();
  const items = rows.slice(0, page.limit);
  const last = items[items.length - 1];
  return {
    items: items.map(toView),
    nextCursor: rows.length > page.limit && last ? encodeTaskCursor([Number(last.rank), last.sort_at, last.id]) : null,
  };
}

/** Open tasks of one user and how many of them are overdue (the navigation's count). */
export async function countOpenTasks(em: Em, viewer: Viewer, now = new Date()): Promise<{ open: number; overdue: number }> {
  const userId = viewer.id;
  const row = await kysely(em).selectFrom('task')
    .select([
      sql<number>`count(*)::int`.as('open'),
      sql<number>`(count(*) filter (where due_at <= ${now}))::int`.as('overdue'),
    ])
    .where('assignee_id', '=', userId).where('status', '=', 'open')
    .where((eb) => eb.or([eb('client_id', 'is', null), visibleClient(viewer, 'task.client_id')]))
    .executeTakeFirstOrThrow();
  return { open: Number(row.open), overdue: Number(row.overdue) };
}

// ---------------------------------------------------------------- calendar feed

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** A new secret feed token for the user; the previous one stops working. Returns the token (shown once). */
export async function rotateCalendarFeed(em: Em, userId: string): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  const existing = await em.findOne(CalendarFeed, { user: userId });
  if (existing) {
    existing.tokenHash = hashToken(token);
    existing.createdAt = new Date();
  } else {
    em.create(CalendarFeed, { user: userId, tokenHash: hashToken(token) });
  }
  return token;
}

/** The owner of a feed token, or null for an unknown or replaced one (and for a deactivated user). */
export async function findCalendarFeedOwner(em: Em, token: string): Promise<{ id: string; name: string; role: string } | null> {
  if (!/^[A-Za-z0-9_-]{20,100}$/u.test(token)) return null;
  const row = await kysely(em).selectFrom('calendar_feed as f').innerJoin('app_user as u', 'u.id', 'f.user_id')
    .select(['u.id', 'u.name', 'u.role']).where('f.token_hash', '=', hashToken(token)).where('u.active', '=', true).executeTakeFirst();
  return row ?? null;
}

export type FeedTask = { id: string; title: string; notes: string; dueAt: Date; revision: number; updatedAt: Date; createdAt: Date; clientName: string | null };

/** What a user's feed shows: their open tasks that have a due time. */
export async function listFeedTasks(em: Em, owner: Viewer): Promise<FeedTask[]> {
  const userId = owner.id;
  const rows = await kysely(em).selectFrom('task as t').leftJoin('client as c', 'c.id', 't.client_id')
    .select(['t.id', 't.title', 't.notes', 't.due_at', 't.revision', 't.updated_at', 't.created_at', 'c.name as client_name'])
    .where('t.assignee_id', '=', userId).where('t.status', '=', 'open').where('t.due_at', 'is not', null)
    .where((eb) => eb.or([eb('t.client_id', 'is', null), visibleClient(owner, 't.client_id')]))
    .orderBy('t.due_at').orderBy('t.id').limit(5000)
    .execute();
  return rows.map((r) => ({
    id: r.id, title: r.title, notes: r.notes, dueAt: new Date(r.due_at!), revision: r.revision,
    updatedAt: new Date(r.updated_at), createdAt: new Date(r.created_at), clientName: r.client_name,
  }));
}
