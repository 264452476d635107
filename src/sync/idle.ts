// New mail within seconds: one IDLE connection (RFC 2177) on each account's INBOX, held by whichever
// worker takes the account's watch lease, that enqueues a sync when the server announces new messages.
// Watchers run beside the job slots (a forever-running job would starve the queue's concurrency).
import type { WatcherRegistry, WorkerDeps } from './worker-deps.ts';
import { MailAccount } from '../core/mail/mail-account.entity.ts';
import { imapSettingsFor } from './account-credentials.ts';
import { listMailAccountIds } from '../core/mail/account-sync-status.ts';
import { holdLease } from './account-lease.ts';
import { backoffDelayMs, sleep } from '../core/platform/backoff.ts';
import { classifyImapError, closeImap, openImap, type ImapFlow } from './imap.ts';
import { mailHostPolicy } from '../core/mail/mail-hosts.ts';

/** Reconnect pacing for a watcher: quick after a blip, at most every 5 minutes for a server that is down. */
const WATCH_BACKOFF = { baseMs: 1000, maxMs: 300_000 };
/** Re-issue IDLE this often: below the 29 minutes of RFC 2177 and below most NAT idle timeouts. */
const IDLE_RESTART_MS = 5 * 60_000;
/** How often a worker looks for accounts it wants watched but nobody watches (dead worker, lease expired):
 *  with the leases' 10 s this bounds how long an account goes unwatched after its watcher's worker died.
 *  Cheap: one indexed-size select of the unwatched accounts, usually none. */
const RESCAN_MS = 2_500;
/** New-mail announcements closer together than this become one sync. */
const COALESCE_MS = 30;

export type { WatcherRegistry };

export type WatcherOptions = {
  /** Called when the server announces new mail in INBOX. */
  onNewMail: (accountId: string) => Promise<void>;
  /** Watch every account in the database (a deployment's workers), not only those asked for. */
  adoptAll: boolean;
  rescanMs?: number;
};

export function createWatcherRegistry(deps: WorkerDeps, opts: WatcherOptions): WatcherRegistry {
  const wanted = new Set<string>();
  const running = new Map<string, { stop: AbortController; done: Promise<void> }>();
  let stopped = false;

  const start = (accountId: string) => {
    if (stopped || running.has(accountId)) return;
    const stop = new AbortController();
    const done = watchAccount(deps, accountId, stop.signal, opts.onNewMail)
      .then((r) => {
        if (r === 'gone') wanted.delete(accountId);
      })
      .catch((err) => deps.log.warn({ accountId, err }, 'watcher failed'))
      .finally(() => running.delete(accountId));
    running.set(accountId, { stop, done });
  };

  const rescan = async () => {
    // Only accounts nobody watches: asking for every account's lease every few seconds would cost a write
    // per account and worker.
    const ids = opts.adoptAll ? await listMailAccountIds(deps.db.em.fork(), { syncable: true, unwatched: true }) : wanted;
    for (const id of ids) start(id);
  };
  const timer = setInterval(() => void rescan().catch((err) => deps.log.warn({ err }, 'watcher rescan failed')), opts.rescanMs ?? RESCAN_MS);
  timer.unref();
  if (opts.adoptAll) void rescan().catch((err) => deps.log.warn({ err }, 'watcher rescan failed'));

  return {
    ensure(accountId) {
      wanted.add(accountId);
      start(accountId);
    },
    watching: () => [...running.keys()],
    async stop() {
      stopped = true;
      clearInterval(timer);
      for (const r of running.values()) r.stop.abort();
      await Promise.allSettled([...running.values()].map((r) => r.done));
    },
  };
}

type WatchEnd = 'busy' | 'gone' | 'needs-reauth' | 'stopped';

/** Holds IDLE on INBOX until stopped; reconnects with backoff; leaves refused logins to the sync. */
async function watchAccount(deps: WorkerDeps, accountId: string, signal: AbortSignal, onNewMail: (id: string) => Promise<void>): Promise<WatchEnd> {
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  const lease = await holdLease(deps.db, 'watch', accountId, deps.workerId, () => stop.abort());
  if (!lease) {
    signal.removeEventListener('abort', onAbort);
    return 'busy';
  }
  let pending: NodeJS.Timeout | null = null;
  const announce = () => {
    // A burst of EXISTS (a batch of deliveries) becomes one sync request.
    pending ??= setTimeout(() => {
      pending = null;
      onNewMail(accountId).catch((err) => deps.log.warn({ accountId, err }, 'could not enqueue a sync for new mail'));
    }, COALESCE_MS);
  };
  let failures = 0;
  try {
    while (!stop.signal.aborted) {
      const em = deps.db.em.fork();
      const account = await em.findOne(MailAccount, { id: accountId });
      if (!account) return 'gone';
      if (account.status === 'needs_reauth') return 'needs-reauth';
      let client: ImapFlow | null = null;
      try {
        client = await openImap(await imapSettingsFor(deps, em, account), { signal: stop.signal, id: `idle-${accountId.slice(0, 8)}`, idleRestartMs: IDLE_RESTART_MS, hosts: mailHostPolicy(deps.config),
          // A connection that went silent without a FIN (a dead NAT entry) is found by NOOP within twice this.
          socketTimeoutMs: deps.config.imapTimeoutSeconds * 1000 });
        // EXAMINE: IDLE needs a selected mailbox, and read-only keeps it from ever changing anything.
        await client.mailboxOpen('INBOX', { readOnly: true });
        client.on('exists', (e: { count: number; prevCount: number }) => {
          if (e.count > e.prevCount) announce();
        });
        // Mail may have arrived while nobody watched (before this connection, or while another worker that
        // held the watch was dying): one sync now, not at the next scheduled run.
        announce();
        failures = 0;
        deps.log.info({ accountId }, 'watching INBOX');
        while (!stop.signal.aborted && client.usable) await client.idle();
      } catch (err) {
        if (stop.signal.aborted) break;
        const c = classifyImapError(err);
        // The sync run counts refused logins and decides about needs_reauth; the watcher just waits.
        deps.log.warn({ accountId, err: c.message }, 'watcher connection failed');
      } finally {
        await closeImap(client);
      }
      if (stop.signal.aborted) break;
      failures++;
      await sleep(backoffDelayMs(failures, WATCH_BACKOFF), stop.signal);
    }
    return 'stopped';
  } finally {
    if (pending) clearTimeout(pending);
    signal.removeEventListener('abort', onAbort);
    await lease.release();
  }
}
