// Due tasks notify their assignee (the bell, and an email copy when the user asked for email): a delayed
// 'task-due' job per due time for punctuality, and a minutely scan for what the queue lost (an embedded
// restart keeps no delayed jobs; a Redis flush loses them). Claiming a task is one UPDATE, so the job and
// the scan never notify twice for the same due time.
import { sql } from 'kysely';
import { kysely, type Db, type Em } from '../platform/db.ts';
import type { JobQueue } from '../platform/jobs.ts';
import { enqueueSend } from '../outbox/outbox.ts';
import { createNotification } from './staff-notifications.ts';

/** A due time this close ahead counts as due (timer jitter). */
const EARLY_MS = 1000;

/** Notifies for the given task (or every unclaimed due one) that is due by `now`; returns how many, and outbox rows to send. */
async function notifyDue(em: Em, opts: { taskId?: string; now: Date; publicUrl?: string }): Promise<{ notified: number; outboxIds: string[] }> {
  const dueBy = new Date(opts.now.getTime() + EARLY_MS);
  let claim = kysely(em).updateTable('task')
    .set({ notified_due_at: sql`due_at` })
    .where('status', '=', 'open').where('due_at', '<=', dueBy)
    .where(sql<boolean>`notified_due_at is distinct from due_at`);
  claim = opts.taskId ? claim.where('id', '=', opts.taskId) : claim.where('id', 'in', (qb) =>
    qb.selectFrom('task').select('id').where('status', '=', 'open').where('due_at', '<=', dueBy)
      .where(sql<boolean>`notified_due_at is distinct from due_at`).orderBy('due_at').limit(500));
  const claimed = await claim.returning(['id', 'title', 'assignee_id', 'client_id']).execute();
  const outboxIds: string[] = [];
  for (const t of claimed) {
    const { outboxId } = await createNotification(em, {
      userId: t.assignee_id, kind: 'task_due', title: t.title, link: `/tasks?task=${t.id}`, clientId: t.client_id, taskId: t.id,
    }, { publicUrl: opts.publicUrl });
    if (outboxId) outboxIds.push(outboxId);
  }
  await em.flush();
  return { notified: claimed.length, outboxIds };
}

/** The 'task-due' job: notify this task's assignee if it is (still) open and due. Returns whether it notified. */
export async function runTaskDueJob(db: Db, queue: JobQueue, taskId: string, opts: { publicUrl?: string; now?: Date } = {}): Promise<boolean> {
  return (await run(db, queue, { ...opts, taskId })) > 0;
}

/** The minutely safety net: every due task not yet notified for its due time. Returns how many were notified. */
export function runTaskDueScan(db: Db, queue: JobQueue, opts: { publicUrl?: string; now?: Date } = {}): Promise<number> {
  return run(db, queue, opts);
}

async function run(db: Db, queue: JobQueue, opts: { taskId?: string; publicUrl?: string; now?: Date }): Promise<number> {
  const { notified, outboxIds } = await db.em.fork().transactional((em) => notifyDue(em, { taskId: opts.taskId, now: opts.now ?? new Date(), publicUrl: opts.publicUrl }));
  for (const id of outboxIds) await enqueueSend(queue, id);
  return notified;
}
