// Per-account leases in the database, so that however many workers run, one syncs an account at a time
// ('sync': lease_owner/lease_until) and one keeps its IDLE connection ('watch': watch_owner/watch_until).
// A lease is renewed while its holder runs and expires on its own when the holder dies (kill -9).
import os from 'node:os';
import type { Db } from '../core/platform/db.ts';

export type LeaseKind = 'sync' | 'watch';
export const LEASE_TTL_MS = 60_000;
const RENEW_EVERY_MS = LEASE_TTL_MS / 4;

const COLUMNS: Record<LeaseKind, { owner: string; until: string }> = {
  sync: { owner: 'lease_owner', until: 'lease_until' },
  watch: { owner: 'watch_owner', until: 'watch_until' },
};

/** Takes the lease when free, expired, or already ours; the database clock decides expiry. */
export async function acquireLease(db: Db, kind: LeaseKind, accountId: string, owner: string, ttlMs = LEASE_TTL_MS): Promise<boolean> {
  const c = COLUMNS[kind];
  const rows = await db.em.fork().execute<{ id: string }[]>(
    `update mail_account set ${c.owner} = ?, ${c.until} = now() + (? * interval '1 millisecond')
      where id = ? and (${c.owner} is null or ${c.owner} = ? or ${c.until} < now()) returning id`,
    [owner, ttlMs, accountId, owner],
  );
  return rows.length > 0;
}

/** Extends a lease we hold; false when it was lost (expired and taken by another worker). */
export async function renewLease(db: Db, kind: LeaseKind, accountId: string, owner: string, ttlMs = LEASE_TTL_MS): Promise<boolean> {
  const c = COLUMNS[kind];
  const rows = await db.em.fork().execute<{ id: string }[]>(
    `update mail_account set ${c.until} = now() + (? * interval '1 millisecond') where id = ? and ${c.owner} = ? returning id`,
    [ttlMs, accountId, owner],
  );
  return rows.length > 0;
}

export async function releaseLease(db: Db, kind: LeaseKind, accountId: string, owner: string): Promise<void> {
  const c = COLUMNS[kind];
  await db.em.fork().execute(`update mail_account set ${c.owner} = null, ${c.until} = null where id = ? and ${c.owner} = ?`, [accountId, owner]);
}

/**
 * The owner name written into a lease: host and pid first, so a worker restarted on the same machine
 * can tell a lease of a process that no longer exists (killed) and take it at once instead of waiting
 * for it to expire.
 */
export const leaseOwnerName = (workerId: string) => `${os.hostname()}/${process.pid}/${workerId}`;

function isDeadLocalOwner(owner: string | null): boolean {
  const [host, pid] = (owner ?? '').split('/');
  if (host !== os.hostname() || !pid || !/^\d+$/.test(pid) || Number(pid) === process.pid) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Takes a lease held by a process of this host that is gone (kill -9); false when it is alive or elsewhere. */
async function takeFromDeadOwner(db: Db, kind: LeaseKind, accountId: string, owner: string): Promise<boolean> {
  const c = COLUMNS[kind];
  const rows = await db.em.fork().execute<{ holder: string | null }[]>(`select ${c.owner} as holder from mail_account where id = ?`, [accountId]);
  const holder = rows[0]?.holder ?? null;
  if (!isDeadLocalOwner(holder)) return false;
  const taken = await db.em.fork().execute<{ id: string }[]>(
    `update mail_account set ${c.owner} = ?, ${c.until} = now() + (? * interval '1 millisecond') where id = ? and ${c.owner} = ? returning id`,
    [owner, LEASE_TTL_MS, accountId, holder],
  );
  return taken.length > 0;
}

export type HeldLease = { readonly lost: boolean; release: () => Promise<void> };

/**
 * Takes the lease and keeps renewing it; onLost runs (once) if renewal fails, so the holder stops
 * before another worker, which may now hold it, does the same work. Null when the lease is taken.
 */
export async function holdLease(db: Db, kind: LeaseKind, accountId: string, workerId: string, onLost: () => void): Promise<HeldLease | null> {
  const owner = leaseOwnerName(workerId);
  if (!(await acquireLease(db, kind, accountId, owner)) && !(await takeFromDeadOwner(db, kind, accountId, owner))) return null;
  let lost = false;
  let released = false;
  const timer = setInterval(() => {
    renewLease(db, kind, accountId, owner).then((ok) => {
      if (!ok && !released && !lost) {
        lost = true;
        clearInterval(timer);
        onLost();
      }
    }, () => undefined);
  }, RENEW_EVERY_MS);
  timer.unref();
  return {
    get lost() {
      return lost;
    },
    release: async () => {
      released = true;
      clearInterval(timer);
      if (!lost) await releaseLease(db, kind, accountId, owner).catch(() => undefined);
    },
  };
}
