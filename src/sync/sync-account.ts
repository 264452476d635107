// One sync run of one account: take its lease (one runner per account across all workers), connect,
// find the folders (INBOX, the \Sent special-use folder, the picked ones; never Junk/Trash unless picked),
// sync each, and record status and errors in plain words. Reconnects with jittered backoff when the
// connection drops; a refused login counts towards needs_reauth instead of being retried in a loop.
import type { WorkerDeps } from './worker-deps.ts';
import { MailAccount, Mailbox, type FolderRole } from '../core/mail/mail-account.entity.ts';
import { NeedsReauthError } from '../core/mail/oauth.ts';
import { imapSettingsFor } from './account-credentials.ts';
import { markAccountSyncing, recordAccountSynced, recordAccountSyncError, recordAuthFailure as countAuthFailure } from '../core/mail/account-sync-status.ts';
import { listOwnAddresses } from '../core/log/filing.ts';
import { holdLease } from './account-lease.ts';
import { backoffDelayMs, sleep } from '../core/platform/backoff.ts';
import { classifyImapError, closeImap, listServerFolders, openImap, type ImapFlow } from './imap.ts';
import { forgiveAttempt, recordMailboxError, syncMailbox, type MailboxRef, type MailboxSyncResult } from './sync-mailbox.ts';
import type { ParsePool } from './parse-pool.ts';
import { mailHostPolicy } from '../core/mail/mail-hosts.ts';

/** Consecutive refused logins (one per run, runs are a sync interval apart) before the account stops trying. */
export const MAX_AUTH_FAILURES = 3;
/** Reconnects within one run after the connection dropped (then the next scheduled run goes on). */
export const MAX_RECONNECTS = 5;
const RECONNECT_BACKOFF = { baseMs: 300, maxMs: 10_000 };

export type SyncReason = 'schedule' | 'idle' | 'manual' | 'created';
export type SyncRuntime = { pool: ParsePool; onSynced?: (accountId: string) => void };
export type SyncOutcome =
  | { outcome: 'done'; folders: Record<string, MailboxSyncResult>; errors: string[] }
  | { outcome: 'gone' | 'busy' | 'needs-reauth' }
  | { outcome: 'auth-failed'; failures: number; needsReauth: boolean; message: string }
  | { outcome: 'error'; message: string };

export async function syncAccount(deps: WorkerDeps, runtime: SyncRuntime, accountId: string, opts: { reason: SyncReason; signal?: AbortSignal }): Promise<SyncOutcome> {
  const em = deps.db.em.fork();
  const account = await em.findOne(MailAccount, { id: accountId });
  if (!account) return { outcome: 'gone' };
  // No hammering: a refused account waits for new credentials (PATCH resets the status).
  if (account.status === 'needs_reauth') return { outcome: 'needs-reauth' };

  const stop = new AbortController();
  const onOuterAbort = () => stop.abort();
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const lease = await holdLease(deps.db, 'sync', accountId, deps.workerId, () => {
    deps.log.warn({ accountId }, 'sync lease lost; stopping this run');
    stop.abort();
  });
  if (!lease) {
    opts.signal?.removeEventListener('abort', onOuterAbort);
    return { outcome: 'busy' };
  }
  let client: ImapFlow | null = null;
  try {
    await markAccountSyncing(em, accountId);
    let settings = await imapSettingsFor(deps, em, account);
    // An OAuth2 token the server refused is refreshed once per run before the refusal counts.
    let tokenRetried = false;
    const ownAddresses = new Set(await listOwnAddresses(em));
    const ctx = {
      db: deps.db, queue: deps.queue, blobs: deps.blobs, pool: runtime.pool, log: deps.log, events: deps.events ?? null, accountId, ownAddresses, signal: stop.signal,
      filing: { blobs: deps.blobs, maxAttachmentBytes: deps.config.maxAttachmentBytes },
      metrics: deps.metrics ?? null,
      fullFlagScan: opts.reason !== 'idle',
    };
    const results: Record<string, MailboxSyncResult> = {};
    const errors: string[] = [];
    let boxes: MailboxRef[] | null = null;
    let reconnects = 0;
    for (;;) {
      let current: MailboxRef | null = null;
      try {
        if (stop.signal.aborted) throw new Error('sync stopped');
        client ??= await openImap(settings, { signal: stop.signal, id: `sync-${accountId.slice(0, 8)}`, hosts: mailHostPolicy(deps.config), socketTimeoutMs: deps.config.imapTimeoutSeconds * 1000 });
        // An IDLE wake-up is about INBOX only: the fast path to "new mail visible within seconds".
        boxes ??= opts.reason === 'idle' ? await inboxOnly(deps, accountId) : await ensureFolders(deps, account, client, errors);
        while (boxes.length) {
          current = boxes[0]!;
          results[current.path] = await syncMailbox(ctx, client, current);
          boxes.shift();
        }
        break;
      } catch (err) {
        const c = classifyImapError(err);
        deps.metrics?.syncError(c.kind);
        if (c.kind === 'auth' && settings.accessToken && !tokenRetried) {
          tokenRetried = true;
          client?.close();
          client = null;
          settings = await imapSettingsFor(deps, em, account, { failedToken: settings.accessToken });
          continue;
        }
        if (c.kind === 'auth') return await recordAuthFailure(deps, accountId, c.message);
        if (c.kind === 'network' && !stop.signal.aborted && reconnects < MAX_RECONNECTS) {
          reconnects++;
          if (current) await forgiveAttempt(deps.db, current.id);
          deps.log.warn({ accountId, folder: current?.path, attempt: reconnects, err: c.message }, 'connection lost; reconnecting');
          client?.close();
          client = null;
          await sleep(backoffDelayMs(reconnects, RECONNECT_BACKOFF), stop.signal);
          continue;
        }
        if (current && c.kind !== 'network' && !stop.signal.aborted) {
          // One folder's problem must not stop the others.
          deps.log.warn({ accountId, folder: current.path, err }, 'folder sync failed');
          await recordMailboxError(deps.db, current.id, err);
          errors.push(`${current.path}: ${c.message}`);
          boxes?.shift();
          continue;
        }
        throw err;
      }
    }
    await recordAccountSynced(em, accountId, errors);
    runtime.onSynced?.(accountId);
    deps.events?.publish({ type: 'sync', accountId, progress: null, status: errors.length ? 'error' : 'idle' });
    return { outcome: 'done', folders: results, errors };
  } catch (err) {
    // The provider refused to renew the grant: the account already waits in needs_reauth with the reason.
    if (err instanceof NeedsReauthError) {
      deps.metrics?.syncError('needs_reauth');
      return { outcome: 'needs-reauth' };
    }
    const message = stop.signal.aborted && lease.lost ? 'Another worker took over this account' : classifyImapError(err).message;
    deps.log.warn({ accountId, err }, 'account sync failed');
    await recordAccountSyncError(em, accountId, message).catch(() => undefined);
    deps.events?.publish({ type: 'sync', accountId, progress: null, status: 'error' });
    return { outcome: 'error', message };
  } finally {
    opts.signal?.removeEventListener('abort', onOuterAbort);
    await closeImap(client);
    await lease.release();
  }
}

/** A refused login: counted; at MAX_AUTH_FAILURES the account waits for new credentials. */
async function recordAuthFailure(deps: WorkerDeps, accountId: string, message: string): Promise<SyncOutcome> {
  const { failures, needsReauth } = await countAuthFailure(deps.db.em.fork(), accountId, message, MAX_AUTH_FAILURES);
  deps.log.warn({ accountId, failures, needsReauth }, 'mail server refused the login');
  return { outcome: 'auth-failed', failures, needsReauth, message };
}

async function inboxOnly(deps: WorkerDeps, accountId: string): Promise<MailboxRef[]> {
  const em = deps.db.em.fork();
  const box = await em.findOne(Mailbox, { account: accountId, role: 'inbox' });
  if (box) return [{ id: box.id, path: box.path, role: box.role }];
  const created = em.create(Mailbox, { account: accountId, path: 'INBOX', role: 'inbox' });
  await em.flush();
  return [{ id: created.id, path: created.path, role: created.role }];
}

/**
 * The folders to sync: INBOX, the \Sent special-use folder (RFC 6154; mail sent from other clients
 * must be logged too), and the picked ones that exist. Junk and Trash only when picked explicitly.
 */
async function ensureFolders(deps: WorkerDeps, account: MailAccount, client: ImapFlow, errors: string[]): Promise<MailboxRef[]> {
  const server = await listServerFolders(client);
  const wanted = new Map<string, FolderRole>();
  const inbox = server.find((f) => f.path.toUpperCase() === 'INBOX');
  wanted.set(inbox?.path ?? 'INBOX', 'inbox');
  const sent = server.find((f) => f.specialUse === '\\Sent');
  if (sent && !wanted.has(sent.path)) wanted.set(sent.path, 'sent');
  for (const path of account.extraFolders) {
    if (wanted.has(path)) continue;
    if (server.some((f) => f.path === path)) wanted.set(path, 'other');
    else errors.push(`${path}: this folder no longer exists on the server`);
  }
  const em = deps.db.em.fork();
  const existing = await em.find(Mailbox, { account: account.id });
  const out: MailboxRef[] = [];
  for (const [path, role] of wanted) {
    let box = existing.find((b) => b.path === path);
    if (!box) box = em.create(Mailbox, { account: account.id, path, role });
    else if (box.role !== role) box.role = role;
    out.push({ id: box.id, path, role });
  }
  await em.flush();
  return out;
}
