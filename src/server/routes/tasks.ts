// Follow-up tasks (issue 15): thin handlers over core/log/tasks.ts. After each commit the due-time job is
// (re)scheduled; a job for an old due time finds nothing to do, and the minutely scan covers lost jobs.
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import type { JobQueue } from '../../core/platform/jobs.ts';
import { recordAudit } from '../../core/staff/audit.ts';
import {
  countOpenTasks, createTask, deleteTask, getTaskView, listTasks, rotateCalendarFeed, taskDueJob, updateTask,
} from '../../core/log/tasks.ts';
import type { Task } from '../../core/log/task.entity.ts';
import { currentUser } from '../auth.ts';
import { STATUS } from '../errors.ts';
import { IdParams } from '../schemas.ts';
import { CalendarFeedCreated, TaskCount, TaskCreate, TaskCreated, TaskListQuery, TaskPage, TaskPatch, TaskView } from '../schemas/tasks.ts';

async function scheduleDue(queue: JobQueue, task: Task): Promise<void> {
  const job = taskDueJob(task);
  if (job) await queue.enqueue('task-due', { taskId: job.taskId }, { delayMs: job.delayMs, jobId: job.jobId });
}

export async function taskRoutes(app: FastifyInstance) {
  const tags = ['tasks'];

  app.post<{ Body: TaskCreate }>('/tasks', { schema: { tags, body: TaskCreate, response: { 201: TaskCreated } } }, async (req, reply) => {
    const actor = currentUser(req);
    const task = await createTask(req.em, actor, req.body);
    recordAudit(req.em, { actorId: actor.id, action: 'task.create', entityType: 'task', entityId: task.id, clientId: task.client?.id ?? null, details: { title: task.title } });
    await req.em.flush();
    await scheduleDue(app.deps.queue, task);
    return reply.status(STATUS.created).send({ task: await getTaskView(req.em, task.id) });
  });

  app.get<{ Querystring: TaskListQuery }>('/tasks', { schema: { tags, querystring: TaskListQuery, response: { 200: TaskPage } } }, async (req) => {
    const { assignee, status, clientId, limit, cursor } = req.query;
    // A client's tasks are everyone's; otherwise the list is one person's, the caller's unless named.
    const assigneeId = assignee && assignee !== 'me' ? assignee : clientId && !assignee ? undefined : currentUser(req).id;
    return listTasks(req.em, currentUser(req), { assigneeId, status, clientId }, { limit: limit ?? 50, cursor });
  });

  app.get('/tasks/count', { schema: { tags, response: { 200: TaskCount } } }, async (req) => countOpenTasks(req.em, currentUser(req)));

  app.get<{ Params: Static<typeof IdParams> }>('/tasks/:id', { schema: { tags, params: IdParams, response: { 200: TaskView } } }, async (req) => getTaskView(req.em, req.params.id));

  app.patch<{ Params: Static<typeof IdParams>; Body: TaskPatch }>('/tasks/:id', {
    schema: { tags, params: IdParams, body: TaskPatch, response: { 200: TaskView } },
  }, async (req) => {
    const task = await updateTask(req.em, req.params.id, req.body);
    recordAudit(req.em, { actorId: currentUser(req).id, action: 'task.update', entityType: 'task', entityId: task.id, clientId: task.client?.id ?? null, details: { ...req.body } });
    await req.em.flush();
    await scheduleDue(app.deps.queue, task);
    return getTaskView(req.em, task.id);
  });

  app.delete<{ Params: Static<typeof IdParams> }>('/tasks/:id', { schema: { tags, params: IdParams } }, async (req, reply) => {
    const before = await getTaskView(req.em, req.params.id);
    await deleteTask(req.em, req.params.id);
    recordAudit(req.em, { actorId: currentUser(req).id, action: 'task.delete', entityType: 'task', entityId: before.id, clientId: before.client?.id ?? null, details: { title: before.title } });
    await req.em.flush();
    return reply.status(STATUS.noContent).send();
  });

  app.post('/me/calendar-feed', { schema: { tags, response: { 200: CalendarFeedCreated } } }, async (req) => {
    const user = currentUser(req);
    const token = await rotateCalendarFeed(req.em, user.id);
    recordAudit(req.em, { actorId: user.id, action: 'calendar_feed.rotate', entityType: 'user', entityId: user.id });
    await req.em.flush();
    return { url: `${app.deps.config.publicUrl}/calendar/${token}.ics` };
  });
}
