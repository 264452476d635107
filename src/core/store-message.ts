// Stores fetched mail: one content row per distinct message (dedupe key, see dedupe.ts), one location
// per (mailbox, uidvalidity, uid), addresses, attachments and their Blob rows, the thread id, then
// files new content to clients. Runs inside the caller's transaction; never touches IMAP or blob files.
import { randomUUID } from 'node:crypto';
import type { Em } from './db.ts';
import { normalizeAddress } from './addresses.ts';
import { fileMessage, type FilingDeps } from './filing.ts';
import { matchFileRequestReply } from './file-request-replies.ts';
import { matchDiscussionReply } from './discussion-replies.ts';
import { getThreadRootId, listThreadCandidates, threadIdFromRootId } from './threading.ts';
import { Attachment, Message, MessageAddress, MessageLocation, type AddressRole, type ParseStatus } from './message.entity.ts';
import type { Mailbox } from './mail-account.entity.ts';
import type { IncomingMessage, MailAddress } from './incoming-message.ts';

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
};

export type StoreContext = {
  mailbox: Pick<Mailbox, 'id' | 'role'>;
  uidValidity: string;
  /** Normalised addresses of every connected account: mail from them is outbound. */
  ownAddresses: ReadonlySet<string>;
  filing: FilingDeps;
};

export type StoreResult = { uid: number; messageId: string; created: boolean; linked: boolean };

const SNIPPET_LENGTH = 200;
const ROLES: ['from' | 'sender' | 'replyTo' | 'to' | 'cc' | 'bcc', AddressRole][] = [
  ['from', 'from'], ['sender', 'sender'], ['replyTo', 'reply_to'], ['to', 'to'], ['cc', 'cc'], ['bcc', 'bcc'],
];

/** Message ids (dedupe key -> id) already stored, for the caller to skip parsing what is known. */
export async function findStoredMessages(em: Em, dedupeHashes: string[]): Promise<Map<string, string>> {
  if (!dedupeHashes.length) return new Map();
  const rows = await em.execute<{ id: string; dedupe_hash: string }[]>('select id, dedupe_hash from message where dedupe_hash in (?)', [dedupeHashes]);
  return new Map(rows.map((r) => [r.dedupe_hash, r.id]));
}

/** Stores one message (see storeMessages). */
export async function storeMessage(em: Em, ctx: StoreContext, item: StoreItem): Promise<StoreResult> {
  return (await storeMessages(em, ctx, [item]))[0]!;
}

/**
 * Stores a batch in the caller's transaction and flushes. Content already stored (same dedupe key,
 * from any mailbox) only gets a new location: nothing is parsed, saved or filed again. A location
 * that exists is only brought up to date (the unique (mailbox, uidvalidity, uid) is the last guard).
 */
export async function storeMessages(em: Em, ctx: StoreContext, items: StoreItem[]): Promise<StoreResult[]> {
  if (!items.length) return [];
  const mailboxId = ctx.mailbox.id;
  const known = await findStoredMessages(em, [...new Set(items.map((i) => i.dedupeHash))]);
  const existingLocs = await em.find(MessageLocation, { mailbox: mailboxId, uidValidity: ctx.uidValidity, uid: { $in: items.map((i) => i.uid) } });
  const locByUid = new Map(existingLocs.map((l) => [Number(l.uid), l]));

  // Thread lookups for the whole batch at once: stored messages, then the ones created in this batch.
  const candidates = new Set<string>();
  for (const i of items) {
    if (known.has(i.dedupeHash)) continue;
    for (const c of listThreadCandidates(threadHeaders(i))) candidates.add(c);
  }
  const threadOf = new Map<string, string>();
  if (candidates.size) {
    const rows = await em.execute<{ message_id_header: string; thread_id: string }[]>(
      'select message_id_header, thread_id from message where message_id_header in (?) order by created_at asc',
      [[...candidates]],
    );
    for (const r of rows) if (!threadOf.has(r.message_id_header)) threadOf.set(r.message_id_header, r.thread_id);
  }

  const blobs = new Map<string, number>();
  const created = new Map<string, Message>();
  const results: StoreResult[] = [];
  const outboundIds: string[] = [];
  for (const item of items) {
    let messageId = known.get(item.dedupeHash) ?? created.get(item.dedupeHash)?.id;
    let isNew = false;
    if (!messageId) {
      // Known when the batch was prepared (so not parsed), gone now: let the caller retry the batch.
      if (!item.raw.sha256) throw new Error(`stored content of UID ${item.uid} disappeared while syncing`);
      const message = createContent(em, ctx, item, threadOf);
      blobs.set(item.raw.sha256, item.raw.size);
      for (const a of item.parsed?.attachments ?? []) if (a.stored) blobs.set(a.sha256, a.size);
      created.set(item.dedupeHash, message);
      if (item.messageId) threadOf.set(item.messageId, message.threadId);
      messageId = message.id;
      isNew = true;
    } else if (ctx.mailbox.role === 'sent') {
      // Known content found in Sent (e.g. first seen in a colleague's INBOX): it was sent by us.
      outboundIds.push(messageId);
    }
    const loc = locByUid.get(item.uid);
    if (loc) {
      loc.flags = cleanFlags(item.flags);
      loc.modseq = item.modseq;
      loc.removedAt = null;
      results.push({ uid: item.uid, messageId: loc.message.id, created: false, linked: false });
      continue;
    }
    const location = em.create(MessageLocation, {
      message: messageId, mailbox: mailboxId, uidValidity: ctx.uidValidity, uid: item.uid,
      flags: cleanFlags(item.flags), modseq: item.modseq, internalDate: item.internalDate,
    } as never);
    locByUid.set(item.uid, location);
    results.push({ uid: item.uid, messageId, created: isNew, linked: !isNew });
  }

  // Blob rows commit with the rows that use them; content-addressed, so a second writer is a no-op.
  if (blobs.size) {
    const entries = [...blobs];
    await em.execute(
      `insert into blob (sha256, size, created_at) values ${entries.map(() => '(?, ?, now())').join(', ')} on conflict (sha256) do nothing`,
      entries.flatMap(([sha, size]) => [sha, size]),
    );
  }
  if (outboundIds.length) await em.execute("update message set direction = 'outbound' where id in (?) and direction <> 'outbound'", [outboundIds]);
  await em.flush();
  for (const message of created.values()) await fileMessage(em, message, ctx.filing);
  for (const message of created.values()) await matchFileRequestReply(em, message, ctx.filing);
  for (const message of created.values()) await matchDiscussionReply(em, message);
  await em.flush();
  return results;
}

function threadHeaders(i: StoreItem) {
  const p = i.parsed;
  return { messageId: p?.messageIdHeader ?? i.messageId, inReplyTo: p?.inReplyTo ?? null, references: p?.references ?? [] };
}

const addressList = (p: IncomingMessage, key: (typeof ROLES)[number][0]): MailAddress[] => {
  const v = p[key];
  return Array.isArray(v) ? v : v ? [v] : [];
};

function createContent(em: Em, ctx: StoreContext, item: StoreItem, threadOf: Map<string, string>): Message {
  const p = item.parsed;
  const headers = threadHeaders(item);
  const found = listThreadCandidates(headers).find((c) => threadOf.has(c));
  const root = getThreadRootId(headers);
  const threadId = found ? threadOf.get(found)! : root ? threadIdFromRootId(root) : randomUUID();
  const fromAddress = p?.from ? normalizeAddress(p.from.address) : null;
  const outbound = ctx.mailbox.role === 'sent' || (fromAddress ? ctx.ownAddresses.has(fromAddress) : false);
  const status: ParseStatus = p ? p.parseStatus : 'failed';
  const text = p?.text ?? '';
  const message = em.create(Message, {
    messageIdHeader: headers.messageId,
    dedupeHash: item.dedupeHash,
    rawBlob: item.raw.sha256,
    rawSize: item.raw.size,
    subject: p?.subject ?? '',
    fromAddress,
    fromName: p?.from?.name || null,
    sentAt: p?.date ?? item.internalDate ?? new Date(),
    text,
    html: p?.html ?? null,
    snippet: text.replace(/\s+/g, ' ').trim().slice(0, SNIPPET_LENGTH),
    threadId,
    inReplyTo: p?.inReplyTo ?? null,
    references: p?.references ?? [],
    hasAttachments: p ? p.attachments.some((a) => !a.inline) : false,
    direction: outbound ? 'outbound' : 'inbound',
    parseStatus: status,
    parseError: p ? (p.parseError ?? (status === 'ok' ? null : 'could not be fully parsed')) : (item.parseError ?? 'not parsed'),
  } as never);
  if (p) {
    for (const [key, role] of ROLES) {
      addressList(p, key).forEach((a, position) => {
        const address = normalizeAddress(a.address);
        if (!address) return;
        em.create(MessageAddress, { message, role, address, name: a.name || null, position } as never);
      });
    }
    p.attachments.forEach((a, position) => {
      em.create(Attachment, { message, sha256: a.sha256, filename: a.filename, contentType: a.contentType, size: a.size, contentId: a.contentId, inline: a.inline, position } as never);
    });
  }
  return message;
}

/** \Recent belongs to a session (RFC 3501 §2.3.2), not to the message: never stored. */
export const cleanFlags = (flags: Iterable<string>) => [...flags].filter((f) => f !== '\\Recent').sort();

/** Recounts a folder's stored and failed messages from its live locations (exact after any crash). */
export async function refreshMailboxCounts(em: Em, mailboxId: string): Promise<{ stored: number; failed: number }> {
  const rows = await em.execute<{ stored: number; failed: number }[]>(
    `select count(*)::int as stored, count(*) filter (where m.parse_status = 'failed')::int as failed
       from message_location l join message m on m.id = l.message_id where l.mailbox_id = ? and l.removed_at is null`,
    [mailboxId],
  );
  const stored = Number(rows[0]?.stored ?? 0);
  const failed = Number(rows[0]?.failed ?? 0);
  await em.execute('update mailbox set stored_messages = ?, failed_messages = ? where id = ?', [stored, failed, mailboxId]);
  return { stored, failed };
}
