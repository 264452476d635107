// The communication log of a client: list (filters, full-text search, keyset pages), manual records,
// the edit rule for email records, deletion, and filing/unfiling a message by hand. Deleting or
// unfiling removes log records only; the mail itself stays in its mailboxes and in Dossier.
import { sql } from 'kysely';
import { jsonArrayFrom } from 'kysely/helpers/postgres';
import { kysely, type Em } from '../platform/db.ts';
import { recordAudit } from '../staff/audit.ts';
import { Client } from '../crm/client.entity.ts';
import { Area, Communication, FilingExclusion, Reason, type CommunicationKind, type Initiator } from './communication.entity.ts';
import { InvalidInputError, NotFoundError, RuleError } from '../platform/errors.ts';
import { cursorTime, cursorTimestamp, decodeCursor, encodeCursor } from '../platform/keyset-cursor.ts';
import { messageTextQuery, textQuery, type Page } from '../mail/message-queries.ts';
import { assertClientVisible, assertMessageVisible, visibleClient, type Viewer } from '../mail/visibility.ts';
import { clearAwaitingClient } from './contact-filing.ts';

export type CommunicationFilters = {
  kind?: CommunicationKind;
  reasonId?: string;
  areaId?: string;
  initiatedBy?: Initiator;
  /** Inclusive lower bound on occurredAt. */
  from?: Date;
  /** Exclusive upper bound on occurredAt (the route turns a date-only "to" into the next midnight). */
  to?: Date;
  q?: string;
};

export type Ref = { id: string; name: string };
export type CommunicationView = {
  id: string;
  clientId: string;
  /** The record's client (the firm-wide log lists many). */
  client: Ref;
  kind: CommunicationKind;
  subject: string;
  notes: string;
  occurredAt: string;
  initiatedBy: Initiator;
  reason: Ref | null;
  area: Ref | null;
  author: Ref | null;
  /** Email records only: the filed message and its sender. */
  messageId?: string;
  from?: { name: string | null; address: string } | null;
  /** Email records: whether the firm sent the mail or received it (inbound mail the firm "initiated" came
   *  from a third party: the UI shows its sender instead). */
  direction?: 'inbound' | 'outbound';
  /** Email records: the message's attachments (inline parts excluded). Manual records: none. */
  attachments: { id: string; filename: string; contentType: string; size: number }[];
  filedBy: 'auto' | 'manual' | null;
  createdAt: string;
  updatedAt: string;
};

/** Manual record kinds: email records come only from filing. */
export type ManualKind = Exclude<CommunicationKind, 'email'>;
export type ManualRecordInput = {
  kind: ManualKind;
  subject: string;
  occurredAt?: Date;
  initiatedBy?: Initiator;
  reasonId?: string | null;
  areaId?: string | null;
  notes?: string;
};
export type CommunicationPatch = Partial<{
  kind: ManualKind;
  subject: string;
  occurredAt: Date;
  initiatedBy: Initiator;
  reasonId: string | null;
  areaId: string | null;
  notes: string;
}>;

/** What staff may change on an email record: its tags. Subject, time and direction come from the mail. */
export const EMAIL_EDITABLE_FIELDS = ['reasonId', 'areaId'] as const;

async function assertClient(em: Em, clientId: string): Promise<Client> {
  const client = await em.findOne(Client, { id: clientId });
  if (!client) throw new NotFoundError('Client');
  return client;
}

/** The log's rows with their tags, author, filed message's sender and attachments (inline parts excluded). */
function selectRecords(em: Em) {
  return kysely(em).selectFrom('communication as c')
    .leftJoin('reason as r', 'r.id', 'c.reason_id')
    .leftJoin('area as a', 'a.id', 'c.area_id')
    .leftJoin('app_user as u', 'u.id', 'c.author_id')
    .leftJoin('message as m', 'm.id', 'c.message_id')
    .innerJoin('client as cl', 'cl.id', 'c.client_id')
    .select((eb) => [
      'c.id', cursorTime(eb.ref('c.occurred_at')).as('k'), 'c.client_id', 'cl.name as client_name', 'c.kind', 'c.subject', 'c.notes', 'c.occurred_at', 'c.initiated_by',
      'c.reason_id', 'r.name as reason_name', 'c.area_id', 'a.name as area_name', 'c.author_id', 'u.name as author_name',
      'c.message_id', 'm.from_name', 'm.from_address', 'm.direction', 'c.filed_by', 'c.created_at', 'c.updated_at',
      jsonArrayFrom(eb.selectFrom('attachment as at')
        .select(['at.id', 'at.filename', 'at.content_type as contentType', 'at.size'])
        .whereRef('at.message_id', '=', 'c.message_id').where('at.inline', '=', false)
        .orderBy('at.position').orderBy('at.id')).as('attachments'),
    ]);
}
type Row = Awaited<ReturnType<ReturnType<typeof selectRecords>['executeTakeFirstOrThrow']>>;

function toViews(rows: Row[]): CommunicationView[] {
  const iso = (d: Date) => new Date(d).toISOString();
  return rows.map((r) => ({
    id: r.id,
    clientId: r.client_id,
    client: { id: r.client_id, name: r.client_name },
    kind: r.kind,
    subject: r.subject,
    notes: r.notes,
    occurredAt: iso(r.occurred_at),
    initiatedBy: r.initiated_by,
    reason: r.reason_id ? { id: r.reason_id, name: r.reason_name ?? '' } : null,
    area: r.area_id ? { id: r.area_id, name: r.area_name ?? '' } : null,
    author: r.author_id ? { id: r.author_id, name: r.author_name ?? '' } : null,
    ...(r.message_id ? { messageId: r.message_id, from: r.from_address ? { name: r.from_name || null, address: r.from_address } : null, ...(r.direction ? { direction: r.direction } : {}) } : {}),
    attachments: r.attachments.map((a) => ({ ...a, size: Number(a.size) })),
    filedBy: r.filed_by,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  }));
}

/**
 * One page of a client's log, newest first ((occurred_at, id) descending: stable across pages).
 * The client's whole history is the firm's, so there is no per-viewer filter here.
 */
export async function listCommunications(em: Em, clientId: string, filters: CommunicationFilters, page: { limit: number; cursor?: string }): Promise<Page<CommunicationView>> {
  const result = await listRecords(em, { clientIds: [clientId] }, filters, page);
  // An empty page may mean an unknown client: only then is it worth a second query to tell them apart.
  if (result.items.length === 0) await assertClient(em, clientId);
  return result;
}

/** The firm-wide log's filters: the client's log filters, and one client. */
export type FirmCommunicationFilters = CommunicationFilters & { clientId?: string };

/**
 * One page of the firm-wide log (every client the viewer may see), newest first ((occurred_at, id)
 * descending). Walks the (occurred_at, id) index newest-first, testing each record's filters, so a page
 * costs about limit / (share of records matching) index rows (see bench/api.bench.ts).
 */
export async function listFirmCommunications(em: Em, viewer: Viewer, filters: FirmCommunicationFilters, page: { limit: number; cursor?: string }): Promise<Page<CommunicationView>> {
  const { clientId, ...rest } = filters;
  if (clientId === undefined) return listRecords(em, { visibleTo: viewer }, rest, page);
  // One client: known and visible to the viewer, or an empty log (a restricted client reads as unknown).
  const visible = await kysely(em).selectFrom('client as vc').select('vc.id').where('vc.id', '=', clientId)
    .where(visibleClient(viewer, 'vc.id')).executeTakeFirst();
  return visible ? listRecords(em, { clientIds: [clientId] }, rest, page) : { items: [], nextCursor: null };
}

/** Every record of the firm-wide log matching the filters, in pages (the export). */
export async function* iterateFirmCommunications(em: Em, viewer: Viewer, filters: FirmCommunicationFilters, pageSize = 1000): AsyncGenerator<CommunicationView> {
  let cursor: string | undefined;
  do {
    const page = await listFirmCommunications(em, viewer, filters, { limit: pageSize, cursor });
    yield* page.items;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}

/** `clientIds`: those clients' logs (already checked); `visibleTo`: every client that viewer may see (core/mail/visibility.ts). */
async function listRecords(em: Em, scope: { clientIds?: string[]; visibleTo?: Viewer }, filters: CommunicationFilters, page: { limit: number; cursor?: string }): Promise<Page<CommunicationView>> {
  const f = filters;
  let query = selectRecords(em);
  if (scope.clientIds) query = scope.clientIds.length === 1 ? query.where('c.client_id', '=', scope.clientIds[0]!) : query.where('c.client_id', 'in', scope.clientIds);
  if (scope.visibleTo) query = query.where(visibleClient(scope.visibleTo, 'c.client_id'));
  if (f.kind !== undefined) query = query.where('c.kind', '=', f.kind);
  if (f.reasonId !== undefined) query = query.where('c.reason_id', '=', f.reasonId);
  if (f.areaId !== undefined) query = query.where('c.area_id', '=', f.areaId);
  if (f.initiatedBy !== undefined) query = query.where('c.initiated_by', '=', f.initiatedBy);
  if (f.from) query = query.where('c.occurred_at', '>=', f.from);
  if (f.to) query = query.where('c.occurred_at', '<', f.to);
  const q = f.q?.trim();
  if (q) {
    // Per-record tests (the client's log is the driving set): the record's subject and notes, the
    // filed message's subject/sender/body, and the names of its attachments.
    // `m` is the record's message, already joined by primary key: testing its vector there keeps the
    // probe per record (a subquery would let the planner scan the whole GIN index for a common word).
    // @@ has no builder form, and communication.search and attachment.search are generated columns no entity declares.
    query = query.where((eb) => eb.or([
      sql<boolean>`c.search @@ ${textQuery(q)}`,
      sql<boolean>`m.search @@ ${messageTextQuery(q)}`,
      eb.exists(eb.selectFrom('attachment as qa').select(sql.lit(1).as('one'))
        .whereRef('qa.message_id', '=', 'c.message_id').where(sql<boolean>`qa.search @@ ${textQuery(q)}`)),
    ]));
  }
  if (page.cursor) {
    const pos = decodeCursor(page.cursor);
    query = query.where((eb) => eb(eb.refTuple('c.occurred_at', 'c.id'), '<', eb.tuple(cursorTimestamp(pos), pos.id)));
  }
  const rows = await query.orderBy('c.occurred_at', 'desc').orderBy('c.id', 'desc').limit(page.limit + 1).execute();
  const more = rows.length > page.limit;
  const pageRows = rows.slice(0, page.limit);
  const last = pageRows.at(-1);
  return { items: toViews(pageRows), nextCursor: more && last ? encodeCursor({ at: last.k, id: last.id }) : null };
}

/** Every record matching the filters, in pages (for the export: memory stays flat however long the log). */
export async function* iterateCommunications(em: Em, clientId: string, filters: CommunicationFilters, pageSize = 500): AsyncGenerator<CommunicationView> {
  let cursor: string | undefined;
  do {
    const page = await listCommunications(em, clientId, filters, { limit: pageSize, cursor });
    yield* page.items;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}

export async function getCommunication(em: Em, id: string): Promise<CommunicationView> {
  const row = await selectRecords(em).where('c.id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError('Communication');
  return toViews([row])[0]!;
}

const unknownReference = (field: string, what: string) => new InvalidInputError('unknown_reference', `${field} names no existing ${what}`, field);

async function reasonOrNull(em: Em, id: string | null | undefined): Promise<Reason | null> {
  if (id === undefined || id === null) return null;
  const found = await em.findOne(Reason, { id });
  if (!found) throw unknownReference('reasonId', 'reason');
  return found;
}

async function areaOrNull(em: Em, id: string | null | undefined): Promise<Area | null> {
  if (id === undefined || id === null) return null;
  const found = await em.findOne(Area, { id });
  if (!found) throw unknownReference('areaId', 'area');
  return found;
}

function cleanSubject(subject: string): string {
  const clean = subject.trim();
  if (!clean) throw new InvalidInputError('invalid_input', 'subject is required', 'subject');
  return clean;
}

/** A manual record (call, visit, meeting, letter, other): the author and creation time are the server's. */
export async function createManualRecord(em: Em, actor: Viewer, clientId: string, input: ManualRecordInput): Promise<Communication> {
  const client = await assertClient(em, clientId);
  if ((input.kind as string) === 'email') throw new InvalidInputError('invalid_input', 'email records come from filing, not by hand', 'kind');
  const record = em.create(Communication, {
    client,
    kind: input.kind,
    subject: cleanSubject(input.subject),
    notes: input.notes ?? '',
    occurredAt: input.occurredAt ?? new Date(),
    initiatedBy: input.initiatedBy ?? 'firm',
    reason: await reasonOrNull(em, input.reasonId),
    area: await areaOrNull(em, input.areaId),
    author: actor.id,
    message: null,
    filedBy: null,
  });
  recordAudit(em, { actorId: actor.id, action: 'communication.create', entityType: 'communication', entityId: record.id, clientId, details: { kind: input.kind, subject: record.subject } });
  return record;
}

async function loadRecord(em: Em, id: string): Promise<Communication> {
  const record = await em.findOne(Communication, { id });
  if (!record) throw new NotFoundError('Communication');
  return record;
}

const clientIdOf = (record: Communication) => (record.client as unknown as { id: string }).id;
const messageIdOf = (record: Communication) => (record.message as unknown as { id: string } | null)?.id ?? null;

/**
 * Changes a record. Email records accept only reasonId and areaId: any other field present in the
 * patch is refused with RuleError `field_not_editable` naming it, and nothing is changed.
 */
export async function updateCommunication(em: Em, actor: Viewer, id: string, patch: CommunicationPatch): Promise<Communication> {
  const record = await loadRecord(em, id);
  const fields = Object.keys(patch).filter((k) => patch[k as keyof CommunicationPatch] !== undefined);
  if (record.kind === 'email') {
    const refused = fields.find((f) => !(EMAIL_EDITABLE_FIELDS as readonly string[]).includes(f));
    if (refused) throw new RuleError('field_not_editable', `${refused} of an email record comes from the message and cannot be edited`, refused);
  }
  if ((patch.kind as string | undefined) === 'email') throw new InvalidInputError('invalid_input', 'a manual record cannot become an email record', 'kind');
  if (patch.kind !== undefined) record.kind = patch.kind;
  if (patch.subject !== undefined) record.subject = cleanSubject(patch.subject);
  if (patch.occurredAt !== undefined) record.occurredAt = patch.occurredAt;
  if (patch.initiatedBy !== undefined) record.initiatedBy = patch.initiatedBy;
  if (patch.notes !== undefined) record.notes = patch.notes;
  if (patch.reasonId !== undefined) record.reason = await reasonOrNull(em, patch.reasonId);
  if (patch.areaId !== undefined) record.area = await areaOrNull(em, patch.areaId);
  recordAudit(em, { actorId: actor.id, action: 'communication.update', entityType: 'communication', entityId: record.id, clientId: clientIdOf(record), details: { fields } });
  return record;
}

/** Removes the record from the log; the message (if any) stays in its mailboxes and in Dossier. */
export async function deleteCommunication(em: Em, actor: Viewer, id: string): Promise<void> {
  const record = await loadRecord(em, id);
  recordAudit(em, {
    actorId: actor.id, action: 'communication.delete', entityType: 'communication', entityId: record.id, clientId: clientIdOf(record),
    details: { kind: record.kind, subject: record.subject, messageId: messageIdOf(record) },
  });
  em.remove(record);
  const messageId = messageIdOf(record);
  if (messageId) await excludeFromFiling(em, actor, clientIdOf(record), messageId);
}

/**
 * Files a visible message to a client by hand: an email record (filedBy manual) like automatic filing
 * makes, initiated by the client when the sender is one of the client's contact addresses. Idempotent:
 * filing it again returns the existing record (`created` false) and records nothing.
 */
export async function fileMessageToClient(em: Em, actor: Viewer, messageId: string, clientId: string): Promise<{ record: Communication; created: boolean }> {
  await assertMessageVisible(em, actor, messageId);
  await assertClientVisible(em, actor, clientId);
  const client = await assertClient(em, clientId);
  // Kept private by its owner (issue 12): no filing, by hand either, until they undo it.
  if (await kysely(em).selectFrom('private_message').select('message_id').where('message_id', '=', messageId).executeTakeFirst()) {
    throw new RuleError('message_private', 'This message is kept private: undo "Keep private" before filing it');
  }
  // Someone chose a client: the message no longer waits for one (contact-filing.ts).
  await clearAwaitingClient(em, messageId);
  const existing = await em.findOne(Communication, { client: clientId, message: messageId });
  if (existing) return { record: existing, created: false };
  // Filing by hand lifts an earlier unfiling.
  const exclusion = await em.findOne(FilingExclusion, { client: clientId, message: messageId });
  if (exclusion) em.remove(exclusion);
  const m = await kysely(em).selectFrom('message as m')
    .select((eb) => ['m.subject', 'm.sent_at', eb.exists(
      eb.selectFrom('contact_email as ce').innerJoin('client_contact as cc', 'cc.contact_id', 'ce.contact_id').select(sql.lit(1).as('one'))
        .where('cc.client_id', '=', clientId).whereRef('ce.address', '=', 'm.from_address'),
    ).as('from_client')])
    .where('m.id', '=', messageId)
    .executeTakeFirstOrThrow();
  const record = em.create(Communication, {
    client,
    kind: 'email',
    subject: m.subject,
    notes: '',
    occurredAt: new Date(m.sent_at),
    initiatedBy: m.from_client ? 'client' : 'firm',
    reason: null,
    area: null,
    author: actor.id,
    message: messageId,
    filedBy: 'manual',
  });
  recordAudit(em, { actorId: actor.id, action: 'message.file', entityType: 'message', entityId: messageId, clientId, details: { communicationId: record.id, subject: m.subject } });
  return { record, created: true };
}

/**
 * Removes a message from one client's log (other clients it is filed to keep theirs). The message may
 * become invisible to colleagues again when it lies only in its owner's private mailbox.
 */
export async function unfileMessageFromClient(em: Em, actor: Viewer, messageId: string, clientId: string): Promise<void> {
  await assertMessageVisible(em, actor, messageId);
  await assertClientVisible(em, actor, clientId);
  const record = await em.findOne(Communication, { client: clientId, message: messageId });
  if (!record) throw new NotFoundError('Filing');
  recordAudit(em, { actorId: actor.id, action: 'message.unfile', entityType: 'message', entityId: messageId, clientId, details: { communicationId: record.id, subject: record.subject } });
  em.remove(record);
  await excludeFromFiling(em, actor, clientId, messageId);
}

/** Remembers that staff took this message out of this client's log, so re-enabling or re-linking an
 *  address doesn't file it again (see filing.ts). Commits with the caller's flush. */
async function excludeFromFiling(em: Em, actor: Viewer, clientId: string, messageId: string): Promise<void> {
  if (await em.findOne(FilingExclusion, { client: clientId, message: messageId })) return;
  em.create(FilingExclusion, { client: clientId, message: messageId, createdBy: actor.id });
}
