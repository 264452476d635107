// Per-account leases in the database, so that however many workers run, one syncs an account at a time
// ('sync': lease_owner/lease_until) and one keeps its IDLE connection ('watch': watch_owner/watch_until).
// A lease is renewed while its holder runs and expires on its own when the holder dies (kill -9).
import type { Db } from '../core/db.ts';

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

export type HeldLease = { readonly lost: boolean; release: () => Promise<void> };

/**
 * Takes the lease and keeps renewing it; onLost runs (once) if renewal fails, so the holder stops
 * before another worker, which may now hold it, does the same work. Null when the lease is taken.
 */
export async function holdLease(db: Db, kind: LeaseKind, accountId: string, owner: string, onLost: () => void): Promise<HeldLease | null> {
  if (!(await acquireLease(db, kind, accountId, owner))) return null;
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
