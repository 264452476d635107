// Holding a per-account lease (core/mail/account-lease.ts): one worker syncs an account at a time ('sync')
// and one keeps its IDLE connection ('watch'). A lease is renewed while its holder runs and expires on its
// own when the holder dies (kill -9).
import os from 'node:os';
import type { Db } from '../core/platform/db.ts';
import { acquireAccountLease, getAccountLeaseHolder, releaseAccountLease, renewAccountLease, takeAccountLeaseFrom, type LeaseKind } from '../core/mail/account-lease.ts';

export type { LeaseKind };
export const LEASE_TTL_MS = 60_000;
const RENEW_EVERY_MS = LEASE_TTL_MS / 4;

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
  const holder = await getAccountLeaseHolder(db.em.fork(), kind, accountId);
  if (!holder || !isDeadLocalOwner(holder)) return false;
  return takeAccountLeaseFrom(db.em.fork(), kind, accountId, holder, owner, LEASE_TTL_MS);
}

export type HeldLease = { readonly lost: boolean; release: () => Promise<void> };

/**
 * Takes the lease and keeps renewing it; onLost runs (once) if renewal fails, so the holder stops
 * before another worker, which may now hold it, does the same work. Null when the lease is taken.
 */
export async function holdLease(db: Db, kind: LeaseKind, accountId: string, workerId: string, onLost: () => void): Promise<HeldLease | null> {
  const owner = leaseOwnerName(workerId);
  if (!(await acquireAccountLease(db.em.fork(), kind, accountId, owner, LEASE_TTL_MS)) && !(await takeFromDeadOwner(db, kind, accountId, owner))) return null;
  let lost = false;
  let released = false;
  const timer = setInterval(() => {
    renewAccountLease(db.em.fork(), kind, accountId, owner, LEASE_TTL_MS).then((ok) => {
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
      if (!lost) await releaseAccountLease(db.em.fork(), kind, accountId, owner).catch(() => undefined);
    },
  };
}
