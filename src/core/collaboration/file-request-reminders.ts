// File request reminders and the periodic scan. The database holds the truth (next_reminder_at): a job
// only asks "is a reminder due now?", so a lost, duplicated or early job can never send one twice or too soon.
// No SMTP: reminders are outbox rows the caller sends after the commit.
import { sql } from 'kysely';
import { kysely, type Db, type Em } from '../platform/db.ts';
import type { JobQueue } from '../platform/jobs.ts';
import { FileRequest, FileRequestItem, FileRequestRecipient } from './file-request.entity.ts';
import { addEvent, createRequestOutbox, enqueueReminder, notifyUser, requestMailInput } from './file-requests.ts';
import { MailAccount } from '../mail/mail-account.entity.ts';
import { enqueueSend } from '../outbox/outbox.ts';
import { renderReminderMail, oneLine } from './templates/render.ts';
import { User } from '../staff/user.entity.ts';

/** A reminder a job finds due within this much of now is sent now (timer jitter). */
const EARLY_SLACK_MS = 1000;

export type ReminderOutcome =
  | { kind: 'sent'; outboxIds: string[]; next: Date | null; remindersSent: number }
  | { kind: 'not_yet'; dueAt: Date; remindersSent: number }
  | { kind: 'stopped'; reason: string };

/**
 * Sends the request's next reminder if it is due: the request still open, reminders left, and at least
 * one recipient whose address still has notify on with the 'reminders' category. Locks the row
 * (SELECT ... FOR UPDATE) so two jobs for one request run one after the other. The caller owns the transaction.
 */
export async function sendDueReminder(em: Em, requestId: string, now = new Date()): Promise<ReminderOutcome> {
  const locked = await kysely(em).selectFrom('file_request').select('id').where('id', '=', requestId).forUpdate().executeTakeFirst();
  if (!locked) return { kind: 'stopped', reason: 'gone' };
  const r = await em.findOneOrFail(FileRequest, { id: requestId }, { refresh: true });
  if (r.status !== 'open' && r.status !== 'partially_fulfilled') return { kind: 'stopped', reason: r.status };
  if (!r.nextReminderAt || r.remindersSent >= r.reminderCount) return { kind: 'stopped', reason: 'no_reminder_left' };
  if (r.nextReminderAt.getTime() > now.getTime() + EARLY_SLACK_MS) return { kind: 'not_yet', dueAt: r.nextReminderAt, remindersSent: r.remindersSent };
  if (!r.account) {
    r.nextReminderAt = null;
    return { kind: 'stopped', reason: 'no_account' };
  }
  const account = await em.findOneOrFail(MailAccount, { id: r.account.id }, { populate: ['owner'] });
  // The switches as they are now, not as they were when the request went out.
  const eligible = await kysely(em).selectFrom('file_request_recipient as fr').innerJoin('contact_email as ce', 'ce.id', 'fr.contact_email_id')
    .select('fr.id')
    .where('fr.file_request_id', '=', r.id).where('ce.notify', '=', true)
    .where((eb) => eb(eb.val('reminders'), '=', eb.fn.any('ce.notify_categories')))
    .execute();
  if (!eligible.length) {
    r.nextReminderAt = null;
    return { kind: 'stopped', reason: 'no_recipient' };
  }
  const recipients = await em.find(FileRequestRecipient, { id: { $in: eligible.map((e) => e.id) } }, { orderBy: { createdAt: 'asc' } });
  const items = (await em.find(FileRequestItem, { fileRequest: r.id, fulfilled: false }, { orderBy: { position: 'asc' } })).map((i) => i.label);
  const owner = r.createdBy ? await em.findOne(User, { id: r.createdBy.id }) : null;
  const senderName = oneLine(account.visibility === 'public' && (!owner || account.owner.id !== owner.id) ? account.name : (owner?.name ?? account.name)).slice(0, 200);
  const outboxIds: string[] = [];
  for (const rec of recipients) {
    const mail = renderReminderMail(requestMailInput({ language: rec.language, name: rec.name ?? null }, r, items, senderName || account.name, owner?.signature ?? '', owner?.name ?? null));
    const original = rec.messageIdHeader ?? null;
    const row = createRequestOutbox(em, {
      account, createdBy: owner, kind: 'file_request_reminder', fromName: senderName, to: rec.name ? { name: rec.name, address: rec.address } : { address: rec.address },
      mail, replyTokenOf: rec.id, clientId: r.client.id,
      inReplyTo: original, references: original ? [original] : [],
    });
    addEvent(em, r, 'reminded', { address: rec.address, outboxId: row.id, details: { number: r.remindersSent + 1 } });
    outboxIds.push(row.id);
  }
  r.remindersSent += 1;
  r.nextReminderAt = r.remindersSent < r.reminderCount ? new Date(now.getTime() + r.reminderIntervalSeconds * 1000) : null;
  return { kind: 'sent', outboxIds, next: r.nextReminderAt, remindersSent: r.remindersSent };
}

/** The 'file-request-reminder' job: one transaction, then send what it queued and arm the next one. */
export async function runReminderJob(db: Db, queue: JobQueue, requestId: string): Promise<ReminderOutcome> {
  const outcome = await db.em.fork().transactional((em) => sendDueReminder(em, requestId));
  if (outcome.kind === 'sent') {
    for (const id of outcome.outboxIds) await enqueueSend(queue, id);
    if (outcome.next) await enqueueReminder(queue, requestId, outcome.remindersSent, outcome.next);
  } else if (outcome.kind === 'not_yet') {
    await enqueueReminder(queue, requestId, outcome.remindersSent, outcome.dueAt);
  }
  return outcome;
}

/** Request mail older than this still queued had its send job lost (e.g. queued inside a sync transaction). */
const STRANDED_MS = 5_000;

/**
 * The 'file-request-scan' job: enqueues every reminder the database says is due (whatever the queue
 * remembers), tells owners once when a request passes its due date, and sends request mail left queued.
 */
export async function runFileRequestScan(db: Db, queue: JobQueue): Promise<{ reminders: number; overdue: number; stranded: number }> {
  const em = db.em.fork();
  const due = await kysely(em).selectFrom('file_request').select('id')
    .where('status', 'in', ['open', 'partially_fulfilled']).where((eb) => eb('next_reminder_at', '<=', eb.fn<Date>('now')))
    .orderBy('next_reminder_at').limit(500)
    .execute();
  // Run them here rather than through the queue: a due reminder is sent even when the queue lost its job.
  let reminders = 0;
  for (const d of due) {
    const outcome = await runReminderJob(db, queue, d.id);
    if (outcome.kind === 'sent') reminders++;
  }
  const overdue = await db.em.fork().transactional(async (tx) => {
    const rows = await kysely(tx).updateTable('file_request')
      .set((eb) => ({ overdue_notified_at: eb.fn<Date>('now'), updated_at: eb.fn<Date>('now') }))
      .where('status', 'in', ['open', 'partially_fulfilled']).where('due_date', '<', new Date().toISOString().slice(0, 10)).where('overdue_notified_at', 'is', null)
      .returning(['id', 'subject', 'client_id', 'created_by_id'])
      .execute();
    for (const r of rows) {
      addEvent(tx, r.id, 'overdue');
      await notifyUser(tx, r.created_by_id, { kind: 'request_overdue', title: `File request overdue: ${r.subject}`, clientId: r.client_id, fileRequestId: r.id });
    }
    return rows.length;
  });
  const stranded = await kysely(em).selectFrom('outbox').select('id')
    .where('kind', 'like', 'file_request%').where('status', '=', 'queued').where('attempts', '=', 0)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', eb.fn<Date>('now'))]))
    // Interval arithmetic on the database clock has no builder form.
    .where('created_at', '<', sql<Date>`now() - (${STRANDED_MS} * interval '1 millisecond')`)
    .limit(500)
    .execute();
  for (const s of stranded) await enqueueSend(queue, s.id);
  return { reminders, overdue, stranded: stranded.length };
}
