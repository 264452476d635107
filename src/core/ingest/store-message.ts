// Stores fetched mail: one content row per distinct message (dedupe key, see dedupe.ts), one location
// per (mailbox, uidvalidity, uid), addresses, attachments and their Blob rows, the thread id, then
// files new content to clients. Runs inside the caller's transaction; never touches IMAP or blob files.
// Batches are written set-based (multi-row INSERTs, one filing pass): per-row ORM work cost ~19 ms a message.
import { randomUUID } from 'node:crypto';
import { sql, type InsertObject, type Insertable } from 'kysely';
import { kysely, takesBinaryParams, withOrmErrors, type DB, type Em } from '../platform/db.ts';
import { normalizeAddress } from '../mail/addresses.ts';
import { fileMessages, type FilingDeps } from '../log/filing.ts';
import { announceFilingApprovals } from '../collaboration/filing-approvals.ts';
import { matchFileRequestReply } from '../collaboration/file-request-replies.ts';
import { matchDiscussionReply } from '../collaboration/discussion-replies.ts';
import { notifyClientOwners } from '../collaboration/client-mail-notices.ts';
import { messageSearchVector, type SearchVector } from '../mail/search-terms.ts';
import { getThreadRootId, listThreadCandidates, normalizeMessageId, threadIdFromRootId } from '../mail/threading.ts';
import { Message, type AddressRole, type ParseStatus } from '../mail/message.entity.ts';
import type { Mailbox } from '../mail/mail-account.entity.ts';
import type { IncomingMessage, MailAddress, MessageAuthentication } from '../mail/incoming-message.ts';

export type StoreItem = {
  uid: number;
  flags: string[];
  modseq: string | null;
  internalDate: Date | null;
  /** The raw source, already in the blob store. */
  raw: { sha256: string; size: number };
  dedupeHash: string;
  /** Message-ID as used in the dedupe key (for threading when nothing was parsed). */
  messageId: string | null;
  /**
   * The parse (its parseStatus may be 'failed': header fields as far as they could be read, raw kept).
   * Null when the content is already stored (only a location is added) or the parser gave up
   * (crashed, timed out): then it is stored raw as failed with parseError.
   */
  parsed: IncomingMessage | null;
  parseError: string | null;
  /** The message's search vector when the parse thread built it (see search-terms.ts); else built here. */
  search?: SearchVector;
  /** Sender verification from the parse thread (issue 12); absent when it was not checked. */
  authentication?: MessageAuthentication | null;
};

export type StoreContext = {
  /** Null for mail Dossier sent, stored when the SMTP server took it (storeSentMessage): no location yet. */
  mailbox: Pick<Mailbox, 'id' | 'role'> | null;
  uidValidity: string;
  /** Normalised addresses of every connected account: mail from them is outbound. */
  ownAddresses: ReadonlySet<string>;
  filing: FilingDeps;
  /** Told when matching a reply to a file request or discussion threw (its work was rolled back, the
   *  message stays stored): core has no logger, the sync logs it with the message id. */
  onReplyFailure?: (failure: { messageId: string; match: 'file_request' | 'discussion'; error: string }) => void;
  /** Receives the ids of outbox rows this batch queued (acknowledgements, notification copies of replies):
   *  the caller enqueues their send once the transaction has committed. */
  queuedMail?: string[];
};

/** The context of a sync: mail stored in a mailbox. */
export type MailboxStoreContext = StoreContext & { mailbox: Pick<Mailbox, 'id' | 'role'> };

export type StoreResult = { uid: number; messageId: string; created: boolean; linked: boolean };

const SNIPPET_LENGTH = 200;
const ROLES: ['from' | 'sender' | 'replyTo' | 'to' | 'cc' | 'bcc', AddressRole][] = [
  ['from', 'from'], ['sender', 'sender'], ['replyTo', 'reply_to'], ['to', 'to'], ['cc', 'cc'], ['bcc', 'bcc'],
];

/** Message ids (dedupe key -> id) already stored, for the caller to skip parsing what is known. */
export async function findStoredMessages(em: Em, dedupeHashes: string[]): Promise<Map<string, string>> {
  if (!dedupeHashes.length) return new Map();
  const rows = await kysely(em).selectFrom('message').select(['id', 'dedupe_hash']).where('dedupe_hash', 'in', dedupeHashes).execute();
  return new Map(rows.map((r) => [r.dedupe_hash, r.id]));
}

/** Stores one message (see storeMessages). */
export async function storeMessage(em: Em, ctx: StoreContext, item: StoreItem): Promise<StoreResult> {
  return (await storeMessages(em, ctx, [item]))[0]!;
}

/**
 * Stores a batch in the caller's transaction. Content already stored (same dedupe key, from any
 * mailbox) only gets a new location: nothing is parsed, saved or filed again. A location that exists
 * is only brought up to date (the unique (mailbox, uidvalidity, uid) is the last guard). Rows go in as
 * multi-row INSERTs (one statement per table and batch, not one per row through the unit of work), the
 * new content is filed in one set-based pass, and only messages that can answer a file request or a
 * discussion go through those matchers.
 */
export async function storeMessages(em: Em, ctx: StoreContext, items: StoreItem[]): Promise<StoreResult[]> {
  if (!items.length) return [];
  // Entities the caller created and not yet flushed (tests build mailboxes that way) must exist first.
  await em.flush();
  const mailboxId = ctx.mailbox?.id ?? null;
  const known = await findStoredMessages(em, [...new Set(items.map((i) => i.dedupeHash))]);
  // Mail Dossier sent was stored when the SMTP server took it: a copy of it (our APPEND has the same bytes
  // and is found above; a provider's own Sent copy may differ in content fields) joins that message by its
  // Message-ID, which Dossier generated (outbox.ts newMessageId), so no second record is made.
  const sentIds = [...new Set(items.filter((i) => !known.has(i.dedupeHash) && i.messageId).map((i) => i.messageId!))];
  if (sentIds.length) {
    const sent = await kysely(em).selectFrom('outbox').select(['message_id_header', 'sent_message_id'])
      .where('message_id_header', 'in', sentIds).where('sent_message_id', 'is not', null).execute();
    const byHeader = new Map(sent.map((r) => [r.message_id_header, r.sent_message_id!]));
    for (const i of items) if (!known.has(i.dedupeHash) && i.messageId && byHeader.has(i.messageId)) known.set(i.dedupeHash, byHeader.get(i.messageId)!);
  }
  const existingLocs = mailboxId === null ? [] : await kysely(em).selectFrom('message_location').select(['id', 'uid', 'message_id'])
    .where('mailbox_id', '=', mailboxId).where('uid_validity', '=', ctx.uidValidity).where('uid', 'in', items.map((i) => i.uid))
    .execute();
  const locByUid = new Map(existingLocs.map((l) => [Number(l.uid), l]));

  // Thread lookups for the whole batch at once: stored messages, then the ones created in this batch.
  const candidates = new Set<string>();
  for (const i of items) {
    if (known.has(i.dedupeHash)) continue;
    for (const c of listThreadCandidates(threadHeaders(i))) candidates.add(c);
  }
  const threadOf = new Map<string, string>();
  if (candidates.size) {
    const rows = await kysely(em).selectFrom('message').select(['message_id_header', 'thread_id'])
      .where('message_id_header', 'in', [...candidates]).orderBy('created_at', 'asc')
      .execute();
    for (const r of rows) if (r.message_id_header !== null && !threadOf.has(r.message_id_header)) threadOf.set(r.message_id_header, r.thread_id);
  }

  const rows: Rows = { messages: [], addresses: [], attachments: [], locations: [] };
  const blobs = new Map<string, number>();
  const created = new Map<string, NewContent>();
  const results: StoreResult[] = [];
  const outboundIds: string[] = [];
  const now = new Date();
  const searchFormat = takesBinaryParams(em) ? 'binary' : 'literal';
  for (const item of items) {
    let messageId = known.get(item.dedupeHash) ?? created.get(item.dedupeHash)?.id;
    let isNew = false;
    if (!messageId) {
      // Known when the batch was prepared (so not parsed), gone now: let the caller retry the batch.
      if (!item.raw.sha256) throw new Error(`stored content of UID ${item.uid} disappeared while syncing`);
      const content = createContent(ctx, item, threadOf, rows, now, searchFormat);
      blobs.set(item.raw.sha256, item.raw.size);
      for (const a of item.parsed?.attachments ?? []) if (a.stored) blobs.set(a.sha256, a.size);
      created.set(item.dedupeHash, content);
      if (item.messageId) threadOf.set(item.messageId, content.threadId);
      messageId = content.id;
      isNew = true;
    } else if (ctx.mailbox?.role === 'sent') {
      // Known content found in Sent (e.g. first seen in a colleague's INBOX): it was sent by us.
      outboundIds.push(messageId);
    }
    if (mailboxId === null) {
      results.push({ uid: item.uid, messageId, created: isNew, linked: false });
      continue;
    }
    const loc = locByUid.get(item.uid);
    if (loc) {
      await kysely(em).updateTable('message_location').set({ flags: cleanFlags(item.flags), modseq: item.modseq, removed_at: null }).where('id', '=', loc.id).execute();
      results.push({ uid: item.uid, messageId: loc.message_id, created: false, linked: false });
      continue;
    }
    rows.locations.push({
      id: randomUUID(), message_id: messageId, mailbox_id: mailboxId, uid_validity: ctx.uidValidity, uid: item.uid,
      flags: cleanFlags(item.flags), modseq: item.modseq, internal_date: item.internalDate,
    });
    locByUid.set(item.uid, { id: '', uid: item.uid, message_id: messageId });
    results.push({ uid: item.uid, messageId, created: isNew, linked: !isNew });
  }

  // Blob rows commit with the rows that use them; content-addressed, so a second writer is a no-op.
  const k = kysely(em);
  // Rows per INSERT statement: a batch is at most a few hundred messages, so usually one statement per
  // table. Bound parameters, not SQL text built from message bodies (em.execute would inline them:
  // megabytes of escaping on the sync's main thread and for PostgreSQL to lex).
  await withOrmErrors(em, async () => {
    for (const chunk of chunks([...blobs].map(([sha256, size]) => ({ sha256, size, created_at: now })))) {
      await k.insertInto('blob').values(chunk).onConflict((oc) => oc.column('sha256').doNothing()).execute();
    }
    for (const chunk of chunks(rows.messages)) await k.insertInto('message').values(chunk).execute();
    for (const chunk of chunks(rows.addresses)) await k.insertInto('message_address').values(chunk).execute();
    for (const chunk of chunks(rows.attachments)) await k.insertInto('attachment').values(chunk).execute();
    for (const chunk of chunks(rows.locations)) await k.insertInto('message_location').values(chunk).execute();
  });
  if (outboundIds.length) {
    await k.updateTable('message').set({ direction: 'outbound' }).where('id', 'in', outboundIds).where('direction', '<>', 'outbound').execute();
  }

  const fresh = [...created.values()];
  // Known content in a new location is filed again too: a private message that now also lies in a public
  // mailbox is the firm's mail (issue 12). Idempotent, so content already filed costs one statement.
  const relinked = results.filter((r) => r.linked).map((r) => r.messageId);
  if (relinked.length) await fileMessages(em, relinked, ctx.filing);
  if (fresh.length) {
    const filed = await fileMessages(em, fresh.map((c) => c.id), ctx.filing);
    // Client owners hear of new mail from outside the firm (not of the firm's own sent copies).
    await notifyClientOwners(em, fresh.filter((c) => c.inbound).flatMap((c) => (filed.get(c.id)?.filedNow ?? []).map((clientId) => ({ messageId: c.id, clientId }))));
    const replies = await selectReplyCandidates(em, fresh);
    if (replies.fileRequests.length || replies.discussions.length) {
      const loaded = new Map((await em.find(Message, { id: { $in: [...new Set([...replies.fileRequests, ...replies.discussions])] } })).map((m) => [m.id, m]));
      for (const id of replies.fileRequests) {
        const match = await matchFileRequestReply(em, loaded.get(id)!, ctx.filing);
        if (match.kind === 'failed') ctx.onReplyFailure?.({ messageId: match.messageId, match: 'file_request', error: match.error });
        if (match.kind === 'accepted' && match.acknowledgementOutboxId) ctx.queuedMail?.push(match.acknowledgementOutboxId);
      }
      for (const id of replies.discussions) {
        const match = await matchDiscussionReply(em, loaded.get(id)!);
        if (match.kind === 'failed') ctx.onReplyFailure?.({ messageId: match.messageId, match: 'discussion', error: match.error });
        if (match.kind === 'comment' || match.kind === 'held') ctx.queuedMail?.push(...match.outboxIds);
      }
    }
  }
  // Private mail held back for want of consent: its owners' bells (email copies go with the sync's mail).
  // (Called first: `ctx.queuedMail?.push(...)` would skip the call itself when no one collects mail.)
  const announced = await announceFilingApprovals(em);
  ctx.queuedMail?.push(...announced);
  await em.flush();
  return results;
}

/**
 * Stores mail Dossier just sent (the outbox row's message as the SMTP server took it) without a location,
 * files it (to the clients its addresses belong to, and the row's client) and links the row to it, so it
 * is in the thread and the client log at once, whether or not the account has a Sent folder. Its Sent
 * copy, when one syncs, only adds a location (same dedupe key, or the row's Message-ID: storeMessages).
 * The caller owns the transaction. Returns the message id.
 */
export async function storeSentMessage(em: Em, ctx: Omit<StoreContext, 'mailbox' | 'uidValidity'>, outboxId: string, item: StoreItem): Promise<string> {
  const [stored] = await storeMessages(em, { ...ctx, mailbox: null, uidValidity: '' }, [item]);
  await kysely(em).updateTable('outbox').set({ sent_message_id: stored!.messageId }).where('id', '=', outboxId).execute();
  return stored!.messageId;
}

// ---------------------------------------------------------------- rows

type Rows = {
  // Objects the builder takes (search is an expression: see createContent).
  messages: InsertObject<DB, 'message'>[];
  addresses: Insertable<DB['message_address']>[];
  attachments: Insertable<DB['attachment']>[];
  locations: Insertable<DB['message_location']>[];
};
/** What the reply pre-filter needs to know of a message created in this batch. */
type NewContent = {
  id: string;
  threadId: string;
  inbound: boolean;
  from: string | null;
  /** Normalised Message-IDs: its own and those it refers to (In-Reply-To, References). */
  ownId: string | null;
  refs: string[];
  /** Normalised To and Cc addresses (a file-request reply token lives there). */
  toCc: string[];
};

const ROWS_PER_INSERT = 500;
function* chunks<T>(rows: T[]): Generator<T[]> {
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) yield rows.slice(i, i + ROWS_PER_INSERT);
}

/** The list's preview line: whitespace collapsed over the opening only (bodies run to megabytes). */
const snippetOf = (text: string) => text.slice(0, SNIPPET_LENGTH * 4).replace(/\s+/g, ' ').trim().slice(0, SNIPPET_LENGTH);

function threadHeaders(i: StoreItem) {
  const p = i.parsed;
  return { messageId: p?.messageIdHeader ?? i.messageId, inReplyTo: p?.inReplyTo ?? null, references: p?.references ?? [] };
}

const addressList = (p: IncomingMessage, key: (typeof ROLES)[number][0]): MailAddress[] => {
  const v = p[key];
  return Array.isArray(v) ? v : v ? [v] : [];
};

function createContent(ctx: StoreContext, item: StoreItem, threadOf: Map<string, string>, rows: Rows, now: Date, searchFormat: 'literal' | 'binary'): NewContent {
  const p = item.parsed;
  const headers = threadHeaders(item);
  const found = listThreadCandidates(headers).find((c) => threadOf.has(c));
  const root = getThreadRootId(headers);
  const threadId = found ? threadOf.get(found)! : root ? threadIdFromRootId(root) : randomUUID();
  const fromAddress = p?.from ? normalizeAddress(p.from.address) : null;
  const outbound = ctx.mailbox === null || ctx.mailbox.role === 'sent' || (fromAddress ? ctx.ownAddresses.has(fromAddress) : false);
  const status: ParseStatus = p ? p.parseStatus : 'failed';
  const text = p?.text ?? '';
  const id = randomUUID();
  const references = p?.references ?? [];
  const subject = p?.subject ?? '';
  const fromName = p?.from?.name || null;
  const search = item.search ?? messageSearchVector({ subject, fromName, fromAddress, text }, searchFormat);
  rows.messages.push({
    id, message_id_header: headers.messageId ?? null, dedupe_hash: item.dedupeHash, raw_blob: item.raw.sha256, raw_size: item.raw.size,
    subject, from_address: fromAddress, from_name: fromName, sent_at: p?.date ?? item.internalDate ?? now, text, html: p?.html ?? null,
    snippet: snippetOf(text), thread_id: threadId, in_reply_to: p?.inReplyTo ?? null, references,
    has_attachments: p ? p.attachments.some((a) => !a.inline) : false, direction: outbound ? 'outbound' : 'inbound', parse_status: status,
    parse_error: p ? (p.parseError ?? (status === 'ok' ? null : 'could not be fully parsed')) : (item.parseError ?? 'not parsed'), created_at: now,
    authentication: item.authentication ?? null,
    // node-postgres sends a Buffer in binary (tsvector's own wire format, see search-terms.ts); PGlite
    // takes the literal. The cast names the parameter's type, which the builder has no form for.
    search: sql<string>`${search}::tsvector`,
  });
  const toCc: string[] = [];
  if (p) {
    for (const [key, role] of ROLES) {
      addressList(p, key).forEach((a, position) => {
        const address = normalizeAddress(a.address);
        if (!address) return;
        rows.addresses.push({ id: randomUUID(), message_id: id, role, address, name: a.name || null, position });
        if (role === 'to' || role === 'cc') toCc.push(address);
      });
    }
    p.attachments.forEach((a, position) => {
      rows.attachments.push({
        id: randomUUID(), message_id: id, sha256: a.sha256, filename: a.filename, content_type: a.contentType, size: a.size,
        content_id: a.contentId ?? null, inline: a.inline, position,
      });
    });
  }
  const ownId = normalizeMessageId(headers.messageId);
  const refs = [...new Set([p?.inReplyTo ?? null, ...references].map((r) => normalizeMessageId(r)).filter((r): r is string => !!r && r !== ownId))];
  return { id, threadId, inbound: !outbound, from: fromAddress, ownId, refs, toCc };
}

// ---------------------------------------------------------------- reply pre-filter

/** A file-request reply token in a plus address (see file-requests.ts replyTokenAddress). */
const REPLY_TOKEN = /\+r-[0-9a-f]{24}@/iu;

/**
 * Which new messages may answer a file request or a discussion, found for the whole batch in a few
 * set-based queries, so that the matchers (several queries each) run only for those: a superset of
 * what matchFileRequestReply and matchDiscussionReply accept. File requests: inbound mail, while some
 * request is open, with a reply token in To/Cc, a request's Message-ID among its references, or from an
 * address a request was sent to. Discussions: mail whose own Message-ID or references are a
 * discussion's or a comment's.
 */
async function selectReplyCandidates(em: Em, fresh: NewContent[]): Promise<{ fileRequests: string[]; discussions: string[] }> {
  const ids = [...new Set(fresh.flatMap((c) => [...c.refs, ...(c.ownId ? [c.ownId] : [])]))];
  const inbound = fresh.filter((c) => c.inbound && c.from);
  let fileRequests: string[] = [];
  if (inbound.length) {
    const k = kysely(em);
    const open = await k.selectFrom('file_request').select('id').where('status', 'in', ['open', 'partially_fulfilled']).limit(1).executeTakeFirst();
    if (open) {
      const refs = [...new Set(inbound.flatMap((c) => c.refs))];
      const hit = new Set<string>();
      if (refs.length) {
        const rows = await k.selectFrom('file_request_recipient').select('message_id_header as id').where('message_id_header', 'in', refs)
          .union(k.selectFrom('file_request_event as e').innerJoin('outbox as o', 'o.id', 'e.outbox_id').select('o.message_id_header as id').where('o.message_id_header', 'in', refs))
          .execute();
        for (const r of rows) if (r.id !== null) hit.add(r.id);
      }
      const senders = new Set((await k.selectFrom('file_request_recipient').select('address').distinct()
        .where('address', 'in', [...new Set(inbound.map((c) => c.from!))]).execute()).map((r) => r.address));
      fileRequests = inbound
        .filter((c) => senders.has(c.from!) || c.toCc.some((a) => REPLY_TOKEN.test(a)) || c.refs.some((r) => hit.has(r)))
        .map((c) => c.id);
    }
  }
  let discussions: string[] = [];
  if (ids.length) {
    const k = kysely(em);
    const rows = await k.selectFrom('discussion_comment').select('message_id_header as id').where('message_id_header', 'in', ids)
      .union(k.selectFrom('discussion').select('root_message_id_header as id').where('root_message_id_header', 'in', ids))
      .execute();
    const hit = new Set(rows.map((r) => r.id));
    if (hit.size) discussions = fresh.filter((c) => (c.ownId && hit.has(c.ownId)) || c.refs.some((r) => hit.has(r))).map((c) => c.id);
  }
  return { fileRequests, discussions };
}

/** \Recent belongs to a session (RFC 3501 §2.3.2), not to the message: never stored. */
export const cleanFlags = (flags: Iterable<string>) => [...flags].filter((f) => f !== '\\Recent').sort();

/** Recounts a folder's stored and failed messages from its live locations (exact after any crash). */
export async function refreshMailboxCounts(em: Em, mailboxId: string): Promise<{ stored: number; failed: number }> {
  const k = kysely(em);
  const counts = await k.selectFrom('message_location as l').innerJoin('message as m', 'm.id', 'l.message_id')
    .select((eb) => [
      eb.cast<number>(eb.fn.countAll(), 'integer').as('stored'),
      eb.cast<number>(eb.fn.countAll().filterWhere('m.parse_status', '=', 'failed'), 'integer').as('failed'),
    ])
    .where('l.mailbox_id', '=', mailboxId).where('l.removed_at', 'is', null)
    .executeTakeFirst();
  const stored = counts?.stored ?? 0;
  const failed = counts?.failed ?? 0;
  await k.updateTable('mailbox').set({ stored_messages: stored, failed_messages: failed }).where('id', '=', mailboxId).execute();
  return { stored, failed };
}
