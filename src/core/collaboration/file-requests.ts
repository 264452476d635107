// File requests: create (one outbox mail per recipient, in their language, with a plus-address reply token
// and a recorded Message-ID), preview, list, view with timeline, cancel, resend, tick items, firm defaults.
// No HTTP, no SMTP: mail goes through the outbox; the caller flushes, then sends (enqueueFileRequestJobs).
import { randomBytes, randomUUID } from 'node:crypto';
import { kysely, type Em } from '../platform/db.ts';
import type { JobQueue } from '../platform/jobs.ts';
import { getAddressDomain, normalizeAddress } from '../mail/addresses.ts';
import { recordAudit } from '../staff/audit.ts';
import { Client } from '../crm/client.entity.ts';
import { filterVisibleClientIds, visibleClient, type Viewer } from '../mail/visibility.ts';
import { Document } from '../documents/document.entity.ts';
import { ConflictError, ForbiddenError, InvalidInputError, NotFoundError, RuleError } from '../platform/errors.ts';
import {
  FileRequest, FileRequestEvent, FileRequestItem, FileRequestRecipient,
  type FileRequestEventKind, type FileRequestStatus,
} from './file-request.entity.ts';
import { cursorTime, cursorTimestamp, decodeCursor, encodeCursor } from '../platform/keyset-cursor.ts';
import { MailAccount } from '../mail/mail-account.entity.ts';
import { listReviewableMessages, type Reviewer } from '../mail/visibility.ts';
import { FirmSetting } from '../staff/notification.entity.ts';
import { createNotification } from './staff-notifications.ts';
import { Outbox } from '../outbox/outbox.entity.ts';
import { MAX_ATTACHMENTS, MAX_ATTACHMENT_BYTES, enqueueSend, newMessageId } from '../outbox/outbox.ts';
import { renderRequestMail, oneLine, type RenderedMail } from './templates/render.ts';
import type { Language, User } from '../staff/user.entity.ts';

export const MAX_RECIPIENTS = 20;
export const MAX_ITEMS = 50;
export const MAX_REMINDERS = 10;
export const FILE_REQUEST_SETTINGS_KEY = 'file_requests';
const DAY_SECONDS = 86400;

export type FileRequestSettings = {
  /** Reminders per request by default (0 = none). TaxDome's default: one, 3 days after sending. */
  reminderCount: number;
  reminderIntervalDays: number;
  /** Send the client an acknowledgement when their reply brought files. */
  acknowledge: boolean;
};
export const DEFAULT_FILE_REQUEST_SETTINGS: FileRequestSettings = { reminderCount: 1, reminderIntervalDays: 3, acknowledge: false };

export type CreateFileRequestInput = {
  clientId: string;
  /** The sending mailbox: the caller's own or a public one; defaults to the caller's own. */
  accountId?: string;
  /** Addresses of the client's contacts (notify on, 'file_requests' category). */
  recipients: string[];
  subject: string;
  description?: string;
  message?: string;
  items?: string[];
  documentIds?: string[];
  dueDate?: string | null;
  reminders?: { count: number; intervalDays: number };
};

export type RecipientChoice = {
  contactEmailId: string;
  contactId: string;
  contactName: string;
  address: string;
  language: Language;
  eligible: boolean;
  /** Why it cannot be chosen: notify_off or category_off. */
  reason: 'notify_off' | 'category_off' | null;
};

export type FileRequestPreview = { address: string; name: string | null; language: Language; from: string; replyTo: string; subject: string; text: string; html: string };

// ---------------------------------------------------------------- settings

export async function getFileRequestSettings(em: Em): Promise<FileRequestSettings> {
  const row = await em.findOne(FirmSetting, { key: FILE_REQUEST_SETTINGS_KEY });
  return { ...DEFAULT_FILE_REQUEST_SETTINGS, ...((row?.value ?? {}) as Partial<FileRequestSettings>) };
}

export async function updateFileRequestSettings(em: Em, user: User, patch: Partial<FileRequestSettings>): Promise<FileRequestSettings> {
  if (user.role !== 'admin') throw new ForbiddenError('Only an administrator can change the firm settings');
  const next = { ...(await getFileRequestSettings(em)), ...patch };
  checkReminders(next.reminderCount, next.reminderIntervalDays, 'reminderCount', 'reminderIntervalDays');
  const row = await em.findOne(FirmSetting, { key: FILE_REQUEST_SETTINGS_KEY });
  if (row) {
    row.value = next;
    row.updatedBy = user;
  } else em.create(FirmSetting, { key: FILE_REQUEST_SETTINGS_KEY, value: next, updatedBy: user });
  recordAudit(em, { actorId: user.id, action: 'settings.file_requests', entityType: 'firm_setting', details: next });
  return next;
}

function checkReminders(count: number, intervalDays: number, countField: string, intervalField: string): void {
  if (!Number.isInteger(count) || count < 0 || count > MAX_REMINDERS) throw new InvalidInputError('invalid_reminders', `${countField} must be a whole number from 0 to ${MAX_REMINDERS}`, countField);
  if (!(intervalDays > 0) || intervalDays > 365) throw new InvalidInputError('invalid_reminders', `${intervalField} must be more than 0 and at most 365 days`, intervalField);
}

// ---------------------------------------------------------------- recipients

/** Every address of the client's contacts, with whether a file request may go to it (and why not). */
export async function listRequestRecipients(em: Em, clientId: string): Promise<RecipientChoice[]> {
  if (!(await em.count(Client, { id: clientId }))) throw new NotFoundError('Client');
  const rows = await kysely(em).selectFrom('contact_email as ce')
    .innerJoin('contact as c', 'c.id', 'ce.contact_id').innerJoin('client_contact as cc', 'cc.contact_id', 'c.id')
    .select(['ce.id', 'ce.contact_id', 'c.name as contact_name', 'ce.address', 'ce.language', 'ce.notify', 'ce.notify_categories'])
    .where('cc.client_id', '=', clientId)
    .orderBy('c.name').orderBy('ce.address')
    .execute();
  return rows.map((r) => {
    const reason = !r.notify ? 'notify_off' : !r.notify_categories.includes('file_requests') ? 'category_off' : null;
    return { contactEmailId: r.id, contactId: r.contact_id, contactName: r.contact_name, address: r.address, language: r.language, eligible: reason === null, reason };
  });
}

// ---------------------------------------------------------------- create / preview

type Plan = {
  client: Client;
  account: MailAccount;
  fromName: string;
  recipients: RecipientChoice[];
  subject: string;
  description: string;
  message: string;
  items: string[];
  documentIds: string[];
  dueDate: string | null;
  reminderCount: number;
  reminderIntervalSeconds: number;
};

const DUE_DATE = /^(\d{4})-(\d{2})-(\d{2})$/u;
function checkDueDate(d: string): void {
  const m = DUE_DATE.exec(d);
  const date = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : null;
  if (!date || date.toISOString().slice(0, 10) !== d) throw new InvalidInputError('invalid_date', 'dueDate must be a calendar day (YYYY-MM-DD)', 'dueDate');
}

/** The account the user may send from: their own or a public one (NotFound for anyone else's). */
async function getRequestAccount(em: Em, user: User, accountId: string | undefined): Promise<MailAccount> {
  if (accountId) {
    const account = await em.findOne(MailAccount, { id: accountId });
    if (!account || (account.visibility !== 'public' && account.owner.id !== user.id)) throw new NotFoundError('Mail account');
    return account;
  }
  const own = await em.findOne(MailAccount, { owner: user.id }, { orderBy: { createdAt: 'asc' } });
  if (!own) throw new RuleError('account_required', 'Choose the mailbox to send the request from', 'accountId');
  return own;
}

async function planFileRequest(em: Em, user: User, input: CreateFileRequestInput): Promise<Plan> {
  // A client hidden from the user (restricted) answers as an unknown one.
  const client = (await filterVisibleClientIds(em, user, [input.clientId])).length ? await em.findOne(Client, { id: input.clientId }) : null;
  if (!client) throw new InvalidInputError('client_not_found', 'The client does not exist', 'clientId');
  const account = await getRequestAccount(em, user, input.accountId);
  // Header-bound text: line breaks and controls are stripped (never injected, never refused).
  const subject = oneLine(input.subject);
  if (!subject) throw new InvalidInputError('required', 'subject is required', 'subject');
  if (Array.from(subject).length > 300) throw new InvalidInputError('too_long', 'subject may be at most 300 characters', 'subject');
  const items = (input.items ?? []).map(oneLine);
  if (items.length > MAX_ITEMS) throw new InvalidInputError('too_many_items', `At most ${MAX_ITEMS} items`, 'items');
  items.forEach((label, i) => {
    if (!label) throw new InvalidInputError('required', 'An item needs a label', `items.${i}`);
  });
  if (input.dueDate) checkDueDate(input.dueDate);

  const choices = await listRequestRecipients(em, client.id);
  const recipients: RecipientChoice[] = [];
  const seen = new Set<string>();
  if (!input.recipients.length) throw new InvalidInputError('no_recipients', 'Choose at least one contact', 'recipients');
  if (input.recipients.length > MAX_RECIPIENTS) throw new InvalidInputError('too_many_recipients', `At most ${MAX_RECIPIENTS} recipients`, 'recipients');
  for (const [i, raw] of input.recipients.entries()) {
    const field = `recipients.${i}`;
    const address = normalizeAddress(raw);
    const choice = address ? choices.find((c) => c.address === address) : undefined;
    if (!choice) throw new RuleError('recipient_not_contact', `${raw} is not an address of one of this client's contacts`, field);
    if (choice.reason === 'notify_off') throw new RuleError('recipient_notify_off', `${choice.address} does not receive notifications (notify is off)`, field);
    if (choice.reason === 'category_off') throw new RuleError('recipient_category_off', `${choice.address} does not receive file requests (category off)`, field);
    if (seen.has(choice.address)) continue;
    seen.add(choice.address);
    recipients.push(choice);
  }

  const documentIds = [...new Set(input.documentIds ?? [])];
  if (documentIds.length > MAX_ATTACHMENTS) throw new RuleError('too_many_attachments', `At most ${MAX_ATTACHMENTS} documents can be attached`, 'documentIds');
  if (documentIds.length) {
    const docs = await em.find(Document, { id: { $in: documentIds } });
    let total = 0;
    for (const [i, id] of documentIds.entries()) {
      const doc = docs.find((d) => d.id === id);
      if (!doc || doc.client.id !== client.id) throw new InvalidInputError('document_not_found', `Document ${id} is not a document of this client`, `documentIds.${i}`);
      if (doc.status !== 'saved' || !doc.sha256) throw new RuleError('document_not_stored', `"${doc.name}" was not kept (too large) and cannot be attached`, `documentIds.${i}`);
      total += Number(doc.size);
    }
    if (total > MAX_ATTACHMENT_BYTES) throw new RuleError('attachments_too_large', `Attachments may add up to at most ${Math.floor(MAX_ATTACHMENT_BYTES / 1024 / 1024)} MB`, 'documentIds');
  }

  const defaults = await getFileRequestSettings(em);
  const reminderCount = input.reminders?.count ?? defaults.reminderCount;
  const intervalDays = input.reminders?.intervalDays ?? defaults.reminderIntervalDays;
  checkReminders(reminderCount, intervalDays, 'reminders.count', 'reminders.intervalDays');
  const fromName = oneLine(account.visibility === 'public' && account.owner.id !== user.id ? account.name : user.name).slice(0, 200);
  return {
    client, account, fromName, recipients, subject,
    description: input.description ?? '', message: input.message ?? '', items, documentIds,
    dueDate: input.dueDate ?? null, reminderCount, reminderIntervalSeconds: Math.max(1, Math.round(intervalDays * DAY_SECONDS)),
  };
}

/** Reply-To of an outbox row that names a recipient (replyTokenOf), built when the mail is sent. */
export async function getReplyTokenAddress(em: Em, recipientId: string, accountEmail: string): Promise<string> {
  const row = await kysely(em).selectFrom('file_request_recipient').select('token').where('id', '=', recipientId).executeTakeFirst();
  if (!row) throw new NotFoundError('File request recipient');
  return replyTokenAddress(accountEmail, row.token);
}

/** `local+r-<token>@domain` of the sending account: replies reach the same mailbox and name the request. */
export function replyTokenAddress(accountEmail: string, token: string): string {
  const address = normalizeAddress(accountEmail) ?? accountEmail;
  const at = address.lastIndexOf('@');
  return `${address.slice(0, at)}+r-${token}@${getAddressDomain(address)}`;
}

/** 24 lowercase hex characters: survives servers that lowercase local parts. */
const newToken = () => randomBytes(12).toString('hex');

/** Template input for one recipient of a request (shared by the request mail and reminders). */
export function requestMailInput(
  r: { language: Language; name: string | null }, req: { subject: string; description: string; message: string; dueDate?: string | null; documentIds: string[] },
  items: string[], fromName: string, signature: string, senderName: string | null = null,
) {
  return {
    language: r.language, recipientName: r.name, firmName: fromName, subject: req.subject, description: req.description,
    message: req.message, items, dueDate: req.dueDate ?? null, attachments: req.documentIds.length, signature, senderName,
  };
}

/** The mail each recipient would get, without saving anything. */
export async function previewFileRequest(em: Em, user: User, input: CreateFileRequestInput): Promise<FileRequestPreview[]> {
  const plan = await planFileRequest(em, user, input);
  return plan.recipients.map((r) => {
    const name = r.contactName || null;
    const mail = renderRequestMail(requestMailInput({ language: r.language, name }, plan, plan.items, plan.fromName || plan.account.name, user.signature, user.name));
    return { address: r.address, name, language: r.language, from: plan.account.email, replyTo: replyTokenAddress(plan.account.email, 'x'.repeat(24)), ...mail };
  });
}

export type Created = { request: FileRequest; outboxIds: string[] };

/** Builds an outbox row for one client mail of a request (request, reminder, acknowledgement). */
export function createRequestOutbox(em: Em, input: {
  account: MailAccount; createdBy: User | null; kind: string; fromName: string | null; to: { name?: string; address: string };
  /** The recipient whose reply token goes into Reply-To: looked up when the mail is sent, so the outbox holds no token. */
  mail: RenderedMail; replyTokenOf: string; clientId: string; documentIds?: string[]; inReplyTo?: string | null; references?: string[];
}): Outbox {
  return em.create(Outbox, {
    account: input.account,
    createdBy: input.createdBy,
    kind: input.kind,
    fromName: input.fromName || null,
    to: [input.to],
    cc: [],
    bcc: [],
    subject: input.mail.subject,
    text: input.mail.text,
    html: input.mail.html,
    inReplyTo: input.inReplyTo ?? null,
    references: input.references ?? [],
    replyTo: null,
    replyTokenOf: input.replyTokenOf,
    messageIdHeader: newMessageId(input.account.email),
    documentIds: input.documentIds ?? [],
    clientId: input.clientId,
    replyToMessage: null,
    forwardMessage: null,
    status: 'queued',
  });
}

/** Event times never repeat within a process, so events written together keep their order on the timeline. */
let lastEventAt = 0;
const nextEventTime = () => new Date((lastEventAt = Math.max(Date.now(), lastEventAt + 1)));

export function addEvent(em: Em, request: FileRequest | string, kind: FileRequestEventKind, extra: { actor?: User | string | null; address?: string | null; message?: string | null; outboxId?: string | null; documentIds?: string[]; details?: Record<string, unknown> } = {}): FileRequestEvent {
  return em.create(FileRequestEvent, {
    fileRequest: request, kind, at: nextEventTime(), actor: extra.actor ?? null, address: extra.address ?? null, message: extra.message ?? null,
    outboxId: extra.outboxId ?? null, documentIds: extra.documentIds ?? [], details: extra.details ?? {},
  });
}

/** Tells the request's owner (the bell, and an email copy if they asked for one: core/collaboration/staff-notifications.ts). */
export async function notifyUser(em: Em, userId: string | null | undefined, n: { kind: string; title: string; body?: string; clientId?: string | null; fileRequestId?: string | null; messageId?: string | null }): Promise<void> {
  if (!userId) return;
  await createNotification(em, { userId, ...n, link: n.fileRequestId ? `/file-requests/${n.fileRequestId}` : null });
}

/** Creates the request and queues one mail per recipient. The caller flushes, then enqueueFileRequestJobs. */
export async function createFileRequest(em: Em, user: User, input: CreateFileRequestInput): Promise<Created> {
  const plan = await planFileRequest(em, user, input);
  const now = new Date();
  const request = em.create(FileRequest, {
    client: plan.client, account: plan.account, createdBy: user, subject: plan.subject, description: plan.description, message: plan.message,
    status: 'open', dueDate: plan.dueDate, documentIds: plan.documentIds, reminderCount: plan.reminderCount,
    reminderIntervalSeconds: plan.reminderIntervalSeconds, remindersSent: 0,
    nextReminderAt: plan.reminderCount > 0 ? new Date(now.getTime() + plan.reminderIntervalSeconds * 1000) : null,
    sentAt: now,
  });
  plan.items.forEach((label, position) => em.create(FileRequestItem, { fileRequest: request, position, label, fulfilled: false }));
  const outboxIds = queueRequestMails(em, user, request, plan.account, plan.recipients.map((r) => ({ choice: r, token: newToken() })), plan.items, 'sent');
  recordAudit(em, { actorId: user.id, action: 'file_request.create', entityType: 'file_request', entityId: request.id, clientId: plan.client.id, details: { recipients: plan.recipients.map((r) => r.address) } });
  return { request, outboxIds };
}

function queueRequestMails(em: Em, user: User, request: FileRequest, account: MailAccount, list: { choice: RecipientChoice; token: string; recipient?: FileRequestRecipient }[], items: string[], kind: 'sent' | 'resent'): string[] {
  const fromName = oneLine(account.visibility === 'public' && account.owner.id !== user.id ? account.name : user.name).slice(0, 200);
  const ids: string[] = [];
  for (const { choice, token, recipient } of list) {
    const name = choice.contactName ? oneLine(choice.contactName).slice(0, 200) : null;
    const mail = renderRequestMail(requestMailInput({ language: choice.language, name }, request, items, fromName || account.name, user.signature, user.name));
    const original = recipient?.messageIdHeader ?? null;
    const recipientId = recipient?.id ?? randomUUID();
    const row = createRequestOutbox(em, {
      account, createdBy: user, kind: kind === 'sent' ? 'file_request' : 'file_request_resend', fromName, to: name ? { name, address: choice.address } : { address: choice.address },
      mail, replyTokenOf: recipientId, clientId: request.client.id, documentIds: request.documentIds,
      // A resend continues the recipient's thread (RFC 5322 §3.6.4).
      inReplyTo: original, references: original ? [original] : [],
    });
    if (recipient) {
      recipient.language = choice.language;
    } else {
      em.create(FileRequestRecipient, {
        id: recipientId, fileRequest: request, contactEmail: choice.contactEmailId, address: choice.address, name, language: choice.language,
        token, messageIdHeader: row.messageIdHeader, outboxId: row.id,
      });
    }
    addEvent(em, request, kind, { actor: user, address: choice.address, outboxId: row.id });
    ids.push(row.id);
  }
  return ids;
}

/** After the commit: send the queued mail and arm the next reminder (the scan job is the safety net). */
export async function enqueueFileRequestJobs(queue: JobQueue, request: Pick<FileRequest, 'id' | 'nextReminderAt' | 'remindersSent'>, outboxIds: string[]): Promise<void> {
  for (const id of outboxIds) await enqueueSend(queue, id);
  if (request.nextReminderAt) await enqueueReminder(queue, request.id, request.remindersSent, request.nextReminderAt);
}

export async function enqueueReminder(queue: JobQueue, requestId: string, remindersSent: number, dueAt: Date): Promise<void> {
  await queue.enqueue('file-request-reminder', { requestId }, {
    delayMs: Math.max(0, dueAt.getTime() - Date.now()),
    // One waiting job per (request, reminder number, due time): re-enqueueing from the scan is a no-op.
    jobId: `file-request-reminder-${requestId}-${remindersSent}-${dueAt.getTime()}`,
    attempts: 3,
    key: `file-request-${requestId}`,
  });
}

// ---------------------------------------------------------------- read

export type FileRequestItemView = { id: string; label: string; fulfilled: boolean; fulfilledAt: string | null; documentIds: string[] };
export type FileRequestEventView = { id: string; kind: FileRequestEventKind; at: string; actor: { id: string; name: string } | null; address: string | null; messageId: string | null; outboxId: string | null; documentIds: string[]; details: Record<string, unknown> };
export type FileRequestSummary = {
  id: string;
  client: { id: string; name: string };
  subject: string;
  status: FileRequestStatus;
  overdue: boolean;
  dueDate: string | null;
  owner: { id: string; name: string } | null;
  accountId: string | null;
  recipients: { id: string; address: string; name: string | null; language: Language }[];
  items: { total: number; fulfilled: number };
  documents: number;
  remindersSent: number;
  nextReminderAt: string | null;
  sentAt: string | null;
  fulfilledAt: string | null;
  cancelledAt: string | null;
  createdAt: string;
};
export type FileRequestView = Omit<FileRequestSummary, 'items'> & {
  description: string;
  message: string;
  attachedDocumentIds: string[];
  reminders: { count: number; intervalDays: number };
  items: FileRequestItemView[];
  documents: number;
  receivedDocuments: { id: string; name: string; itemId: string | null; messageId: string | null }[];
  heldForReview: number;
  timeline: FileRequestEventView[];
};

const today = () => new Date().toISOString().slice(0, 10);
const isOpen = (s: FileRequestStatus) => s === 'open' || s === 'partially_fulfilled';
export const isOverdue = (r: Pick<FileRequest, 'status' | 'dueDate'>) => isOpen(r.status) && r.dueDate !== null && r.dueDate !== undefined && r.dueDate < today();

async function summarize(em: Em, requests: FileRequest[]): Promise<FileRequestSummary[]> {
  if (!requests.length) return [];
  const ids = requests.map((r) => r.id);
  await em.populate(requests, ['client', 'createdBy']);
  const recipients = await em.find(FileRequestRecipient, { fileRequest: { $in: ids } }, { orderBy: { createdAt: 'asc', address: 'asc' } });
  const db = kysely(em);
  const itemCounts = await db.selectFrom('file_request_item')
    .select((eb) => ['file_request_id as id', eb.fn.countAll<string>().as('total'), eb.fn.countAll<string>().filterWhere('fulfilled', '=', true).as('done')])
    .where('file_request_id', 'in', ids).groupBy('file_request_id')
    .execute();
  const docCounts = await db.selectFrom('file_request_document')
    .select((eb) => ['file_request_id as id', eb.fn.countAll<string>().as('n')])
    .where('file_request_id', 'in', ids).groupBy('file_request_id')
    .execute();
  return requests.map((r) => {
    const ic = itemCounts.find((c) => c.id === r.id);
    return {
      id: r.id,
      client: { id: r.client.id, name: r.client.name },
      subject: r.subject,
      status: r.status,
      overdue: isOverdue(r),
      dueDate: r.dueDate ?? null,
      owner: r.createdBy ? { id: r.createdBy.id, name: r.createdBy.name } : null,
      accountId: r.account?.id ?? null,
      recipients: recipients.filter((x) => x.fileRequest.id === r.id).map((x) => ({ id: x.id, address: x.address, name: x.name ?? null, language: x.language })),
      items: { total: Number(ic?.total ?? 0), fulfilled: Number(ic?.done ?? 0) },
      documents: Number(docCounts.find((c) => c.id === r.id)?.n ?? 0),
      remindersSent: r.remindersSent,
      nextReminderAt: r.nextReminderAt?.toISOString() ?? null,
      sentAt: r.sentAt?.toISOString() ?? null,
      fulfilledAt: r.fulfilledAt?.toISOString() ?? null,
      cancelledAt: r.cancelledAt?.toISOString() ?? null,
      createdAt: r.createdAt.toISOString(),
    };
  });
}

export type ListFilter = 'open' | 'overdue' | 'fulfilled' | 'cancelled' | 'partially_fulfilled';

/** Requests newest first; `open` includes partially fulfilled ones, `overdue` is open past the due date. */
export async function listFileRequests(em: Em, viewer: Viewer, opts: { status?: ListFilter; clientId?: string; limit: number; cursor?: string }): Promise<{ items: FileRequestSummary[]; nextCursor: string | null }> {
  let query = kysely(em).selectFrom('file_request as r').select((eb) => ['r.id', cursorTime(eb.ref('r.created_at')).as('at')])
    .where(visibleClient(viewer, 'r.client_id'));
  if (opts.status === 'open' || opts.status === 'overdue') query = query.where('r.status', 'in', ['open', 'partially_fulfilled']);
  else if (opts.status) query = query.where('r.status', '=', opts.status);
  if (opts.status === 'overdue') query = query.where('r.due_date', '<', today());
  if (opts.clientId) query = query.where('r.client_id', '=', opts.clientId);
  if (opts.cursor) {
    const pos = decodeCursor(opts.cursor);
    query = query.where((eb) => eb(eb.refTuple('r.created_at', 'r.id'), '<', eb.tuple(cursorTimestamp(pos), pos.id)));
  }
  const rows = await query.orderBy('r.created_at', 'desc').orderBy('r.id', 'desc').limit(opts.limit + 1).execute();
  const page = rows.slice(0, opts.limit);
  const found = page.length ? await em.find(FileRequest, { id: { $in: page.map((r) => r.id) } }) : [];
  const ordered = page.map((r) => found.find((f) => f.id === r.id)).filter((f): f is FileRequest => f !== undefined);
  const last = page[page.length - 1];
  return { items: await summarize(em, ordered), nextCursor: rows.length > opts.limit && last ? encodeCursor({ at: last.at, id: last.id }) : null };
}

export async function getFileRequest(em: Em, id: string): Promise<FileRequest> {
  const r = await em.findOne(FileRequest, { id });
  if (!r) throw new NotFoundError('File request');
  return r;
}

/** The request as `viewer` may see it: held replies they may not review are left out (issue 12). */
export async function getFileRequestView(em: Em, id: string, viewer: Reviewer): Promise<FileRequestView> {
  const r = await getFileRequest(em, id);
  const [summary] = await summarize(em, [r]);
  const items = await em.find(FileRequestItem, { fileRequest: r.id }, { orderBy: { position: 'asc' } });
  const docs = await kysely(em).selectFrom('file_request_document as fd').innerJoin('document as d', 'd.id', 'fd.document_id')
    .select(['fd.document_id', 'd.name', 'fd.item_id', 'fd.message_id'])
    .where('fd.file_request_id', '=', r.id)
    .orderBy('fd.created_at').orderBy('d.name')
    .execute();
  const all = await em.find(FileRequestEvent, { fileRequest: r.id }, { orderBy: { at: 'asc', id: 'asc' }, populate: ['actor'] });
  const heldIds = all.filter((e) => e.kind === 'held_for_review' && e.message).map((e) => e.message!.id);
  const reviewable = await listReviewableMessages(em, viewer, heldIds);
  // An accepted reply is filed and no secret any more; a pending one is its reviewers' alone.
  const accepted = new Set(all.filter((e) => e.kind === 'accepted' && e.message).map((e) => e.message!.id));
  const events = all.filter((e) => e.kind !== 'held_for_review' || (e.message && (reviewable.has(e.message.id) || accepted.has(e.message.id))));
  return {
    ...summary!,
    description: r.description,
    message: r.message,
    attachedDocumentIds: r.documentIds,
    reminders: { count: r.reminderCount, intervalDays: r.reminderIntervalSeconds / DAY_SECONDS },
    items: items.map((i) => ({ id: i.id, label: i.label, fulfilled: i.fulfilled, fulfilledAt: i.fulfilledAt?.toISOString() ?? null, documentIds: docs.filter((d) => d.item_id === i.id).map((d) => d.document_id) })),
    documents: docs.length,
    receivedDocuments: docs.map((d) => ({ id: d.document_id, name: d.name, itemId: d.item_id, messageId: d.message_id })),
    heldForReview: events.filter((e) => e.kind === 'held_for_review').length,
    timeline: events.map((e) => ({
      id: e.id, kind: e.kind, at: e.at.toISOString(), actor: e.actor ? { id: e.actor.id, name: e.actor.name } : null,
      address: e.address ?? null, messageId: e.message?.id ?? null, outboxId: e.outboxId ?? null, documentIds: e.documentIds, details: e.details,
    })),
  };
}

// ---------------------------------------------------------------- change

/**
 * Status from items and received documents: all items ticked (or, without items, any document) →
 * fulfilled; some progress → partially fulfilled. Fulfilment stops reminders and tells the owner.
 */
export async function recomputeFileRequestStatus(em: Em, request: FileRequest, actor: User | null): Promise<void> {
  if (request.status === 'cancelled') return;
  await em.flush();
  const db = kysely(em);
  const items = await db.selectFrom('file_request_item')
    .select((eb) => [eb.fn.countAll<string>().as('total'), eb.fn.countAll<string>().filterWhere('fulfilled', '=', true).as('done')])
    .where('file_request_id', '=', request.id)
    .executeTakeFirstOrThrow();
  const received = await db.selectFrom('file_request_document').select((eb) => eb.fn.countAll<string>().as('n'))
    .where('file_request_id', '=', request.id)
    .executeTakeFirstOrThrow();
  const total = Number(items.total);
  const done = Number(items.done);
  const docs = Number(received.n);
  const next: FileRequestStatus = (total > 0 ? done === total : docs > 0) ? 'fulfilled' : done > 0 || docs > 0 ? 'partially_fulfilled' : 'open';
  if (next === request.status) return;
  const was = request.status;
  request.status = next;
  if (next === 'fulfilled') {
    request.fulfilledAt = new Date();
    request.nextReminderAt = null;
    addEvent(em, request, 'fulfilled', { actor });
    await notifyUser(em, request.createdBy?.id, { kind: 'request_fulfilled', title: `File request fulfilled: ${request.subject}`, clientId: request.client.id, fileRequestId: request.id });
  } else if (was === 'fulfilled') {
    // Un-ticked by hand: open again; reminders stay off until staff resend.
    request.fulfilledAt = null;
  }
}

function assertChangeable(r: FileRequest): void {
  if (r.status === 'cancelled') throw new ConflictError('request_cancelled', 'The request was cancelled');
}

export async function cancelFileRequest(em: Em, user: User, id: string): Promise<FileRequest> {
  const r = await getFileRequest(em, id);
  if (r.status === 'cancelled') return r;
  if (r.status === 'fulfilled') throw new ConflictError('request_fulfilled', 'A fulfilled request cannot be cancelled');
  r.status = 'cancelled';
  r.cancelledAt = new Date();
  r.nextReminderAt = null;
  addEvent(em, r, 'cancelled', { actor: user });
  recordAudit(em, { actorId: user.id, action: 'file_request.cancel', entityType: 'file_request', entityId: r.id, clientId: r.client.id });
  return r;
}

/** Sends the request mail again to every recipient who may still get it, in the same thread and with the same token. */
export async function resendFileRequest(em: Em, user: User, id: string): Promise<Created> {
  const r = await getFileRequest(em, id);
  assertChangeable(r);
  if (r.status === 'fulfilled') throw new ConflictError('request_fulfilled', 'The request is already fulfilled');
  if (!r.account) throw new RuleError('account_required', 'The mailbox of this request was removed', 'accountId');
  const account = await em.findOneOrFail(MailAccount, { id: r.account.id }, { populate: ['owner'] });
  const recipients = await em.find(FileRequestRecipient, { fileRequest: r.id }, { orderBy: { createdAt: 'asc' } });
  const choices = await listRequestRecipients(em, r.client.id);
  const list = recipients.flatMap((rec) => {
    const choice = choices.find((c) => c.address === rec.address && c.eligible);
    return choice ? [{ choice, token: rec.token, recipient: rec }] : [];
  });
  if (!list.length) throw new RuleError('no_recipients', 'None of the recipients receives file requests any more (notify or category off)', 'recipients');
  const items = (await em.find(FileRequestItem, { fileRequest: r.id }, { orderBy: { position: 'asc' } })).map((i) => i.label);
  const outboxIds = queueRequestMails(em, user, r, account, list, items, 'resent');
  // Reminders restart from now if some remain.
  if (r.remindersSent < r.reminderCount) r.nextReminderAt = new Date(Date.now() + r.reminderIntervalSeconds * 1000);
  return { request: r, outboxIds };
}

export async function setFileRequestItem(em: Em, user: User, id: string, itemId: string, fulfilled: boolean): Promise<FileRequest> {
  const r = await getFileRequest(em, id);
  assertChangeable(r);
  const item = await em.findOne(FileRequestItem, { id: itemId, fileRequest: r.id });
  if (!item) throw new NotFoundError('Item');
  if (item.fulfilled !== fulfilled) {
    item.fulfilled = fulfilled;
    item.fulfilledAt = fulfilled ? new Date() : null;
    addEvent(em, r, 'item_updated', { actor: user, details: { itemId: item.id, label: item.label, fulfilled } });
    await recomputeFileRequestStatus(em, r, user);
  }
  return r;
}
