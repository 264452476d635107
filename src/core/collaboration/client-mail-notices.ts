// New mail filed to a client tells the client's owner (issue 15): a bell notice ({kind: "client_mail"}) when
// their clientMailNotice is 'bell' or 'email', and with 'email' a digest mail at most every 15 minutes — sent
// by the 'client-mail-digest' job, re-enqueued delayed while the window is closed, with a minutely scan for
// what the queue lost. Only mail the owner may see (core/mail/visibility.ts). Never flushes the caller's work.
import { kysely, type Db, type Em } from '../platform/db.ts';
import type { JobQueue } from '../platform/jobs.ts';
import { filterVisibleClientIds, isVisibleMessage, listVisibleMailboxes } from '../mail/visibility.ts';
import { Outbox } from '../outbox/outbox.entity.ts';
import { enqueueSend, newMessageId } from '../outbox/outbox.ts';
import type { Language } from '../staff/user.entity.ts';
import { createNotification } from './staff-notifications.ts';
import { oneLine } from './templates/render.ts';

/** At most one digest mail per user in this window. */
export const DIGEST_WINDOW_MS = 15 * 60_000;
/** A digest lists at most this many notices (the rest go in the next one). */
const DIGEST_MAX = 200;

export type FiledPair = { messageId: string; clientId: string };

/**
 * Notifies the owners of the clients these (new, inbound) messages were just filed to. One notice per
 * (owner, message, client); nothing for owners who chose 'off', are inactive, or may not see the message.
 * Runs in the caller's transaction (the sync's batch).
 */
export async function notifyClientOwners(em: Em, pairs: FiledPair[]): Promise<number> {
  if (!pairs.length) return 0;
  const db = kysely(em);
  const rows = await db.selectFrom('client as c')
    .innerJoin('app_user as u', 'u.id', 'c.owner_id')
    .select(['c.id as client_id', 'c.name as client_name', 'u.id as user_id', 'u.role', 'u.client_mail_notice'])
    .where('c.id', 'in', [...new Set(pairs.map((p) => p.clientId))])
    .where('u.active', '=', true).where('u.client_mail_notice', '<>', 'off')
    .execute();
  if (!rows.length) return 0;
  // An owner who may not see the client (restricted to a team they are not on) hears nothing of it.
  const seen: typeof rows = [];
  for (const r of rows) if ((await filterVisibleClientIds(em, { id: r.user_id, role: r.role }, [r.client_id])).length) seen.push(r);
  const byClient = new Map(seen.map((r) => [r.client_id, r]));
  const subjects = new Map((await db.selectFrom('message').select(['id', 'subject'])
    .where('id', 'in', [...new Set(pairs.map((p) => p.messageId))]).execute()).map((m) => [m.id, m.subject]));
  let created = 0;
  const visibleTo = new Map<string, Set<string>>();
  for (const p of pairs) {
    const owner = byClient.get(p.clientId);
    if (!owner) continue;
    let visible = visibleTo.get(owner.user_id);
    if (!visible) {
      // The one rule: the owner's mailboxes, then which of these messages they may see.
      const viewer = { id: owner.user_id, role: owner.role };
      const boxes = (await listVisibleMailboxes(em, viewer)).map((b) => b.id);
      const ids = [...new Set(pairs.map((x) => x.messageId))];
      visible = new Set((await db.selectFrom('message as m').select('m.id').where('m.id', 'in', ids).where(isVisibleMessage(viewer, boxes)).execute()).map((r) => r.id));
      visibleTo.set(owner.user_id, visible);
    }
    if (!visible.has(p.messageId)) continue;
    const subject = oneLine(subjects.get(p.messageId) ?? '') || '(no subject)';
    await createNotification(em, {
      userId: owner.user_id, kind: 'client_mail', title: `${owner.client_name}: ${subject}`, link: `/inbox/${p.messageId}`,
      clientId: p.clientId, messageId: p.messageId, emailPending: owner.client_mail_notice === 'email',
    });
    created++;
  }
  return created;
}

const DIGEST_TEXT: Record<Language, { subject: (n: number) => string; intro: string }> = {
  en: { subject: (n) => (n === 1 ? '[Dossier] 1 new message from your clients' : `[Dossier] ${n} new messages from your clients`), intro: 'New mail was filed to clients you are responsible for:' },
  es: { subject: (n) => (n === 1 ? '[Dossier] 1 mensaje nuevo de sus clientes' : `[Dossier] ${n} mensajes nuevos de sus clientes`), intro: 'Se ha archivado correo nuevo de clientes de los que es responsable:' },
  nl: { subject: (n) => (n === 1 ? '[Dossier] 1 nieuw bericht van uw klanten' : `[Dossier] ${n} nieuwe berichten van uw klanten`), intro: 'Er is nieuwe mail gearchiveerd bij klanten waarvoor u verantwoordelijk bent:' },
};

export type DigestOutcome = { kind: 'sent'; outboxId: string; notices: number } | { kind: 'wait'; until: Date } | { kind: 'none' };

/** Sends the user's digest if notices wait and the window allows; the caller owns the transaction. */
export async function sendClientMailDigest(em: Em, userId: string, opts: { now: Date; publicUrl?: string }): Promise<DigestOutcome> {
  const db = kysely(em);
  // The user row is the lock: the job and the scan never send two digests in one window.
  const user = await db.selectFrom('app_user').select(['id', 'name', 'email', 'language', 'active', 'client_mail_notice', 'client_mail_digest_at'])
    .where('id', '=', userId).forUpdate().executeTakeFirst();
  if (!user) return { kind: 'none' };
  const pending = await db.selectFrom('notification').select(['id', 'title', 'link'])
    .where('user_id', '=', userId).where('email_pending', '=', true)
    .orderBy('created_at').orderBy('id').limit(DIGEST_MAX).execute();
  if (!pending.length) return { kind: 'none' };
  const clear = () => db.updateTable('notification').set({ email_pending: false }).where('id', 'in', pending.map((p) => p.id)).execute();
  // Changed their mind (or left): the bell keeps the notices, no mail goes out.
  if (!user.active || user.client_mail_notice !== 'email') {
    await clear();
    return { kind: 'none' };
  }
  const last = user.client_mail_digest_at ? new Date(user.client_mail_digest_at).getTime() : null;
  if (last !== null && opts.now.getTime() - last < DIGEST_WINDOW_MS) return { kind: 'wait', until: new Date(last + DIGEST_WINDOW_MS) };
  const account = await db.selectFrom('mail_account').select(['id', 'name', 'email']).where('visibility', '=', 'public')
    .orderBy('created_at').limit(1).executeTakeFirst();
  if (!account) {
    // Nothing to send from (as for other notification copies): drop the pending marks.
    await clear();
    return { kind: 'none' };
  }
  const text = DIGEST_TEXT[user.language] ?? DIGEST_TEXT.en;
  const lines = pending.map((p) => `- ${oneLine(p.title)}${p.link && opts.publicUrl ? `\n  ${opts.publicUrl}${p.link}` : ''}`);
  const row = em.create(Outbox, {
    account: account.id, createdBy: null, kind: 'staff_notification', fromName: oneLine(account.name).slice(0, 200) || null,
    to: [{ name: oneLine(user.name).slice(0, 200), address: user.email }], cc: [], bcc: [],
    subject: text.subject(pending.length).slice(0, 500), text: `${text.intro}\n\n${lines.join('\n')}\n`, html: null, inReplyTo: null, references: [], replyTo: null,
    messageIdHeader: newMessageId(account.email), documentIds: [], clientId: null, replyToMessage: null, forwardMessage: null, status: 'queued',
  });
  await clear();
  await db.updateTable('app_user').set({ client_mail_digest_at: opts.now }).where('id', '=', userId).execute();
  await em.flush();
  return { kind: 'sent', outboxId: row.id, notices: pending.length };
}

/** Job id of the delayed digest job for one user and window (enqueueing it twice is a no-op). */
const digestJobId = (userId: string, until: Date) => `client-mail-digest-${userId}-${until.getTime()}`;

/** The 'client-mail-digest' job: send now, or come back when the user's window opens. */
export async function runClientMailDigest(db: Db, queue: JobQueue, userId: string, opts: { now?: Date; publicUrl?: string } = {}): Promise<DigestOutcome> {
  const now = opts.now ?? new Date();
  const outcome = await db.em.fork().transactional((em) => sendClientMailDigest(em, userId, { now, publicUrl: opts.publicUrl }));
  if (outcome.kind === 'sent') await enqueueSend(queue, outcome.outboxId);
  if (outcome.kind === 'wait') {
    await queue.enqueue('client-mail-digest', { userId }, { delayMs: Math.max(0, outcome.until.getTime() - now.getTime()), jobId: digestJobId(userId, outcome.until) });
  }
  return outcome;
}

/** Minutely: every user with notices waiting for a digest (new ones, and any whose delayed job was lost). */
export async function runClientMailDigestScan(db: Db, queue: JobQueue, opts: { now?: Date; publicUrl?: string } = {}): Promise<number> {
  const users = await kysely(db.em.fork()).selectFrom('notification').select('user_id').distinct()
    .where('email_pending', '=', true).limit(500).execute();
  let sent = 0;
  for (const u of users) if ((await runClientMailDigest(db, queue, u.user_id, opts)).kind === 'sent') sent++;
  return sent;
}
