// Read side of mail: message lists (filters, full-text search, keyset pages), one message with its
// sanitised HTML, threads, and the files behind raw/attachment downloads. Every query goes through the
// visibility rule (core/mail/visibility.ts); nothing here writes.
import { jsonArrayFrom } from 'kysely/helpers/postgres';
import { expressionBuilder, sql, type AliasableExpression, type Expression, type Kysely, type RawBuilder, type SqlBool } from 'kysely';
import { kysely, type DB, type Em } from '../platform/db.ts';
import { NotFoundError } from '../platform/errors.ts';
import { sanitizeMailHtml } from './html.ts';
import { cursorTime, decodeCursor, encodeCursor, type KeysetPosition } from '../platform/keyset-cursor.ts';
import type { Direction, ParseStatus } from './message.entity.ts';
import type { MessageAuthentication } from './incoming-message.ts';
import { tsqueryLiteral } from './search-terms.ts';
import { hasLiveLocation, hidesClients, isFiled, isFiledToAnyClient, isVisibleMessage, listVisibleMailboxes, visibleClient, type Viewer, type VisibleMailbox, type WithMessage } from './visibility.ts';
import { isReadBy } from './read-state.ts';

export type MessageFilters = {
  accountId?: string;
  /** Folder path; with accountId that account's folder, else that path in any visible account. */
  folder?: string;
  clientId?: string;
  filed?: boolean;
  /** Waiting for staff to choose a client (a contact in several clients that asks, issue 15); implies unfiled. */
  ambiguous?: boolean;
  hasAttachments?: boolean;
  reasonId?: string;
  areaId?: string;
  direction?: Direction;
  /** Only messages the viewer has (not) read (read state per user, core/mail/read-state.ts). */
  unread?: boolean;
  /** 'conversations': one row per thread, its newest message in the view, with threadCount. */
  view?: 'messages' | 'conversations';
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
  /** The viewer has not read it in Dossier (per user; the mailbox's \Seen plays no part). In the
   *  conversations view: some message of the conversation is unread. */
  unread: boolean;
  /** Conversations view only: how many of the thread's messages the view holds. */
  threadCount?: number;
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
  /** When it reached the firm (earliest IMAP INTERNALDATE of a visible copy); `date` is its Date header. */
  receivedAt: string | null;
  /** Sender verification at ingest (issue 12); null when it was not checked. */
  authentication: MessageAuthentication | null;
};
export type Page<T> = { items: T[]; nextCursor: string | null };

/** How the HTTP layer names an attachment's bytes; core must not know routes. */
export type DetailOptions = { allowRemoteImages: boolean; attachmentUrl: (attachmentId: string) => string; markQuotes?: boolean };

/** An empty tsquery matches nothing, as a query of no words should. */
export const messageTsQuery = (q: string) => tsqueryLiteral(q) ?? '';

/** websearch_to_tsquery over unaccented input with the same 'simple' config the generated `search` columns
 *  (communication, attachment, document names) use; neither function has a Kysely builder form. */
export const textQuery = (q: string): RawBuilder<unknown> => sql`websearch_to_tsquery('simple', dossier_unaccent(${q}))`;
/** The query for message vectors, which the application builds (core/mail/search-terms.ts) so that the same
 *  tokenizer reads the query: its tsquery literal, cast in SQL. */
export const messageTextQuery = (q: string): RawBuilder<unknown> => sql`${messageTsQuery(q)}::tsquery`;

/**
 * One way of producing candidate messages newest-first, as a query yielding `id` and `sent_at` (plus
 * `search` when asked) in (sent_at, id) descending order, at most `limit` rows (after `below`, a
 * position past the page's cursor, and not older than `notBefore`, when given); and the same test for
 * one message id (for checking GIN hits).
 *
 * The planner's queries are Kysely builders; `sql` appears only for what the builder has no form of: a
 * keyset position's microsecond time (text, cast in SQL: a JS Date would round it), to_char, and the
 * text-search operands. The shapes are hand-tuned for PostgreSQL's plans (see each branch and searchRows).
 */
type Stream = { withSearch?: boolean; limit: number; below?: KeysetPosition; notBefore?: string };
type Candidate = { id: string; sent_at: Date | null; search?: unknown };
type Branch = {
  stream: (k: Kysely<DB>, opts: Stream) => AliasableExpression<Candidate>;
  contains: (k: Kysely<DB>, id: Expression<string>) => AliasableExpression<Candidate>;
};
type Row = { id: string; k: string };

/** A filter on the message aliased `m`. */
type Condition = Expression<SqlBool>;
const msg = expressionBuilder<WithMessage, 'm'>();

/** An instant given as text at microsecond precision (a keyset position), as a timestamptz. */
const instant = (iso: string) => sql<Date>`${iso}::timestamptz`;
/** (time, id) strictly after `pos` in newest-first order. */
const olderThan = (time: Expression<unknown>, id: Expression<unknown>, pos: KeysetPosition) =>
  sql<SqlBool>`(${time}, ${id}) < (${instant(pos.at)}, ${sql`${pos.id}::uuid`})`;

/** Walks message(sent_at, id) newest-first: right when most messages qualify (filed mail, a client's). */
function messageBranch(where: Condition[], cursor: KeysetPosition | null): Branch {
  const after = (pos: KeysetPosition | null | undefined, notBefore?: string): Condition[] => [
    ...where,
    ...(pos ? [olderThan(msg.ref('m.sent_at'), msg.ref('m.id'), pos)] : []),
    ...(notBefore ? [msg('m.sent_at', '>=', instant(notBefore))] : []),
  ];
  return {
    stream: (k, { withSearch, limit, below, notBefore }) => k.selectFrom('message as m')
      .select(['m.id', 'm.sent_at'])
      .$if(!!withSearch, (qb) => qb.select('m.search'))
      .where(msg.and(after(below ?? cursor, notBefore)))
      .orderBy('m.sent_at', 'desc').orderBy('m.id', 'desc')
      .limit(limit),
    contains: (k, id) => k.selectFrom('message as m').select(['m.id', 'm.sent_at'])
      .where(msg.and(after(cursor))).where('m.id', '=', id),
  };
}

/**
 * Reads the live locations of some mailboxes newest-first from message_location(mailbox_id, sent_at,
 * message_id), one ordered index range per mailbox merged (an IN list over the index would have to
 * read and sort them all): right for a folder, "my mailboxes" and the unfiled queue however small a
 * share of all mail they are. A message appears once however many locations it has, in one mailbox
 * (the same mail delivered twice: its locations are adjacent in the index, so DISTINCT ON streams) or
 * in several. `unfiledOnly` reads only locations flagged unfiled (their own index; the flag may lag a
 * new filing, so `where` still tests for a communication record).
 */
function mailboxBranch(mailboxIds: string[], where: Condition[], cursor: KeysetPosition | null, unfiledOnly = false): Branch {
  const loc = expressionBuilder<WithMessage & { l: DB['message_location'] }, 'l' | 'm'>();
  const after = (pos: KeysetPosition | null | undefined, notBefore?: string): Condition[] => [
    loc('l.removed_at', 'is', null),
    ...(unfiledOnly ? [loc.not(loc.ref('l.filed'))] : []), ...where,
    ...(pos ? [olderThan(loc.ref('l.sent_at'), loc.ref('l.message_id'), pos)] : []),
    ...(notBefore ? [loc('l.sent_at', '>=', instant(notBefore))] : []),
  ];
  const locations = (k: Kysely<DB>) => k.selectFrom('message_location as l').innerJoin('message as m', 'm.id', 'l.message_id');
  return {
    stream: (k, { withSearch, limit, below, notBefore }) => {
      const conditions = after(below ?? cursor, notBefore);
      const one = (mailboxId: string) => locations(k)
        .distinctOn(['l.sent_at', 'l.message_id'])
        .select(['l.message_id as id', 'l.sent_at'])
        .$if(!!withSearch, (qb) => qb.select('m.search'))
        .where('l.mailbox_id', '=', mailboxId).where(loc.and(conditions))
        .orderBy('l.sent_at', 'desc').orderBy('l.message_id', 'desc')
        .limit(limit);
      if (mailboxIds.length === 1) return one(mailboxIds[0]!);
      // Each mailbox's stream stays an ordered, limited index range (a subquery: a set operation's
      // operands cannot carry their own ORDER BY and LIMIT), merged and deduplicated.
      const [first, ...others] = mailboxIds.map((id, i) => k.selectFrom(one(id).as(`b${i}`)).selectAll());
      const merged = others.reduce((u, q) => u.unionAll(q), first!);
      return k.selectFrom(merged.as('u')).distinctOn(['u.sent_at', 'u.id']).selectAll()
        .orderBy('u.sent_at', 'desc').orderBy('u.id', 'desc').limit(limit);
    },
    contains: (k, id) => locations(k).select(['l.message_id as id', 'l.sent_at'])
      .where('l.mailbox_id', 'in', mailboxIds).where(loc.and(after(cursor))).where('l.message_id', '=', id)
      .limit(1),
  };
}

/**
 * The branches a list runs, from the filters and the viewer's mailboxes: one per way a message can
 * qualify, each ordered and limited on its own (an OR of two EXISTS would make PostgreSQL hash a
 * whole table before returning the first row). Null when nothing can match.
 */
function planBranches(filters: MessageFilters, boxes: VisibleMailbox[], cursor: KeysetPosition | null, viewer: Viewer, hidden: boolean): Plan | null {
  const where: Condition[] = [];
  // Mail waiting for a client is unfiled mail (it is visible only through its mailboxes) with a waiting row.
  const f = filters.ambiguous === true ? { ...filters, filed: false } : filters;
  if (filters.ambiguous === true) where.push(isAwaitingClient());
  else if (filters.ambiguous === false) where.push(msg.not(isAwaitingClient()));
  let impliesVisible = false;
  if (f.clientId !== undefined || f.reasonId !== undefined || f.areaId !== undefined) {
    // One communication record must match all of them (the reason is a tag on the client's record).
    const { clientId, reasonId, areaId } = f;
    where.push(msg('m.id', 'in', msg.selectFrom('communication as fc').select('fc.message_id')
      .where('fc.message_id', 'is not', null)
      .where(visibleClient(viewer, 'fc.client_id'))
      .$if(clientId !== undefined, (qb) => qb.where('fc.client_id', '=', clientId!))
      .$if(reasonId !== undefined, (qb) => qb.where('fc.reason_id', '=', reasonId!))
      .$if(areaId !== undefined, (qb) => qb.where('fc.area_id', '=', areaId!))));
    impliesVisible = true; // mail filed to a client the viewer sees is visible to them
  }
  if (f.filed === true) {
    where.push(isFiled(viewer));
    impliesVisible = true;
  }
  if (f.filed === false) where.push(msg.not(isFiled(viewer)));
  if (f.hasAttachments !== undefined) where.push(msg('m.has_attachments', '=', f.hasAttachments));
  if (f.direction !== undefined) where.push(msg('m.direction', '=', f.direction));
  const chosen = f.accountId !== undefined || f.folder !== undefined
    // Only mailboxes the viewer may see count: filtering by a colleague's private account must not
    // reveal which filed messages sit in it. A visible mailbox makes its messages visible.
    ? boxes.filter((b) => (f.accountId === undefined || b.accountId === f.accountId) && (f.folder === undefined || b.path === f.folder)).map((b) => b.id)
    : null;
  if (chosen?.length === 0) return null;
  // What puts a message in this view (read state aside): conversations count and group by it.
  const inView = msg.and([...where, chosen ? hasLiveLocation(chosen) : isVisibleMessage(viewer, boxes.map((b) => b.id))]);
  if (f.view === 'conversations') where.push(newestOfThreadInView(inView));
  if (f.unread !== undefined) where.push(f.unread ? msg.not(isReadBy(viewer)) : isReadBy(viewer));
  const plan = (branches: Branch[]): Plan => ({ branches, inView });
  // With a client hidden from the viewer, "unfiled for them" includes mail the flag calls filed.
  if (chosen) return plan([mailboxBranch(chosen, where, cursor, f.filed === false && !hidden)]);
  if (impliesVisible) return plan([messageBranch(where, cursor)]);
  const mine = boxes.map((b) => b.id);
  // Unfiled mail is visible only through a mailbox; otherwise through a mailbox or through filing. The
  // filed branch brings the filed mail of the viewer's mailboxes too, so the mailboxes need give only
  // their unfiled locations (their own small index; the two branches no longer overlap). The filed
  // branch comes first: a search walks it first, the much sparser unfiled mail only as far back.
  const branches = f.filed !== false ? [messageBranch([...where, isFiled(viewer)], cursor)] : [];
  if (mine.length) branches.push(mailboxBranch(mine, where, cursor, true));
  // Mail of the viewer's mailboxes filed only to clients hidden from them (restricted) is still theirs
  // through the mailbox: its locations are flagged filed, so the unfiled branch above skips it. Only
  // when some client is hidden; the union and the search's merge drop the overlap.
  if (mine.length && hidden && f.filed !== true) branches.push(mailboxBranch(mine, [...where, isFiledToAnyClient(), msg.not(isFiled(viewer))], cursor));
  return branches.length ? plan(branches) : null;
}

/** The branches to run, and the condition (on `m`) that puts a message in the view. */
type Plan = { branches: Branch[]; inView: Condition };

/**
 * The message aliased `m` is its thread's newest ((sent_at, id) order) among the thread's messages in
 * the view: the conversations view lists only these, so the keyset pages stay those of messages. `inView`
 * names its message `m`, so it is applied inside a subquery whose own `m` (the nearer alias) is the later
 * thread message being tested; threads are small and message(thread_id) is indexed.
 */
function newestOfThreadInView(inView: Condition): Condition {
  const eb = expressionBuilder<WithMessage & { tn: DB['message'] }, 'm'>();
  return eb.not(eb.exists(eb.selectFrom('message as tn').select(eb.lit(1).as('one'))
    .whereRef('tn.thread_id', '=', 'm.thread_id')
    .where(sql<SqlBool>`(tn.sent_at, tn.id) > (m.sent_at, m.id)`)
    .where(sql<SqlBool>`exists (select 1 from message m where m.id = tn.id and ${inView})`)));
}

/** How many visible, filtered messages a search first reads newest-first, testing each. */
export const SEARCH_WINDOW = 500;
/** The furthest the first branch walks on when its first walk shows the words are merely uncommon;
 *  when they are rarer (about 2.5% of mail), asking the GIN index costs less. */
export const SEARCH_MAX_WALK = 4000;
/** Time windows a search asks the GIN index about before it asks about all older mail at once. */
const SEARCH_MAX_WINDOWS = 5;

/**
 * Summaries the viewer may see, newest first ((sent_at, id) descending; stable across pages).
 * With `q`, a message matches when its own search vector (subject, sender, body) matches the whole
 * query, or one of its attachment names does.
 */
export async function listMessages(
  em: Em, viewer: Viewer, filters: MessageFilters, page: { limit: number; cursor?: string }, opts: { searchWindow?: number } = {},
): Promise<Page<MessageSummary>> {
  const cursor = page.cursor ? decodeCursor(page.cursor) : null;
  const boxes = await listVisibleMailboxes(em, viewer);
  const plan = planBranches(filters, boxes, cursor, viewer, await hidesClients(em, viewer));
  if (!plan) return { items: [], nextCursor: null };
  const { branches } = plan;
  const n = page.limit + 1;
  const q = filters.q?.trim();
  const rows = q ? await searchRows(em, branches, q, n, opts.searchWindow ?? SEARCH_WINDOW) : await newestRows(em, branches, n);
  const more = rows.length > page.limit;
  const pageRows = rows.slice(0, page.limit);
  const items = await loadSummaries(em, viewer, pageRows.map((r) => r.id), boxes);
  if (filters.view === 'conversations') await addThreadCounts(em, viewer, items, plan.inView);
  const last = pageRows.at(-1);
  return { items, nextCursor: more && last ? encodeCursor({ at: last.k, id: last.id }) : null };
}

/** The message aliased `m` waits for staff to choose a client (awaiting-client.entity.ts). */
function isAwaitingClient(): Condition {
  return msg.exists(msg.selectFrom('message_awaiting_client as aw').select(msg.lit(1).as('one')).whereRef('aw.message_id', '=', 'm.id'));
}

/** How many messages the viewer may see wait for a client (Inbox+'s "Needs a client" count). */
export async function countAwaitingClient(em: Em, viewer: Viewer): Promise<number> {
  const boxes = await listVisibleMailboxes(em, viewer);
  if (!boxes.length) return 0;
  const row = await kysely(em).selectFrom('message_awaiting_client as aw')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where((eb) => eb.exists(eb.selectFrom('message_location as l').select(eb.lit(1).as('one'))
      .whereRef('l.message_id', '=', 'aw.message_id').where('l.removed_at', 'is', null).where('l.mailbox_id', 'in', boxes.map((b) => b.id))))
    .where((eb) => eb.not(eb.exists(eb.selectFrom('communication as c').select(eb.lit(1).as('one')).whereRef('c.message_id', '=', 'aw.message_id'))))
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** The newest `n` rows of the union of branches (each branch limited on its own first). */
async function newestRows(em: Em, branches: Branch[], n: number): Promise<Row[]> {
  const k = kysely(em);
  const [first, ...others] = branches.map((b, i) => k.selectFrom(b.stream(k, { limit: n }).as(`s${i}`)).select(['id', 'sent_at']));
  const inner = others.reduce((u, q) => u.union(q), first!);
  return k.selectFrom(inner.as('x'))
    .select((eb) => ['x.id', cursorTime(eb.ref('x.sent_at')).as('k')])
    .orderBy('x.sent_at', 'desc').orderBy('x.id', 'desc').limit(n)
    .execute();
}

/**
 * The candidate (id and search vector given) matches the query: its own vector (subject, sender, body)
 * or one of its attachment names. attachment.search is a generated column the entities leave out (the
 * ORM must never write it), hence SQL text for that part.
 */
const textMatch = (id: Expression<string>, search: Expression<unknown>, q: string, tsQuery: string) =>
  sql<SqlBool>`(${search} @@ ${sql`${tsQuery}::tsquery`} or exists (select 1 from attachment qa where qa.message_id = ${id} and qa.search @@ ${textQuery(q)}))`;

/** A row's place in (sent_at, id) order as text that compares the same way ("k id"). */
const rowKey = (r: Row) => `${r.k} ${r.id}`;

/**
 * Full-text search, newest first. How common the words are decides how to find the newest matches,
 * and PostgreSQL cannot be left to guess: its statistics name only the thousand most common lexemes,
 * and a LIMIT plan that walks newest-first expecting matches spread evenly reads the whole table
 * when there are none. So the search looks first, then picks:
 *  1. walk the newest `window` (SEARCH_WINDOW) candidates of the first branch (filed mail, or the one
 *     branch there is) and test each, stopping at `n` hits; then the other branch (the viewer's
 *     unfiled mail) as far back in time. A branch is complete down to its `n`-th hit, the end of its
 *     walk, or the time it walked to; hits newer than every branch's limit are the answer when there
 *     are `n` of them (common words, or any search within a small set such as one client's mail).
 *  2. when the words turned up often enough that the first branch reaches where `n` matches should
 *     lie within SEARCH_MAX_WALK candidates, walk on there: each message tested costs reading its
 *     (TOASTed) vector, so this pays only for fairly common words.
 *  3. otherwise olderMatches asks the GIN indexes for the matches below that point, a time window at
 *     a time.
 */
async function searchRows(em: Em, branches: Branch[], q: string, n: number, window: number): Promise<Row[]> {
  const tsQuery = messageTsQuery(q);
  const [head, ...rest] = branches as [Branch, ...Branch[]];
  // The first branch walks `window` candidates; the others as far back as it got (when it did not run
  // out), at most `cap` candidates: what they read further would be below the merged cutoff anyway.
  const walkAll = async (headLimit: number, cap: number, from?: Walk[]) => {
    const first = await walkOn(em, head, q, tsQuery, n, { limit: headLimit, from: from?.[0] });
    const notBefore = isOpen(first) ? first.end!.at : undefined;
    return [first, ...(await Promise.all(rest.map((b, i) => walkOn(em, b, q, tsQuery, n, { limit: cap, from: from?.[i + 1], notBefore }))))];
  };
  let walks = await walkAll(window, window);
  // How often the words turn up, in matches per ms of mail: each unfinished branch's hits (plus one:
  // none in a short walk says little) over the stretch it walked, added up (the filed branch and the
  // mailboxes' unfiled locations do not overlap).
  const rate = () => walks.filter((w) => isOpen(w) && w.newest !== null)
    .reduce((sum, w) => sum + (w.hits.length + 1) / spanMs(Date.parse(w.newest!), Date.parse(w.end!.at)), 0);
  const newest = () => walks.map((w) => w.newest).filter((t): t is string => t !== null).sort().at(-1);
  const first = walks[0]!;
  if (isOpen(first) && first.hits.length < n && first.newest !== null && merge(walks, n).length < n) {
    // Walk on to where n matches (and half as many again) should lie, when the first branch gets
    // there within SEARCH_MAX_WALK candidates.
    const targetMs = Date.parse(first.newest) - (1.5 * n) / rate();
    const needed = Math.ceil((first.rows * (Date.parse(first.newest) - targetMs)) / spanMs(Date.parse(first.newest), Date.parse(first.end!.at)));
    if (needed > first.rows && needed <= SEARCH_MAX_WALK) walks = await walkAll(needed - first.rows, SEARCH_MAX_WALK, walks);
  }
  const sorted = merge(walks, n);
  const limits = walks.filter(isOpen).map((w) => rowKey({ k: w.end!.at, id: w.end!.id })).sort();
  if (sorted.length >= n || limits.length === 0) return sorted.slice(0, n);
  const below = limits.at(-1)!;
  return [...sorted, ...(await olderMatches(em, branches, q, tsQuery, n - sorted.length, { below, newest: newest() ?? below.split(' ')[0]!, found: sorted.length, rate: rate() }))];
}

/** The hits of all walks down to the furthest position every open branch is complete to, newest first. */
function merge(walks: Walk[], n: number): Row[] {
  const cutoff = walks.filter(isOpen).map((w) => rowKey({ k: w.end!.at, id: w.end!.id })).sort().at(-1) ?? '';
  const merged = new Map<string, Row>();
  for (const w of walks) for (const h of w.hits) if (rowKey(h) >= cutoff) merged.set(h.id, h);
  return [...merged.values()].sort((x, y) => (rowKey(x) < rowKey(y) ? 1 : rowKey(x) > rowKey(y) ? -1 : 0)).slice(0, n);
}

/**
 * What walking a branch newest-first has seen: its hits (at most n, newest first), how many candidates
 * it read, the newest candidate's time, the last position it is complete down to (the n-th hit when it
 * found n, the last candidate read, or the time it was to stop at), and whether it read the branch to its end.
 */
type Walk = { hits: Row[]; rows: number; newest: string | null; end: KeysetPosition | null; exhausted: boolean };
/** A branch with more to read below its walk. */
const isOpen = (w: Walk) => !w.exhausted && w.end !== null;
/** The smallest uuid: (t, NIL_UUID) is the first position at instant t in newest-first order. */
const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/**
 * Reads up to `limit` candidates of a branch newest-first, after an earlier walk `from` and down to
 * `notBefore` when given, testing each. When it stops at `notBefore` the branch is complete down to
 * that instant.
 */
async function walkOn(em: Em, b: Branch, q: string, tsQuery: string, n: number, opts: { limit: number; from?: Walk; notBefore?: string }): Promise<Walk> {
  const { limit, from, notBefore } = opts;
  const below = from?.end ?? undefined;
  if (from && (from.exhausted || from.hits.length >= n)) return from;
  const hits = [...(from?.hits ?? [])];
  // The subquery's order carries through, so the outer LIMIT stops the walk at the n-th hit.
  const k = kysely(em);
  hits.push(...(await k.selectFrom(b.stream(k, { withSearch: true, limit, below, notBefore }).as('w'))
    .select((eb) => ['w.id', cursorTime(eb.ref('w.sent_at')).as('k')])
    .where((eb) => textMatch(eb.ref('w.id'), eb.ref('w.search'), q, tsQuery))
    .orderBy('w.sent_at', 'desc').orderBy('w.id', 'desc').limit(n - hits.length)
    .execute()));
  const newest = from?.newest ?? null;
  if (hits.length >= n) {
    const last = hits.at(-1)!;
    return { hits, rows: (from?.rows ?? 0) + limit, newest: newest ?? hits[0]!.k, end: { at: last.k, id: last.id }, exhausted: false };
  }
  // Fewer hits than asked: where did the walk end (an exhausted branch is complete)?
  const end = await k.selectFrom(b.stream(k, { limit, below, notBefore }).as('w'))
    .select((eb) => [
      eb.cast<number>(eb.fn.countAll().over(), 'integer').as('rows'),
      cursorTime(eb.fn.max('w.sent_at').over()).as('newest'),
      'w.id', cursorTime(eb.ref('w.sent_at')).as('k'),
    ])
    .orderBy('w.sent_at').orderBy('w.id').limit(1)
    .executeTakeFirst();
  const rows = (from?.rows ?? 0) + (end?.rows ?? 0);
  if (end && end.rows >= limit) return { hits, rows, newest: newest ?? end.newest, end: { at: end.k, id: end.id }, exhausted: false };
  if (notBefore) return { hits, rows, newest: newest ?? end?.newest ?? null, end: { at: notBefore, id: NIL_UUID }, exhausted: false };
  return { hits, rows, newest: newest ?? end?.newest ?? null, end: end ? { at: end.k, id: end.id } : (from?.end ?? null), exhausted: true };
}

/** A stretch of mail in ms, never less than an hour: a burst of mail at one instant tells no rate. */
const spanMs = (newerMs: number, olderMs: number) => Math.max(newerMs - olderMs, 3_600_000);

/**
 * The newest `n` matches strictly after `from.below` (newest-first), from the GIN indexes. Every hit the
 * index names costs a visit to its table page, so rather than all of them (thousands for a word in 1%
 * of mail, mostly on pages not in memory) it asks for those in a time window below the walk, sized
 * to hold the missing matches (and half as many again) at the rate the walk met them (`rate` per ms);
 * then in the next window, at least as long as all before it, sized from what they found (16 times
 * all before when nothing turned up). After SEARCH_MAX_WINDOWS the rest is one query over all older mail.
 */
async function olderMatches(
  em: Em, branches: Branch[], q: string, tsQuery: string, n: number, from: { below: string; newest: string; found: number; rate: number },
): Promise<Row[]> {
  const belowMs = Date.parse(from.below.split(' ')[0]!);
  const newestMs = Math.max(Date.parse(from.newest), belowMs);
  const [belowAt, belowId] = from.below.split(' ') as [string, string];
  let older: Older = (time, id) => olderThan(time, id, { at: belowAt, id: belowId });
  let lowerMs = belowMs - (1.5 * n) / from.rate;
  const rows: Row[] = [];
  for (let i = 0; ; i++) {
    // Before 1970 there is no mail worth a window (only broken Date headers): ask for all of it.
    const lower = i < SEARCH_MAX_WINDOWS && lowerMs > 0 ? new Date(lowerMs).toISOString() : null;
    rows.push(...(await indexedMatches(em, branches, q, tsQuery, n - rows.length, older, lower)));
    if (rows.length >= n || lower === null) return rows;
    older = (time) => sql<SqlBool>`${time} < ${instant(lower)}`;
    const covered = spanMs(newestMs, lowerMs);
    const rate = (from.found + rows.length) / covered;
    lowerMs -= rate > 0 ? Math.max(covered, (1.5 * (n - rows.length)) / rate) : 16 * covered;
  }
}

/** Which (time, id) positions a GIN pass may return: below the walk, then below the last window. */
type Older = (time: Expression<Date>, id: Expression<string>) => Expression<SqlBool>;

/**
 * The newest `n` matches that `older` admits and are no older than `lower` (when given): the GIN hits
 * (message text, attachment names) in that range, each checked against the branches (LATERAL keeps
 * the planner from walking the whole message table instead).
 */
async function indexedMatches(em: Em, branches: Branch[], q: string, tsQuery: string, n: number, older: Older, lower: string | null): Promise<Row[]> {
  const inRange = (time: Expression<Date>, id: Expression<string>) => {
    const o = older(time, id);
    return lower === null ? o : sql<SqlBool>`${o} and ${time} >= ${instant(lower)}`;
  };
  const k = kysely(em);
  return k.with((cte) => cte('hits').materialized(), (db) => db.selectFrom('message as qm').select('qm.id')
    .where((eb) => eb.and([sql<SqlBool>`${eb.ref('qm.search')} @@ ${messageTextQuery(q)}`, inRange(eb.ref('qm.sent_at'), eb.ref('qm.id'))]))
    .union(db.selectFrom('attachment as qa').innerJoin('message as am', 'am.id', 'qa.message_id').select('qa.message_id as id')
      // attachment.search: a generated column the entities leave out (see textMatch).
      .where((eb) => eb.and([sql<SqlBool>`qa.search @@ ${textQuery(q)}`, inRange(eb.ref('am.sent_at'), eb.ref('am.id'))]))))
    .selectFrom((db) => {
      const [first, ...others] = branches.map((b) => db.selectFrom('hits as h')
        .crossJoinLateral(b.contains(k, sql.ref<string>('h.id')).as('x')).select(['x.id', 'x.sent_at']));
      return others.reduce((u, part) => u.union(part), first!).as('y');
    })
    .select((eb) => ['y.id', cursorTime(eb.ref('y.sent_at')).as('k')])
    .orderBy('y.sent_at', 'desc').orderBy('y.id', 'desc').limit(n)
    .execute();
}

/** Summaries for ids already known to be visible, in the order given (one round trip). */
export async function loadSummaries(em: Em, viewer: Viewer, ids: string[], visibleBoxes?: VisibleMailbox[]): Promise<MessageSummary[]> {
  if (ids.length === 0) return [];
  const boxIds = (visibleBoxes ?? (await listVisibleMailboxes(em, viewer))).map((b) => b.id);
  const rows = await kysely(em).selectFrom('message as m').where('m.id', 'in', ids)
    .select((eb) => [
      'm.id', 'm.thread_id', 'm.subject', 'm.from_name', 'm.from_address', 'm.sent_at', 'm.snippet', 'm.has_attachments', 'm.direction',
      jsonArrayFrom(eb.selectFrom('message_address as a').select(['a.role', 'a.name', 'a.address'])
        .whereRef('a.message_id', '=', 'm.id').where('a.role', 'in', ['to', 'cc']).orderBy('a.position').orderBy('a.id')).as('addresses'),
      jsonArrayFrom(eb.selectFrom('communication as c').innerJoin('client as cl', 'cl.id', 'c.client_id').select(['cl.id', 'cl.name'])
        .whereRef('c.message_id', '=', 'm.id').where(visibleClient(viewer, 'cl.id')).orderBy('cl.name').orderBy('cl.id')).as('clients'),
      jsonArrayFrom(eb.selectFrom('message_location as l').innerJoin('mailbox as mb', 'mb.id', 'l.mailbox_id')
        // IMAP flags are case-insensitive (RFC 3501 §2.3.2); unnest has no builder form.
        .select(['mb.account_id as accountId', 'mb.path'])
        .whereRef('l.message_id', '=', 'm.id').where('l.removed_at', 'is', null)
        // No visible mailbox: a filed message is listed without folders.
        .where((w) => (boxIds.length ? w('l.mailbox_id', 'in', boxIds) : w.lit(false)))
        .orderBy('mb.account_id').orderBy('mb.path')).as('folders'),
      isReadBy(viewer).as('read'),
    ])
    .execute();
  const byId = new Map<string, MessageSummary>();
  for (const m of rows) {
    const { addresses, folders } = m;
    const unique = new Map(folders.map((f) => [`${f.accountId}/${f.path}`, { accountId: f.accountId, path: f.path }]));
    byId.set(m.id, {
      id: m.id,
      threadId: m.thread_id,
      subject: m.subject,
      from: m.from_address ? { name: m.from_name || null, address: m.from_address } : null,
      to: addresses.filter((a) => a.role === 'to').map((a) => ({ name: a.name || null, address: a.address })),
      cc: addresses.filter((a) => a.role === 'cc').map((a) => ({ name: a.name || null, address: a.address })),
      date: new Date(m.sent_at).toISOString(),
      snippet: m.snippet,
      hasAttachments: m.has_attachments,
      direction: m.direction,
      clients: m.clients,
      folders: [...unique.values()],
      unread: !m.read,
    });
  }
  return ids.map((id) => byId.get(id)).filter((s): s is MessageSummary => s !== undefined);
}

/**
 * Unread counts stop here ("99+", as the bell): each branch of the view walks newest-first until it has this
 * many unread rows, so a larger cap costs in proportion (999 made the count ten times the list's cost).
 */
export const UNREAD_COUNT_CAP = 99;

/** How many unread messages the view holds, counted up to `cap` (`more`: there are more than that). */
export async function countUnread(em: Em, viewer: Viewer, filters: Omit<MessageFilters, 'q' | 'unread' | 'view'>, cap = UNREAD_COUNT_CAP): Promise<{ unread: number; more: boolean }> {
  const boxes = await listVisibleMailboxes(em, viewer);
  const plan = planBranches({ ...filters, unread: true }, boxes, null, viewer, await hidesClients(em, viewer));
  if (!plan) return { unread: 0, more: false };
  // The list's own ordered, limited walks with the read test on each row: bounded by the cap and by the view.
  const rows = await newestRows(em, plan.branches, cap + 1);
  return { unread: Math.min(rows.length, cap), more: rows.length > cap };
}

/** Conversations view: each row's thread size in the view, and unread when any message of it in the view is. */
async function addThreadCounts(em: Em, viewer: Viewer, items: MessageSummary[], inView: Condition): Promise<void> {
  if (items.length === 0) return;
  const k = kysely(em);
  const rows = await k.selectFrom('message as tm')
    .where('tm.thread_id', 'in', [...new Set(items.map((i) => i.threadId))])
    .where(sql<SqlBool>`exists (select 1 from message m where m.id = tm.id and ${inView})`)
    .groupBy('tm.thread_id')
    .select((eb) => [
      'tm.thread_id',
      eb.cast<number>(eb.fn.countAll(), 'integer').as('total'),
      eb.cast<number>(sql`count(*) filter (where not exists (select 1 from message_read mr where mr.user_id = ${viewer.id} and mr.message_id = tm.id))`, 'integer').as('unread'),
    ])
    .execute();
  const byThread = new Map(rows.map((r) => [r.thread_id, r]));
  for (const item of items) {
    const t = byThread.get(item.threadId);
    item.threadCount = t?.total ?? 1;
    item.unread = item.unread || (t?.unread ?? 0) > 0;
  }
}

/** Content-IDs compare without their angle brackets (RFC 2392 cid: URLs carry the bare addr-spec). */
const bareCid = (cid: string) => cid.trim().replace(/^<|>$/g, '').trim();

async function loadDetails(em: Em, viewer: Viewer, ids: string[], opts: DetailOptions, boxes: VisibleMailbox[]): Promise<MessageDetail[]> {
  if (ids.length === 0) return [];
  const [summaries, rows, attachments, arrivals] = await Promise.all([
    loadSummaries(em, viewer, ids, boxes),
    kysely(em).selectFrom('message').select(['id', 'message_id_header', 'in_reply_to', 'references', 'text', 'html', 'parse_status', 'authentication'])
      .where('id', 'in', ids).execute(),
    kysely(em).selectFrom('attachment').select(['id', 'message_id', 'filename', 'content_type', 'size', 'inline', 'content_id'])
      .where('message_id', 'in', ids).orderBy('position').orderBy('id').execute(),
    kysely(em).selectFrom('message_location').select(['message_id', (eb) => eb.fn.min('internal_date').as('received_at')])
      .where('message_id', 'in', ids).where('removed_at', 'is', null)
      .where('mailbox_id', 'in', boxes.length ? boxes.map((b) => b.id) : ['00000000-0000-0000-0000-000000000000'])
      .groupBy('message_id').execute(),
  ]);
  const arrivalById = new Map(arrivals.map((a) => [a.message_id, a.received_at]));
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
      markQuotes: opts.markQuotes,
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
      receivedAt: toIsoOrNull(arrivalById.get(s.id)),
      authentication: row.authentication ?? null,
    };
  });
}

const toIsoOrNull = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : null);

/** One message with bodies; NotFoundError when it does not exist or the viewer may not see it. */
export async function getMessage(em: Em, viewer: Viewer, id: string, opts: DetailOptions): Promise<MessageDetail> {
  const boxes = await listVisibleMailboxes(em, viewer);
  const found = await kysely(em).selectFrom('message as m').select('m.id')
    .where('m.id', '=', id).where(isVisibleMessage(viewer, boxes.map((b) => b.id))).executeTakeFirst();
  if (!found) throw new NotFoundError('Message');
  return (await loadDetails(em, viewer, [id], opts, boxes))[0]!;
}

/** The visible messages of a thread, oldest first; NotFoundError when the viewer sees none of it. */
export async function listThread(em: Em, viewer: Viewer, threadId: string, opts: DetailOptions, limit = 200): Promise<MessageDetail[]> {
  const boxes = await listVisibleMailboxes(em, viewer);
  const rows = await kysely(em).selectFrom('message as m').select('m.id')
    .where('m.thread_id', '=', threadId).where(isVisibleMessage(viewer, boxes.map((b) => b.id)))
    .orderBy('m.sent_at', 'asc').orderBy('m.id', 'asc').limit(limit)
    .execute();
  if (rows.length === 0) throw new NotFoundError('Thread');
  return loadDetails(em, viewer, rows.map((r) => r.id), opts, boxes);
}

export type StoredFile = { sha256: string; size: number; filename: string; contentType: string };

/** The raw RFC 5322 source of a visible message (as kept in the blob store). */
export async function getMessageRaw(em: Em, viewer: Viewer, id: string): Promise<StoredFile> {
  const boxes = await listVisibleMailboxes(em, viewer);
  const row = await kysely(em).selectFrom('message as m').select(['m.raw_blob', 'm.raw_size', 'm.subject'])
    .where('m.id', '=', id).where(isVisibleMessage(viewer, boxes.map((b) => b.id)))
    .executeTakeFirst();
  if (!row) throw new NotFoundError('Message');
  return { sha256: row.raw_blob, size: Number(row.raw_size), filename: `${row.subject.trim() || 'message'}.eml`, contentType: 'message/rfc822' };
}

/** An attachment of a visible message; its size is the stored blob's (what we will actually send). */
export async function getAttachmentFile(em: Em, viewer: Viewer, attachmentId: string): Promise<StoredFile & { messageId: string; inline: boolean }> {
  const boxes = await listVisibleMailboxes(em, viewer);
  const row = await kysely(em).selectFrom('attachment as a').innerJoin('message as m', 'm.id', 'a.message_id').leftJoin('blob as b', 'b.sha256', 'a.sha256')
    .select(['a.sha256', 'a.size', 'b.size as blob_size', 'a.filename', 'a.content_type', 'a.message_id', 'a.inline'])
    .where('a.id', '=', attachmentId).where(isVisibleMessage(viewer, boxes.map((b) => b.id)))
    .executeTakeFirst();
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
