// Brings one folder up to date: plan (sync-plan.ts), fetch new UIDs in bounded batches with BODY.PEEK
// (never sets \Seen; the folder is opened read-only), parse on the thread pool, store, and commit each
// batch together with the cursor that covers it. Then flags (CONDSTORE) and expunges (VANISHED or a
// UID SEARCH diff). Never writes to the mailbox. The pipeline overlaps fetch, parse and store.
import type { LiveEvents } from '../core/platform/live-events.ts';
import { describeMessageEvents } from '../core/mail/message-events.ts';
import { Transform } from 'node:stream';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { ImapFlow } from 'imapflow';
import type { Db } from '../core/platform/db.ts';
import type { JobQueue } from '../core/platform/jobs.ts';
import { enqueueSend } from '../core/outbox/outbox.ts';
import type { BlobStore } from '../core/blobs/blob-store.ts';
import type { FolderRole } from '../core/mail/mail-account.entity.ts';
import { createContentHasher, dedupeKey, dedupeOf, finishDedupe } from '../core/mail/dedupe.ts';
import { cleanFlags, findStoredMessages, refreshMailboxCounts, storeMessages, type MailboxStoreContext, type StoreItem } from '../core/ingest/store-message.ts';
import {
  advanceMailboxCursor, countAloneAttempt, countFetchAttempt, forgiveFetchAttempt, countLiveLocations, finishMailboxSync, getMailboxLastError, getMailboxState, listLiveLocationFlags,
  listLiveLocationUids, markLocationsRemoved, recordMailboxError as recordMailboxProblem, resetMailboxCursor, setLocationFlags, startMailboxProgress, type MailboxState,
} from '../core/mail/mailbox-state.ts';
import type { FilingDeps } from '../core/log/filing.ts';
import { isUidToFetch, needsExpungeScan, planSync, type FlagSync, type SyncPlan } from './sync-plan.ts';
import type { ParsePool } from './parse-pool.ts';
import { classifyImapError } from './imap.ts';
import type { Log } from './worker-deps.ts';
import type { MetricsRecorder } from '../core/platform/metrics.ts';

/** A batch holds at most this many messages... */
export const BATCH_MESSAGES = 100;
/** ...and about this many bytes of source in memory (two batches are in flight at once). */
export const BATCH_BYTES = 4 * 1024 * 1024;
/** Larger messages are streamed one at a time to the blob store instead of held in memory. */
export const STREAM_ABOVE_BYTES = 2 * 1024 * 1024;
/** Batches parsed at once: enough that both cores stay busy across batch boundaries and large messages. */
const PREPARE_BATCHES = 3;
/** Attempts at the same first UID before it is tried alone, and before it is given up on (poison mail). */
const ALONE_AFTER_ATTEMPTS = 3;
const GIVE_UP_AFTER_ATTEMPTS = 5;
/** A folder's stored/failed counts are recounted (a scan of its locations) every this many batches during a
 *  long fetch, and once at its end: recounting after every batch made an initial sync quadratic. */
const RECOUNT_EVERY_BATCHES = 10;
/** Concurrent transactions may insert the same content (another account, same message): retry once it is visible. */
const STORE_ATTEMPTS = 4;

export type MailboxRef = { id: string; path: string; role: FolderRole };

export type MailboxSyncContext = {
  db: Db;
  queue: JobQueue;
  blobs: BlobStore;
  pool: ParsePool;
  log: Log;
  filing: FilingDeps;
  accountId: string;
  ownAddresses: ReadonlySet<string>;
  signal: AbortSignal;
  /** Where committed mail is announced to open browsers (absent: nobody listens). */
  events?: LiveEvents | null;
  /** Counts stored mail for GET /metrics (absent: not counted). */
  metrics?: MetricsRecorder | null;
  /** Without CONDSTORE, compare every message's flags this run (the caller spaces these out). */
  fullFlagScan?: boolean;
};

export type MailboxSyncResult = { plan: SyncPlan['kind']; fetched: number; stored: number; failed: number; removed: number; flagsChanged: number };

type Meta = { uid: number; size: number; flags: string[]; modseq: string | null; internalDate: Date | null };
type Fetched = { meta: Meta; raw: Buffer | null; blob: { sha256: string; size: number } | null; dedupeHash: string; messageId: string | null };
type Prepared = { items: StoreItem[]; maxUid: number; count: number };

export class TruncatedFetchError extends Error {
  readonly code = 'NoConnection';
}

/** errno codes of a blob store that cannot take more (full, over quota, read-only, failing disk): our side's fault. */
const STORAGE_CODES = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EIO']);

/** Writing to the blob store failed for want of space (or a read-only or failing disk): retried later, never the message's fault. */
export class LocalStorageError extends Error {
  readonly code: string;
  constructor(code: string, detail: string) {
    super(`The attachment store could not be written (${code}), so this batch was not saved and will be tried again: ${detail}`);
    this.code = code;
  }
}

const isLocalStorageError = (err: unknown) => err instanceof LocalStorageError || STORAGE_CODES.has((err as { code?: string } | null)?.code ?? '');

export async function syncMailbox(ctx: MailboxSyncContext, client: ImapFlow, box: MailboxRef): Promise<MailboxSyncResult> {
  const opened = await client.mailboxOpen(box.path, { readOnly: true });
  const condstore = client.enabled.has('CONDSTORE') && !opened.noModseq && opened.highestModseq !== undefined;
  const server = {
    uidValidity: opened.uidValidity,
    uidNext: opened.uidNext > 0 ? opened.uidNext : null,
    highestModseq: condstore ? opened.highestModseq! : null,
    exists: opened.exists,
    condstore,
    qresync: client.enabled.has('QRESYNC'),
  };
  const uidValidity = String(opened.uidValidity);
  const row = await getMailboxState(ctx.db.em.fork(), box.id);
  const storedCount = row.uidValidity === null ? 0 : await countLiveLocations(ctx.db.em.fork(), box.id, row.uidValidity);
  // Counts left behind by an interrupted sync (they are recounted only every few batches): fix them first.
  if (row.uidValidity !== null && row.storedMessages !== storedCount) await ctx.db.em.fork().transactional((em) => refreshMailboxCounts(em, box.id));
  const stored = row.uidValidity === null ? null : {
    uidValidity: row.uidValidity, uidNext: row.lastUid + 1, highestModseq: row.highestModseq, storedCount,
  };
  const plan = planSync(stored, server, { fullFlagScan: ctx.fullFlagScan });
  const result: MailboxSyncResult = { plan: plan.kind, fetched: 0, stored: 0, failed: 0, removed: 0, flagsChanged: 0 };
  if (plan.kind !== 'none') ctx.log.info({ accountId: ctx.accountId, folder: box.path, plan: plan.kind, reason: plan.reason }, 'syncing folder');

  let lastUid = row.lastUid;
  let flagsDone = plan.kind === 'none';
  if (plan.kind === 'initial' || plan.kind === 'reset') {
    // Stored UIDs are void (RFC 3501 §2.3.1.1): start over under the new UIDVALIDITY. Old locations are
    // marked removed; the re-list links their content again by dedupe key (nothing re-parsed or re-saved).
    await resetMailbox(ctx.db, box.id, uidValidity);
    lastUid = 0;
    flagsDone = true; // every message comes with its current flags
  }
  if (plan.kind === 'initial' || plan.kind === 'reset' || plan.kind === 'fetch-new') {
    const from = plan.kind === 'fetch-new' ? plan.fromUid : 1;
    const fetched = await fetchNew(ctx, client, box, uidValidity, from, server.uidNext, row);
    Object.assign(result, { fetched: fetched.fetched, stored: fetched.stored, failed: fetched.failed });
    lastUid = Math.max(lastUid, fetched.lastUid);
  }
  if (plan.kind === 'fetch-new' || plan.kind === 'flags-only') {
    if (plan.flags.mode !== 'none') {
      const r = await syncFlags(ctx, client, box, uidValidity, plan.flags, lastUid);
      result.flagsChanged = r.changed;
      result.removed += r.removed;
    }
    flagsDone = true;
    const live = await countLiveLocations(ctx.db.em.fork(), box.id, uidValidity);
    if (plan.checkExpunged && needsExpungeScan(client.mailbox ? client.mailbox.exists : opened.exists, live)) {
      result.removed += await removeExpunged(ctx, client, box, uidValidity, lastUid);
    }
  }
  // HIGHESTMODSEQ as seen at SELECT (before fetching): a change made meanwhile is seen again next time.
  await finishMailboxSync(ctx.db.em.fork(), box.id, {
    serverMessages: client.mailbox ? client.mailbox.exists : opened.exists,
    highestModseq: flagsDone && server.highestModseq !== null ? String(server.highestModseq) : undefined,
  });
  return result;
}

// ---------------------------------------------------------------- new mail

async function fetchNew(
  ctx: MailboxSyncContext, client: ImapFlow, box: MailboxRef, uidValidity: string, from: number, uidNext: number | null, row: MailboxState,
): Promise<{ fetched: number; stored: number; failed: number; lastUid: number }> {
  const metas: Meta[] = [];
  // Metadata first (small), sources after: a command cannot be issued while a FETCH is being read.
  for await (const m of client.fetch(`${from}:*`, { uid: true, flags: true, size: true, internalDate: true }, { uid: true })) {
    // "UID FETCH N:*" returns the last message even when its UID is below N (RFC 3501 §6.4.8).
    if (!isUidToFetch(m.uid, from)) continue;
    metas.push({
      uid: m.uid, size: m.size ?? 0, flags: cleanFlags(m.flags ?? []), modseq: m.modseq !== undefined ? String(m.modseq) : null,
      internalDate: m.internalDate ? new Date(m.internalDate) : null,
    });
  }
  // The listing is what lets the cursor pass UIDs that are not in it (gone): only a complete one may.
  if (!client.usable) throw new TruncatedFetchError('the connection dropped while listing new messages');
  metas.sort((a, b) => a.uid - b.uid);
  const out = { fetched: 0, stored: 0, failed: 0, lastUid: 0 };
  const storeCtx = storeContextFor(ctx, box, uidValidity);

  if (metas.length) {
    // Runs that died count up to the point where the first message is tried alone; from there only deaths while
    // it is being fetched and stored alone count, so that a worker killed at random (an operator, the OOM killer
    // of a crowded host) is not mistaken for a message that takes the worker down.
    const attempts = await countFetchAttempt(ctx.db.em.fork(), box.id, row, metas[0]!.uid, ALONE_AFTER_ATTEMPTS);
    if (attempts >= GIVE_UP_AFTER_ATTEMPTS) {
      // Poison mail: the same message failed (or took the worker down) again and again. Record it as
      // failed without its source rather than retry forever; the rest of the folder goes on.
      const meta = metas.shift()!;
      await storeUnfetchable(ctx, storeCtx, meta, attempts);
      out.failed++;
      out.lastUid = meta.uid;
    }
    await startMailboxProgress(ctx.db.em.fork(), box.id, metas.length);
    try {
      await fetchAndCommit(ctx, client, box, uidValidity, storeCtx, metas, attempts, out);
    } catch (err) {
      // A full (or read-only) blob store is not the message's fault: without this, a disk full for five runs
      // would have the first message given up on as poison mail and stored without its source.
      if (isLocalStorageError(err)) await forgiveFetchAttempt(ctx.db.em.fork(), box.id);
      throw err;
    }
  }
  if (metas.length) await ctx.db.em.fork().transactional((em) => refreshMailboxCounts(em, box.id));
  // Every listed UID was stored or found gone (each batch committed, a lost connection throws), and every UID
  // below UIDNEXT (at SELECT) not listed is gone: the cursor may pass them all.
  const cursor = uidNext !== null ? uidNext - 1 : out.lastUid;
  if (cursor > 0) await advanceMailboxCursor(ctx.db.em.fork(), box.id, uidValidity, cursor);
  out.lastUid = Math.max(out.lastUid, cursor);
  return out;
}

async function fetchAndCommit(
  ctx: MailboxSyncContext, client: ImapFlow, box: MailboxRef, uidValidity: string, storeCtx: MailboxStoreContext, metas: Meta[], attempts: number,
  out: { fetched: number; stored: number; failed: number; lastUid: number },
): Promise<void> {
  const firstAlone = attempts >= ALONE_AFTER_ATTEMPTS && attempts < GIVE_UP_AFTER_ATTEMPTS;
  const batches = planBatches(metas, firstAlone);
  // Counted once the message is fetched, just before it is parsed and stored: the narrowest window a death can be its fault.
  const aloneUid = firstAlone ? metas[0]!.uid : null;
  const beforeParse = async (uid: number) => {
    if (uid !== aloneUid) return;
    // A cold parse thread (a worker just started) is not this message's doing: warm first, then count.
    await ctx.pool.warm();
    await countAloneAttempt(ctx.db.em.fork(), box.id, uid);
  };
  // Batches are fetched ahead, parsed several at a time (so the threads never wait for one batch's last
  // message, or for a single large one) and committed in UID order while the next ones are parsed.
  const fetched = lookahead(fetchBatches(ctx, client, batches), 1);
  const prepared = lookahead(mapOrdered(fetched, (b) => prepareBatch(ctx, b, beforeParse), PREPARE_BATCHES), 1);
  let batchNo = 0;
  let committed = 0;
  for await (const p of prepared) {
    if (ctx.signal.aborted) throw new Error('sync stopped');
    await commitBatch(ctx, storeCtx, box, uidValidity, p, ++batchNo % RECOUNT_EVERY_BATCHES === 0);
    out.fetched += p.count;
    out.stored += p.items.length;
    ctx.metrics?.messagesSynced(p.items.length);
    out.failed += p.items.filter((i) => i.parsed === null ? i.parseError !== null : i.parsed.parseStatus === 'failed').length;
    out.lastUid = Math.max(out.lastUid, p.maxUid);
    committed++;
    // Progress of a long (initial) fetch, in the log as in the API's account view.
    if (metas.length > BATCH_MESSAGES) ctx.log.info({ accountId: ctx.accountId, folder: box.path, done: out.fetched, total: metas.length }, 'sync progress');
  }
  // A fetch that stopped early (the run was stopped) has not stored the rest: the cursor must not pass it.
  if (committed < batches.length) throw new Error('sync stopped');
}

function storeContextFor(ctx: MailboxSyncContext, box: MailboxRef, uidValidity: string): MailboxStoreContext {
  return {
    mailbox: { id: box.id, role: box.role }, uidValidity, ownAddresses: ctx.ownAddresses, filing: ctx.filing,
    onReplyFailure: (f) => ctx.log.warn({ accountId: ctx.accountId, folder: box.path, ...f }, 'matching a reply failed; the message is stored'),
  };
}

/**
 * Reconciliation's fetch: these UIDs (below the cursor, on the server, not stored) through the same batch
 * pipeline as new mail. The cursor does not move back (it is already past them); the unique (mailbox,
 * UIDVALIDITY, UID) keeps a UID from being stored twice should a sync have stored it meanwhile. The caller
 * has the folder open (read-only) under `uidValidity`.
 */
export async function fetchMissingUids(ctx: MailboxSyncContext, client: ImapFlow, box: MailboxRef, uidValidity: string, uids: number[]): Promise<{ fetched: number; stored: number }> {
  const out = { fetched: 0, stored: 0 };
  if (!uids.length) return out;
  const metas: Meta[] = [];
  for await (const m of client.fetch(toSequenceSet([...uids].sort((a, b) => a - b)), { uid: true, flags: true, size: true, internalDate: true }, { uid: true })) {
    metas.push({
      uid: m.uid, size: m.size ?? 0, flags: cleanFlags(m.flags ?? []), modseq: m.modseq !== undefined ? String(m.modseq) : null,
      internalDate: m.internalDate ? new Date(m.internalDate) : null,
    });
  }
  if (!client.usable) throw new TruncatedFetchError('the connection dropped while listing missing messages');
  metas.sort((a, b) => a.uid - b.uid);
  const storeCtx = storeContextFor(ctx, box, uidValidity);
  const batches = planBatches(metas, false);
  const prepared = lookahead(mapOrdered(lookahead(fetchBatches(ctx, client, batches), 1), (b) => prepareBatch(ctx, b), PREPARE_BATCHES), 1);
  for await (const p of prepared) {
    if (ctx.signal.aborted) throw new Error('reconciliation stopped');
    await commitBatch(ctx, storeCtx, box, uidValidity, p, false);
    out.fetched += p.count;
    out.stored += p.items.length;
    ctx.metrics?.messagesSynced(p.items.length);
  }
  await ctx.db.em.fork().transactional((em) => refreshMailboxCounts(em, box.id));
  return out;
}

function planBatches(metas: Meta[], firstAlone: boolean): Meta[][] {
  const batches: Meta[][] = [];
  let current: Meta[] = [];
  let bytes = 0;
  const close = () => {
    if (current.length) batches.push(current);
    current = [];
    bytes = 0;
  };
  for (const m of metas) {
    if (m.size > STREAM_ABOVE_BYTES || (firstAlone && batches.length === 0 && current.length === 0)) {
      close();
      batches.push([m]);
      continue;
    }
    if (current.length >= BATCH_MESSAGES || bytes + m.size > BATCH_BYTES) close();
    current.push(m);
    bytes += m.size;
  }
  close();
  return batches;
}

/** Compact IMAP sequence set (RFC 3501 §9 sequence-set) for sorted UIDs: "1:5,9,12:13". */
export function toSequenceSet(uids: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < uids.length; ) {
    let j = i;
    while (j + 1 < uids.length && uids[j + 1] === uids[j]! + 1) j++;
    parts.push(i === j ? String(uids[i]) : `${uids[i]}:${uids[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

async function* fetchBatches(ctx: MailboxSyncContext, client: ImapFlow, batches: Meta[][]): AsyncGenerator<Fetched[]> {
  for (const batch of batches) {
    if (ctx.signal.aborted) return;
    if (batch.length === 1 && batch[0]!.size > STREAM_ABOVE_BYTES) {
      const one = await streamLarge(ctx, client, batch[0]!);
      yield one ? [one] : [];
      continue;
    }
    const got = new Map<number, { raw: Buffer; flags: string[] }>();
    for await (const m of client.fetch(toSequenceSet(batch.map((b) => b.uid)), { uid: true, flags: true, source: true }, { uid: true })) {
      if (m.source) got.set(m.uid, { raw: m.source, flags: cleanFlags(m.flags ?? []) });
    }
    // A missing UID is gone (expunged since the listing) only if the server answered the whole FETCH.
    if (got.size < batch.length && !client.usable) throw new TruncatedFetchError(`the connection dropped after ${got.size} of ${batch.length} messages`);
    const out: Fetched[] = [];
    for (const meta of batch) {
      const g = got.get(meta.uid);
      if (!g) continue; // expunged since the metadata fetch: nothing to store
      const d = dedupeOf(g.raw);
      out.push({ meta: { ...meta, flags: g.flags }, raw: g.raw, blob: null, ...d });
    }
    yield out;
  }
}

/** A large message goes from the socket to the blob store in chunks, hashed on the way; never whole in memory. */
async function streamLarge(ctx: MailboxSyncContext, client: ImapFlow, meta: Meta): Promise<Fetched | null> {
  const dl = await client.download(String(meta.uid), undefined, { uid: true, chunkSize: 1024 * 1024 });
  if (!dl.content) {
    // No content: expunged since the listing, or the connection is gone (imapflow answers both alike).
    // Only the first may let the cursor pass this UID.
    if (!client.usable) throw new TruncatedFetchError(`the connection dropped before UID ${meta.uid} could be downloaded`);
    return null;
  }
  const hasher = createContentHasher();
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hasher.update(chunk);
      cb(null, chunk);
    },
  });
  dl.content.on('error', (err) => tap.destroy(err));
  const blob = await ctx.blobs.put(dl.content.pipe(tap));
  // A transfer cut short (dropped connection) must not be stored as if it were the message.
  if (blob.size < meta.size && !client.usable) throw new TruncatedFetchError(`the connection dropped after ${blob.size} of ${meta.size} bytes of UID ${meta.uid}`);
  return { meta, raw: null, blob, ...finishDedupe(hasher) };
}

async function prepareBatch(ctx: MailboxSyncContext, fetched: Fetched[], beforeParse?: (uid: number) => Promise<void>): Promise<Prepared> {
  const known = await findStoredMessages(ctx.db.em.fork(), [...new Set(fetched.map((f) => f.dedupeHash))]);
  const seen = new Set<string>();
  const settled = await Promise.allSettled(fetched.map(async (f): Promise<StoreItem> => {
    const base = { uid: f.meta.uid, flags: f.meta.flags, modseq: f.meta.modseq, internalDate: f.meta.internalDate, dedupeHash: f.dedupeHash, messageId: f.messageId };
    // Known content (another folder, another account, or a folder re-listed after UIDVALIDITY changed):
    // only a location is added, so it is neither parsed nor saved again.
    if (known.has(f.dedupeHash) || seen.has(f.dedupeHash)) return { ...base, raw: { sha256: '', size: 0 }, parsed: null, parseError: null };
    seen.add(f.dedupeHash);
    await beforeParse?.(f.meta.uid);
    // The thread stores the raw source, parses, saves attachments and builds the search vector.
    const outcome = await ctx.pool.parse(f.raw ? { raw: f.raw } : { rawSha256: f.blob!.sha256 });
    if (outcome.kind === 'io-error') {
      if (outcome.code && STORAGE_CODES.has(outcome.code)) throw new LocalStorageError(outcome.code, outcome.error);
      throw new Error(`could not store the message: ${outcome.error}`);
    }
    if (outcome.kind === 'gave-up') return { ...base, raw: f.blob ?? (await ctx.blobs.put(f.raw!)), parsed: null, parseError: outcome.reason };
    return { ...base, raw: outcome.raw ?? f.blob!, parsed: outcome.message, parseError: null, search: outcome.search, authentication: outcome.authentication };
  }));
  // A failed batch fails only once every message of it is settled: no blob write of it is still under way when
  // the run ends (and a retry starts), so a full disk leaves complete files or none, never one being written.
  const items: StoreItem[] = [];
  for (const r of settled) {
    if (r.status === 'rejected') throw r.reason;
    items.push(r.value);
  }
  return { items, maxUid: Math.max(0, ...fetched.map((f) => f.meta.uid)), count: fetched.length };
}

/** Rows and the cursor that covers them commit together; the cursor only moves forward. */
async function commitBatch(ctx: MailboxSyncContext, storeCtx: MailboxStoreContext, box: MailboxRef, uidValidity: string, p: Prepared, recount: boolean): Promise<void> {
  const queued: string[] = [];
  for (let attempt = 1; ; attempt++) {
    try {
      let stored: string[] = [];
      await ctx.db.em.fork().transactional(async (em) => {
        queued.length = 0;
        stored = (await storeMessages(em, { ...storeCtx, queuedMail: queued }, p.items)).filter((r) => r.created || r.linked).map((r) => r.messageId);
        if (p.maxUid > 0) {
          const moved = await advanceMailboxCursor(em, box.id, uidValidity, p.maxUid, p.count);
          // Another runner reset the folder meanwhile: these UIDs belong to a UIDVALIDITY no longer current.
          if (!moved) throw new Error(`folder ${box.path} changed UIDVALIDITY during the sync`);
        }
        if (recount) await refreshMailboxCounts(em, box.id);
      });
      // Follow-up mail of this batch (acknowledgements, reply notifications) goes out now, not at the next
      // safety-net scan. Should this enqueue fail, resume-outbox and the file-request scan still find the rows.
      for (const id of queued) await enqueueSend(ctx.queue, id).catch((err) => ctx.log.warn({ outboxId: id, err }, 'could not enqueue follow-up mail'));
      await announceCommitted(ctx, stored);
      return;
    } catch (err) {
      // The same content was committed by a concurrent sync (another account): now it is visible, and
      // the next attempt links it instead of inserting it.
      if (!(err instanceof UniqueConstraintViolationException) || attempt >= STORE_ATTEMPTS) throw err;
    }
  }
}

/** After a commit: open browsers hear of the new mail (and the account's progress). Never fails the sync. */
async function announceCommitted(ctx: MailboxSyncContext, messageIds: string[]): Promise<void> {
  if (!ctx.events) return;
  try {
    for (const event of await describeMessageEvents(ctx.db.em.fork(), messageIds)) ctx.events.publish(event);
    ctx.events.publish({ type: 'sync', accountId: ctx.accountId, progress: null, status: 'syncing' });
  } catch (err) {
    ctx.log.warn({ err, accountId: ctx.accountId }, 'live events: could not announce new mail');
  }
}

async function storeUnfetchable(ctx: MailboxSyncContext, storeCtx: MailboxStoreContext, meta: Meta, attempts: number): Promise<void> {
  const row = await getMailboxState(ctx.db.em.fork(), storeCtx.mailbox.id);
  const empty = await ctx.blobs.put(Buffer.alloc(0));
  const lastError = await getMailboxLastError(ctx.db.em.fork(), storeCtx.mailbox.id);
  const item: StoreItem = {
    uid: meta.uid, flags: meta.flags, modseq: meta.modseq, internalDate: meta.internalDate,
    raw: empty, dedupeHash: dedupeKey(null, `unfetchable:${storeCtx.mailbox.id}:${storeCtx.uidValidity}:${meta.uid}`), messageId: null, parsed: null,
    parseError: `Skipped after ${attempts - 1} failed attempts to fetch and store it${lastError ? ` (last error: ${lastError})` : ''}`,
  };
  ctx.log.warn({ accountId: ctx.accountId, uid: meta.uid, attempts: attempts - 1, retryUid: row.retryUid }, 'giving up on a message that keeps failing');
  await commitBatch(ctx, storeCtx, { id: storeCtx.mailbox.id, path: '', role: storeCtx.mailbox.role }, storeCtx.uidValidity, { items: [item], maxUid: meta.uid, count: 1 }, true);
}

// ---------------------------------------------------------------- flags and expunges

async function syncFlags(
  ctx: MailboxSyncContext, client: ImapFlow, box: MailboxRef, uidValidity: string, flags: Exclude<FlagSync, { mode: 'none' }>, lastUid: number,
): Promise<{ changed: number; removed: number }> {
  if (lastUid < 1) return { changed: 0, removed: 0 };
  const seen = new Map<number, { flags: string[]; modseq: string | null }>();
  const vanished: number[] = [];
  const onExpunge = (e: { uid?: number; vanished: boolean }) => {
    if (e.vanished && e.uid) vanished.push(e.uid);
  };
  client.on('expunge', onExpunge);
  try {
    const options = flags.mode === 'changed-since' ? { uid: true, changedSince: flags.changedSince } : { uid: true };
    for await (const m of client.fetch(`1:${lastUid}`, { uid: true, flags: true }, options)) {
      seen.set(m.uid, { flags: cleanFlags(m.flags ?? []), modseq: m.modseq !== undefined ? String(m.modseq) : null });
    }
  } finally {
    client.off('expunge', onExpunge);
  }
  return ctx.db.em.fork().transactional(async (em) => {
    const rows = await listLiveLocationFlags(em, box.id, uidValidity, lastUid);
    let changed = 0;
    const gone: number[] = [...vanished];
    for (const r of rows) {
      const uid = r.uid;
      const now = seen.get(uid);
      if (!now) {
        // A full scan lists every message that exists: one not listed was expunged.
        if (flags.mode === 'full') gone.push(uid);
        continue;
      }
      if (now.flags.join(' ') === [...r.flags].sort().join(' ')) continue;
      await setLocationFlags(em, box.id, uidValidity, uid, now.flags, now.modseq);
      changed++;
    }
    const removed = await markLocationsRemoved(em, box.id, uidValidity, gone);
    await refreshMailboxCounts(em, box.id);
    return { changed, removed };
  });
}

/** Without VANISHED: the UIDs the server still has, compared with the live locations (UID SEARCH ALL). */
async function removeExpunged(ctx: MailboxSyncContext, client: ImapFlow, box: MailboxRef, uidValidity: string, lastUid: number): Promise<number> {
  const found = await client.search({ all: true }, { uid: true });
  if (!Array.isArray(found)) return 0;
  const present = new Set(found);
  return ctx.db.em.fork().transactional(async (em) => {
    const gone = (await listLiveLocationUids(em, box.id, uidValidity, lastUid)).filter((u) => !present.has(u));
    const removed = await markLocationsRemoved(em, box.id, uidValidity, gone);
    await refreshMailboxCounts(em, box.id);
    return removed;
  });
}

// ---------------------------------------------------------------- mailbox row

async function resetMailbox(db: Db, mailboxId: string, uidValidity: string): Promise<void> {
  await db.em.fork().transactional(async (em) => {
    await resetMailboxCursor(em, mailboxId, uidValidity);
    await refreshMailboxCounts(em, mailboxId);
  });
}

/** A network failure is not the message's fault: it does not count as an attempt. */
export async function forgiveAttempt(db: Db, mailboxId: string): Promise<void> {
  await forgiveFetchAttempt(db.em.fork(), mailboxId);
}

export async function recordMailboxError(db: Db, mailboxId: string, err: unknown): Promise<void> {
  await recordMailboxProblem(db.em.fork(), mailboxId, classifyImapError(err).message);
}

// ---------------------------------------------------------------- pipeline helpers

/** Pulls up to `depth` items ahead of the consumer, so the producer works while the consumer does. */
async function* lookahead<T>(source: AsyncIterable<T>, depth: number): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  const queue: Promise<IteratorResult<T>>[] = [];
  const pull = () => {
    const p = it.next();
    p.catch(() => undefined); // observed when its turn comes
    queue.push(p);
  };
  try {
    for (let i = 0; i <= depth; i++) pull();
    for (;;) {
      const r = await queue.shift()!;
      if (r.done) return;
      pull();
      yield r.value;
    }
  } finally {
    // Let an in-flight step finish before the source is closed (a FETCH must not be left half read).
    await Promise.allSettled(queue);
    await it.return?.(undefined);
  }
}

/** Runs `fn` on up to `concurrency` items of `source` at once and yields the results in source order. */
async function* mapOrdered<T, U>(source: AsyncIterable<T>, fn: (t: T) => Promise<U>, concurrency: number): AsyncGenerator<U> {
  const it = source[Symbol.asyncIterator]();
  const running: Promise<U>[] = [];
  let exhausted = false;
  try {
    for (;;) {
      while (!exhausted && running.length < concurrency) {
        const r = await it.next();
        if (r.done) exhausted = true;
        else {
          const p = fn(r.value);
          p.catch(() => undefined); // observed when its turn comes
          running.push(p);
        }
      }
      if (!running.length) return;
      yield await running.shift()!;
    }
  } finally {
    await Promise.allSettled(running);
    await it.return?.(undefined);
  }
}
