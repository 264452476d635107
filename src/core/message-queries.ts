// Read side of mail: message lists (filters, full-text search, keyset pages), one message with its
// sanitised HTML, threads, and the files behind raw/attachment downloads. Every query goes through the
// visibility rule (core/visibility.ts); nothing here writes.
import type { Em } from './db.ts';
import { NotFoundError } from './errors.ts';
import { sanitizeMailHtml } from './html.ts';
import { cursorTimeSql, decodeCursor, encodeCursor } from './keyset-cursor.ts';
import type { Direction, ParseStatus } from './message.entity.ts';
import { visibleMailboxIdsSql, visibleMessageSql, type Viewer } from './visibility.ts';

export type MessageFilters = {
  accountId?: string;
  /** Folder path; with accountId that account's folder, else that path in any visible account. */
  folder?: string;
  clientId?: string;
  filed?: boolean;
  hasAttachments?: boolean;
  reasonId?: string;
  areaId?: string;
  direction?: Direction;
  q?: string;
};

export type AddressView = { name: string | null; address: string };
export type MessageSummary = {
  id: string;
  threadId: string;
  subject: string;
  from: AddressView | null;
  to: AddressView[];
  cc: AddressView[];
  date: string;
  snippet: string;
  hasAttachments: boolean;
  direction: Direction;
  clients: { id: string; name: string }[];
  folders: { accountId: string; path: string }[];
  /** No visible live location carries \Seen (false when the viewer sees it only through filing). */
  unread: boolean;
};
export type AttachmentView = { id: string; filename: string; contentType: string; size: number; inline: boolean };
export type MessageDetail = MessageSummary & {
  messageIdHeader: string | null;
  inReplyTo: string | null;
  references: string[];
  text: string;
  html: string | null;
  attachments: AttachmentView[];
  parseStatus: ParseStatus;
  /** Remote images removed because they were not allowed (the UI offers "show images"). */
  blockedImages: number;
};
export type Page<T> = { items: T[]; nextCursor: string | null };

/** How the HTTP layer names an attachment's bytes; core must not know routes. */
export type DetailOptions = { allowRemoteImages: boolean; attachmentUrl: (attachmentId: string) => string };

/** websearch_to_tsquery over unaccented input with the same 'simple' config the `search` columns use. */
export const tsQuerySql = `websearch_to_tsquery('simple', dossier_unaccent(?))`;

/** `alias.id in (...)`: messages whose own text or one of whose attachment names match the query. */
export function messageMatchesSql(alias: string, q: string): { sql: string; params: unknown[] } {
  return {
    sql:
      `${alias}.id in (select qm.id from message qm where qm.search @@ ${tsQuerySql}` +
      ` union select qa.message_id from attachment qa where qa.search @@ ${tsQuerySql})`,
    params: [q, q],
  };
}

function filterSql(viewer: Viewer, f: MessageFilters): { where: string[]; params: unknown[] } {
  const vis = visibleMessageSql(viewer, 'm');
  const where = [vis.sql];
  const params: unknown[] = [...vis.params];
  if (f.accountId !== undefined || f.folder !== undefined) {
    // Only locations the viewer may see count: filtering by a colleague's private account must not
    // reveal which filed messages sit in it.
    const boxes = visibleMailboxIdsSql(viewer);
    let sql = `exists (select 1 from message_location fl join mailbox fmb on fmb.id = fl.mailbox_id where fl.message_id = m.id and fl.removed_at is null and fl.mailbox_id in (${boxes.sql})`;
    params.push(...boxes.params);
    if (f.accountId !== undefined) {
      sql += ' and fmb.account_id = ?';
      params.push(f.accountId);
    }
    if (f.folder !== undefined) {
      sql += ' and fmb.path = ?';
      params.push(f.folder);
    }
    where.push(`${sql})`);
  }
  if (f.clientId !== undefined || f.reasonId !== undefined || f.areaId !== undefined) {
    // One communication record must match all of them (the reason is a tag on the client's record).
    let sql = 'm.id in (select fc.message_id from communication fc where fc.message_id is not null';
    for (const [col, value] of [['client_id', f.clientId], ['reason_id', f.reasonId], ['area_id', f.areaId]] as const) {
      if (value === undefined) continue;
      sql += ` and fc.${col} = ?`;
      params.push(value);
    }
    where.push(`${sql})`);
  }
  if (f.filed === true) where.push('exists (select 1 from communication ff where ff.message_id = m.id)');
  if (f.filed === false) where.push('not exists (select 1 from communication ff where ff.message_id = m.id)');
  if (f.hasAttachments !== undefined) {
    where.push('m.has_attachments = ?');
    params.push(f.hasAttachments);
  }
  if (f.direction !== undefined) {
    where.push('m.direction = ?');
    params.push(f.direction);
  }
  const q = f.q?.trim();
  if (q) {
    const match = messageMatchesSql('m', q);
    where.push(match.sql);
    params.push(...match.params);
  }
  return { where, params };
}

/** Summaries the viewer may see, newest first ((sent_at, id) descending; stable across pages). */
export async function listMessages(em: Em, viewer: Viewer, filters: MessageFilters, page: { limit: number; cursor?: string }): Promise<Page<MessageSummary>> {
  const { where, params } = filterSql(viewer, filters);
  if (page.cursor) {
    const pos = decodeCursor(page.cursor);
    where.push('(m.sent_at, m.id) < (?::timestamptz, ?::uuid)');
    params.push(pos.at, pos.id);
  }
  const rows = await em.execute<{ id: string; k: string }[]>(
    `select m.id, ${cursorTimeSql('m.sent_at')} as k from message m where ${where.join(' and ')} order by m.sent_at desc, m.id desc limit ?`,
    [...params, page.limit + 1],
  );
  const more = rows.length > page.limit;
  const pageRows = rows.slice(0, page.limit);
  const items = await loadSummaries(em, viewer, pageRows.map((r) => r.id));
  const last = pageRows.at(-1);
  return { items, nextCursor: more && last ? encodeCursor({ at: last.k, id: last.id }) : null };
}

type MessageRow = {
  id: string;
  thread_id: string;
  subject: string;
  from_name: string | null;
  from_address: string | null;
  sent_at: Date;
  snippet: string;
  has_attachments: boolean;
  direction: Direction;
};

/** Summaries for ids already known to be visible, in the order given. */
export async function loadSummaries(em: Em, viewer: Viewer, ids: string[]): Promise<MessageSummary[]> {
  if (ids.length === 0) return [];
  const boxes = visibleMailboxIdsSql(viewer);
  const [messages, addresses, clients, locations] = await Promise.all([
    em.execute<MessageRow[]>(
      'select id, thread_id, subject, from_name, from_address, sent_at, snippet, has_attachments, direction from message where id in (?)',
      [ids],
    ),
    em.execute<{ message_id: string; role: 'to' | 'cc'; name: string | null; address: string }[]>(
      `select message_id, role, name, address from message_address where message_id in (?) and role in ('to', 'cc') order by position, id`,
      [ids],
    ),
    em.execute<{ message_id: string; id: string; name: string }[]>(
      'select c.message_id, cl.id, cl.name from communication c join client cl on cl.id = c.client_id where c.message_id in (?) order by cl.name, cl.id',
      [ids],
    ),
    em.execute<{ message_id: string; account_id: string; path: string; flags: string[] }[]>(
      `select ml.message_id, mb.account_id, mb.path, ml.flags from message_location ml join mailbox mb on mb.id = ml.mailbox_id
       where ml.message_id in (?) and ml.removed_at is null and ml.mailbox_id in (${boxes.sql}) order by mb.account_id, mb.path`,
      [ids, ...boxes.params],
    ),
  ]);
  const byId = new Map<string, MessageSummary>();
  for (const m of messages) {
    byId.set(m.id, {
      id: m.id,
      threadId: m.thread_id,
      subject: m.subject,
      from: m.from_address ? { name: m.from_name || null, address: m.from_address } : null,
      to: [],
      cc: [],
      date: new Date(m.sent_at).toISOString(),
      snippet: m.snippet,
      hasAttachments: m.has_attachments,
      direction: m.direction,
      clients: [],
      folders: [],
      unread: false,
    });
  }
  for (const a of addresses) byId.get(a.message_id)?.[a.role].push({ name: a.name || null, address: a.address });
  for (const c of clients) byId.get(c.message_id)?.clients.push({ id: c.id, name: c.name });
  const seen = new Map<string, boolean>();
  for (const l of locations) {
    const s = byId.get(l.message_id);
    if (!s) continue;
    if (!s.folders.some((f) => f.accountId === l.account_id && f.path === l.path)) s.folders.push({ accountId: l.account_id, path: l.path });
    // IMAP flags are case-insensitive (RFC 3501 §2.3.2); read in any visible folder means read.
    const isSeen = l.flags.some((f) => f.toLowerCase() === '\\seen');
    seen.set(l.message_id, (seen.get(l.message_id) ?? false) || isSeen);
  }
  for (const [id, wasSeen] of seen) byId.get(id)!.unread = !wasSeen;
  return ids.map((id) => byId.get(id)).filter((s): s is MessageSummary => s !== undefined);
}

type DetailRow = {
  id: string;
  message_id_header: string | null;
  in_reply_to: string | null;
  references: string[];
  text: string;
  html: string | null;
  parse_status: ParseStatus;
};

/** Content-IDs compare without their angle brackets (RFC 2392 cid: URLs carry the bare addr-spec). */
const bareCid = (cid: string) => cid.trim().replace(/^<|>$/g, '').trim();

async function loadDetails(em: Em, viewer: Viewer, ids: string[], opts: DetailOptions): Promise<MessageDetail[]> {
  if (ids.length === 0) return [];
  const [summaries, rows, attachments] = await Promise.all([
    loadSummaries(em, viewer, ids),
    em.execute<DetailRow[]>(
      'select id, message_id_header, in_reply_to, "references", text, html, parse_status from message where id in (?)',
      [ids],
    ),
    em.execute<{ id: string; message_id: string; filename: string; content_type: string; size: string | number; inline: boolean; content_id: string | null }[]>(
      'select id, message_id, filename, content_type, size, inline, content_id from attachment where message_id in (?) order by position, id',
      [ids],
    ),
  ]);
  const rowById = new Map(rows.map((r) => [r.id, r]));
  return summaries.map((s) => {
    const row = rowById.get(s.id)!;
    const mine = attachments.filter((a) => a.message_id === s.id);
    // cid: references resolve only among this message's own parts (a hostile message may reuse
    // another message's Content-ID).
    const byCid = new Map<string, string>();
    for (const a of mine) if (a.content_id) byCid.set(bareCid(a.content_id), a.id);
    const clean = row.html === null ? null : sanitizeMailHtml(row.html, {
      allowRemoteImages: opts.allowRemoteImages,
      cidUrl: (cid) => {
        const id = byCid.get(bareCid(cid));
        return id === undefined ? null : opts.attachmentUrl(id);
      },
    });
    return {
      ...s,
      messageIdHeader: row.message_id_header,
      inReplyTo: row.in_reply_to,
      references: row.references,
      text: row.text,
      html: clean?.html ?? null,
      attachments: mine.map((a) => ({ id: a.id, filename: a.filename, contentType: a.content_type, size: Number(a.size), inline: a.inline })),
      parseStatus: row.parse_status,
      blockedImages: clean?.blockedRemote ?? 0,
    };
  });
}

/** One message with bodies; NotFoundError when it does not exist or the viewer may not see it. */
export async function getMessage(em: Em, viewer: Viewer, id: string, opts: DetailOptions): Promise<MessageDetail> {
  const vis = visibleMessageSql(viewer, 'm');
  const found = await em.execute<{ id: string }[]>(`select m.id from message m where m.id = ? and ${vis.sql}`, [id, ...vis.params]);
  if (found.length === 0) throw new NotFoundError('Message');
  return (await loadDetails(em, viewer, [id], opts))[0]!;
}

/** The visible messages of a thread, oldest first; NotFoundError when the viewer sees none of it. */
export async function listThread(em: Em, viewer: Viewer, threadId: string, opts: DetailOptions, limit = 200): Promise<MessageDetail[]> {
  const vis = visibleMessageSql(viewer, 'm');
  const rows = await em.execute<{ id: string }[]>(
    `select m.id from message m where m.thread_id = ? and ${vis.sql} order by m.sent_at asc, m.id asc limit ?`,
    [threadId, ...vis.params, limit],
  );
  if (rows.length === 0) throw new NotFoundError('Thread');
  return loadDetails(em, viewer, rows.map((r) => r.id), opts);
}

export type StoredFile = { sha256: string; size: number; filename: string; contentType: string };

/** The raw RFC 5322 source of a visible message (as kept in the blob store). */
export async function getMessageRaw(em: Em, viewer: Viewer, id: string): Promise<StoredFile> {
  const vis = visibleMessageSql(viewer, 'm');
  const rows = await em.execute<{ raw_blob: string; raw_size: number; subject: string }[]>(
    `select m.raw_blob, m.raw_size, m.subject from message m where m.id = ? and ${vis.sql}`,
    [id, ...vis.params],
  );
  const row = rows[0];
  if (!row) throw new NotFoundError('Message');
  return { sha256: row.raw_blob, size: Number(row.raw_size), filename: `${row.subject.trim() || 'message'}.eml`, contentType: 'message/rfc822' };
}

/** An attachment of a visible message; its size is the stored blob's (what we will actually send). */
export async function getAttachmentFile(em: Em, viewer: Viewer, attachmentId: string): Promise<StoredFile & { messageId: string; inline: boolean }> {
  const vis = visibleMessageSql(viewer, 'm');
  const rows = await em.execute<{ sha256: string; size: string | number; blob_size: string | number | null; filename: string; content_type: string; message_id: string; inline: boolean }[]>(
    `select a.sha256, a.size, b.size as blob_size, a.filename, a.content_type, a.message_id, a.inline
     from attachment a join message m on m.id = a.message_id left join blob b on b.sha256 = a.sha256
     where a.id = ? and ${vis.sql}`,
    [attachmentId, ...vis.params],
  );
  const row = rows[0];
  if (!row) throw new NotFoundError('Attachment');
  return {
    sha256: row.sha256,
    size: Number(row.blob_size ?? row.size),
    filename: row.filename,
    contentType: row.content_type,
    messageId: row.message_id,
    inline: row.inline,
  };
}
