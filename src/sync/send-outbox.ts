// The 'send-outbox' job: sends one outbox row at most once (queued → sending → sent | failed), stores what
// was sent as a message at once (thread and client log, with or without a Sent folder), saves the copy in
// the account's Sent folder, then asks for a sync so the copy joins that message.
// Recipients and content were decided when the row was queued (core/outbox/outbox.ts); this only delivers them.
import type { Readable } from 'node:stream';
import type { JobContext } from '../core/platform/jobs.ts';
import { requestAccountSync } from '../core/mail/accounts.ts';
import { NeedsReauthError } from '../core/mail/oauth.ts';
import { imapSettingsFor, smtpSettingsFor } from './account-credentials.ts';
import { Document } from '../core/documents/document.entity.ts';
import { cleanHeaderText } from '../core/platform/text.ts';
import { Mailbox, type MailAccount } from '../core/mail/mail-account.entity.ts';
import { Message } from '../core/mail/message.entity.ts';
import { Outbox, type SentCopyResult } from '../core/outbox/outbox.entity.ts';
import { SEND_ATTEMPTS, enqueueSend } from '../core/outbox/outbox.ts';
import { claimOutboxRow, listStrandedOutboxIds } from '../core/outbox/outbox-claims.ts';
import type { Em } from '../core/platform/db.ts';
import { appendMessage, classifyImapError, closeImap, findSentFolder, openImap, searchByMessageId, type ImapFlow } from './imap.ts';
import { SmtpSendError, UnsafeHeaderError, composeMail, sendMail, type ComposedMail, type OutgoingAttachment, type OutgoingMail, type SmtpTimeouts } from './send-message.ts';
import type { WorkerDeps } from './worker-deps.ts';
import { mailHostPolicy } from '../core/mail/mail-hosts.ts';
import { openOutboxBody } from '../core/outbox/outbox-secrets.ts';
import { getReplyTokenAddress } from '../core/collaboration/file-requests.ts';
import { storeSentMessage } from '../core/ingest/store-message.ts';
import { listOwnAddresses } from '../core/log/filing.ts';
import { dedupeOf } from '../core/mail/dedupe.ts';
import { describeMessageEvents } from '../core/mail/message-events.ts';
import { parseMessage } from './parse-message.ts';

/** How long one attempt may hold a row; a crashed attempt's row is looked at again after this. */
export const SEND_LEASE_MS = 10 * 60_000;

/**
 * SMTP hosts of providers that file a copy of every message sent through them in the Sent folder
 * themselves, so APPENDing one more would show it twice ('auto' mode). Gmail / Google Workspace and
 * Microsoft 365 / Outlook.com do; most other servers (Dovecot + Postfix, cPanel, Fastmail...) do not.
 */
const SELF_SAVING_SMTP_HOSTS = ['smtp.gmail.com', 'smtp.googlemail.com', 'smtp.office365.com', 'smtp-mail.outlook.com', 'smtp.outlook.com'];

export function providerSavesSentMail(smtpHost: string): boolean {
  return SELF_SAVING_SMTP_HOSTS.includes(smtpHost.trim().toLowerCase().replace(/\.$/u, ''));
}

export function shouldAppendSentCopy(account: Pick<MailAccount, 'sentCopy' | 'smtpHost'> & Partial<Pick<MailAccount, 'provider'>>): boolean {
  if (account.sentCopy === 'never') return false;
  if (account.sentCopy === 'always') return true;
  // Accounts connected through Google or Microsoft send through their servers, which file the copy.
  if (account.provider) return false;
  return !providerSavesSentMail(account.smtpHost ?? '');
}

export type SendOutboxOptions = { smtpTimeouts?: SmtpTimeouts };

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string));
  return Buffer.concat(chunks);
}

/** A file name fit for a header: one line, no directories (Content-Disposition, RFC 6266/2231 by nodemailer). */
function attachmentName(name: string, fallback: string): string {
  const base = cleanHeaderText(name).split(/[/\\]/u).pop()?.trim() ?? '';
  return (base.replace(/^\.+$/u, '') || fallback).slice(0, 200);
}
const safeContentType = (t: string) => (/^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/iu.test(t) ? t.toLowerCase() : 'application/octet-stream');

/** Refuses to send: the row can never be sent as it is (missing file, unsafe header). */
class CannotSendError extends Error {}

async function buildMail(em: Em, deps: WorkerDeps, row: Outbox, account: MailAccount): Promise<OutgoingMail> {
  const attachments: OutgoingAttachment[] = [];
  if (row.documentIds.length) {
    const docs = await em.find(Document, { id: { $in: row.documentIds } });
    for (const id of row.documentIds) {
      const doc = docs.find((d) => d.id === id);
      if (!doc || !doc.sha256) throw new CannotSendError('An attached document no longer exists; nothing was sent');
      const content = await readAll(await deps.blobs.get(doc.sha256));
      attachments.push({ filename: attachmentName(doc.name, 'document'), contentType: safeContentType(doc.contentType), content });
    }
  }
  if (row.forwardMessage) {
    const original = await em.findOne(Message, { id: row.forwardMessage.id });
    if (!original) throw new CannotSendError('The forwarded message no longer exists; nothing was sent');
    const content = await readAll(await deps.blobs.get(original.rawBlob));
    attachments.push({ filename: `${attachmentName(original.subject, 'message')}.eml`, contentType: 'message/rfc822', content });
  }
  // Secrets the row does not keep in clear text: a sealed body, a request's reply token (outbox-secrets.ts).
  const body = openOutboxBody(deps.config.secretKey, row);
  const replyTo = row.replyTokenOf
    ? await getReplyTokenAddress(em, row.replyTokenOf, account.email).catch(() => {
      throw new CannotSendError('The file request of this mail no longer exists; nothing was sent');
    })
    : row.replyTo;
  return {
    from: { name: row.fromName ?? '', address: account.email },
    to: row.to,
    cc: row.cc,
    bcc: row.bcc,
    subject: row.subject,
    text: body.text,
    html: body.html,
    messageId: row.messageIdHeader,
    inReplyTo: row.inReplyTo ?? null,
    references: row.references,
    replyTo: replyTo ? { address: replyTo } : null,
    date: new Date(),
    attachments,
  };
}

/** Opens the account's IMAP, finds its Sent folder (the \Sent special-use one, else our stored role) and runs fn. */
async function withSentFolder<T>(em: Em, deps: WorkerDeps, account: MailAccount, fn: (client: ImapFlow, path: string) => Promise<T>): Promise<T> {
  let client: ImapFlow | null = null;
  try {
    client = await openImap(await imapSettingsFor(deps, em, account), { id: `send-${account.id}`, hosts: mailHostPolicy(deps.config) });
    const stored = await em.findOne(Mailbox, { account: account.id, role: 'sent' });
    const path = (await findSentFolder(client)) ?? stored?.path ?? null;
    if (!path) throw new Error('the account has no Sent folder');
    return await fn(client, path);
  } finally {
    await closeImap(client);
  }
}

/** Mail to staff about Dossier's own events (task due, new client mail...): not correspondence, never stored. */
const NOT_CORRESPONDENCE = new Set(['staff_notification']);

/**
 * Stores what was just sent as a message, files it and links the row to it (storeSentMessage), then tells
 * open browsers. Never fails the send: should it fail, the Sent copy (when the account has one) still
 * brings the message in at the next sync.
 */
async function storeSent(em: Em, deps: WorkerDeps, row: Outbox, raw: Buffer): Promise<void> {
  if (NOT_CORRESPONDENCE.has(row.kind)) return;
  try {
    const blob = await deps.blobs.put(raw);
    const parsed = await parseMessage(raw, { writeBlob: (content) => deps.blobs.put(content) });
    const { dedupeHash, messageId } = dedupeOf(raw);
    const ownAddresses = new Set(await listOwnAddresses(em));
    const queuedMail: string[] = [];
    const id = await em.fork().transactional((tx) => storeSentMessage(tx, {
      ownAddresses, queuedMail, filing: { blobs: deps.blobs, maxAttachmentBytes: deps.config.maxAttachmentBytes },
    }, row.id, {
      uid: 0, flags: ['\\Seen'], modseq: null, internalDate: row.sentAt ?? new Date(), raw: blob, dedupeHash, messageId, parsed, parseError: null,
    }));
    for (const q of queuedMail) await enqueueSend(deps.queue, q);
    if (deps.events) for (const event of await describeMessageEvents(em.fork(), [id])) deps.events.publish(event);
  } catch (err) {
    deps.log.warn({ outboxId: row.id, err }, 'outbox: sent, but could not store the message at once (its Sent copy will bring it)');
  }
}

/** Sends one outbox row; the job's handler. Throws only to have the queue retry a transient failure. */
export async function sendOutbox(deps: WorkerDeps, outboxId: string, ctx: JobContext, opts: SendOutboxOptions = {}): Promise<void> {
  const em = deps.db.em.fork();
  const claim = await claimOutboxRow(em, outboxId, SEND_LEASE_MS);
  if (claim.kind === 'done') return;
  if (claim.kind === 'busy') {
    // Another attempt holds the row (or crashed holding it): look again when its lease ends.
    await enqueueSend(deps.queue, outboxId, claim.retryInMs);
    return;
  }
  const row = await em.findOneOrFail(Outbox, { id: outboxId }, { populate: ['account'] });
  const account = row.account;
  // The row counts real attempts (a resumed or deferred job starts its own count at 1).
  const last = Math.max(ctx.attempt, row.attempts) >= SEND_ATTEMPTS;

  const settle = async (status: 'queued' | 'sending' | 'sent' | 'failed', error: string | null, extra: { sentCopy?: SentCopyResult } = {}) => {
    row.status = status;
    row.error = error;
    row.leaseUntil = null;
    if (status === 'sent') row.sentAt ??= new Date();
    if (extra.sentCopy) row.sentCopy = extra.sentCopy;
    await em.flush();
  };
  /** A failure worth trying again: back to the queue (or, on the last attempt, failed for good). */
  const retry = async (status: 'queued' | 'sending', message: string): Promise<void> => {
    if (last) {
      const hint = status === 'sending' ? ' It may have been delivered: check the Sent folder before sending again.' : '';
      await settle('failed', `Gave up after ${row.attempts} attempts: ${message}.${hint}`);
      return;
    }
    await settle(status, `Retrying: ${message}`);
    throw new Error(message);
  };

  // An earlier attempt ended without an answer (crash, timeout after DATA): the mail may be out. If the
  // Sent folder has our Message-ID, it was sent: never send it again.
  if (claim.previous === 'sending') {
    let found: number[];
    try {
      found = await withSentFolder(em, deps, account, (client, path) => searchByMessageId(client, path, row.messageIdHeader));
    } catch (err) {
      return retry('sending', `could not check the Sent folder for an earlier attempt (${classifyImapError(err).message})`);
    }
    if (found.length > 0) {
      await settle('sent', null, { sentCopy: 'already_there' });
      await requestAccountSync(deps.queue, account.id, 'manual');
      deps.log.info({ outboxId, messageId: row.messageIdHeader }, 'outbox: found in Sent after an interrupted attempt, not sent again');
      return;
    }
  }

  let composed: ComposedMail;
  try {
    composed = await composeMail(await buildMail(em, deps, row, account));
  } catch (err) {
    if (err instanceof CannotSendError || err instanceof UnsafeHeaderError) {
      await settle('failed', err instanceof UnsafeHeaderError ? `Not sent: ${err.message}` : err.message);
      return;
    }
    return retry('queued', `could not prepare the message (${(err as Error).message})`);
  }

  let result;
  try {
    let smtp = await smtpSettingsFor(deps, em, account);
    if (!smtp) {
      await settle('failed', `Not sent: ${account.email} is a receive-only mailbox (no outgoing server)`);
      return;
    }
    try {
      result = await sendMail(smtp, composed, { ...opts.smtpTimeouts, hosts: mailHostPolicy(deps.config) });
    } catch (err) {
      // A refused OAuth2 token: refresh it once and try again (nothing was sent: AUTH comes before MAIL FROM).
      if (!(err instanceof SmtpSendError && err.stage === 'auth' && smtp.accessToken)) throw err;
      smtp = (await smtpSettingsFor(deps, em, account, { failedToken: smtp.accessToken }))!;
      result = await sendMail(smtp, composed, { ...opts.smtpTimeouts, hosts: mailHostPolicy(deps.config) });
    }
  } catch (err) {
    if (err instanceof NeedsReauthError) {
      await settle('failed', `Not sent: ${err.message}`);
      return;
    }
    if (!(err instanceof SmtpSendError)) return retry('queued', (err as Error).message);
    if (err.permanent) {
      await settle('failed', `The mail server refused the message: ${err.message}`);
      return;
    }
    // A refusal with a reply code means nothing was delivered; a dropped transaction may have been.
    return retry(err.ambiguous ? 'sending' : 'queued', `the mail server did not take the message (${err.message})`);
  }

  const notDelivered = result.rejected.map((r) => `${r.address}: ${r.response}`).join('; ');
  // Recorded as sent first (the smallest window in which a crash could make us send twice), then copied.
  await settle('sent', notDelivered ? `Not delivered to some recipients: ${notDelivered}` : null);
  deps.log.info({ outboxId, messageId: row.messageIdHeader, response: result.response }, 'outbox: sent');
  await storeSent(em, deps, row, composed.raw);

  let sentCopy: SentCopyResult = 'skipped';
  let copyError: string | null = null;
  if (shouldAppendSentCopy(account)) {
    try {
      await withSentFolder(em, deps, account, (client, path) => appendMessage(client, path, composed.raw, ['\\Seen']));
      sentCopy = 'appended';
    } catch (err) {
      sentCopy = 'failed';
      copyError = `Sent, but the copy could not be saved in the Sent folder: ${classifyImapError(err).message}`;
      deps.log.warn({ outboxId, err }, 'outbox: Sent copy failed');
    }
  }
  await settle('sent', [row.error, copyError].filter(Boolean).join(' ') || null, { sentCopy });
  await requestAccountSync(deps.queue, account.id, 'manual');
}

/** Most rows re-enqueued per run; the next run takes the rest. */
const RESUME_BATCH = 500;

/**
 * Re-enqueues rows nobody is working on: queued (or left 'sending' between attempts) and untouched for
 * `staleMs`, with no live lease. Their job was lost (the enqueue after the commit failed, Redis lost
 * data); enqueueing a row that does have a job is harmless, the claim lets only one run send it.
 * `accountId` limits it to one account's rows.
 */
export async function resumeOutbox(deps: WorkerDeps, staleMs: number, opts: { accountId?: string } = {}): Promise<number> {
  const ids = await listStrandedOutboxIds(deps.db.em.fork(), { staleMs, limit: RESUME_BATCH, accountId: opts.accountId });
  for (const id of ids) await enqueueSend(deps.queue, id);
  return ids.length;
}
