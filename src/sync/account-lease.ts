// Holding a per-account lease (core/mail/account-lease.ts): one worker syncs an account at a time ('sync')
// and one keeps its IDLE connection ('watch'). A lease is renewed while its holder runs and expires on its
// own when the holder dies (kill -9).
import os from 'node:os';
import type { Db } from '../core/platform/db.ts';
import { acquireAccountLease, getAccountLeaseHolder, releaseAccountLease, renewAccountLeases, takeAccountLeaseFrom, type LeaseKind } from '../core/mail/account-lease.ts';

export type { LeaseKind };
/** Short, so that a dead holder (kill -9, a lost host) frees its accounts within seconds (issue 14). */
export const LEASE_TTL_MS = 10_000;
/** Renewed this often: three renewals may fail (a slow database) before the lease is lost. */
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

type Held = { onLost: () => void };

/**
 * One renewal timer per process, lease kind and owner: a single UPDATE extends every lease it holds (a
 * worker may watch thousands of accounts), and whichever was not extended is reported lost.
 */
class LeaseRenewer {
  readonly held = new Map<string, Held>();
  private timer: NodeJS.Timeout | null = null;
  private readonly db: Db;
  private readonly kind: LeaseKind;
  private readonly owner: string;
  constructor(db: Db, kind: LeaseKind, owner: string) {
    this.db = db;
    this.kind = kind;
    this.owner = owner;
  }

  add(accountId: string, h: Held) {
    this.held.set(accountId, h);
    if (!this.timer) {
      this.timer = setInterval(() => void this.renew(), RENEW_EVERY_MS);
      this.timer.unref();
    }
  }

  delete(accountId: string) {
    this.held.delete(accountId);
    if (!this.held.size && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private async renew() {
    const ids = [...this.held.keys()];
    let kept: Set<string>;
    try {
      kept = await renewAccountLeases(this.db.em.fork(), this.kind, ids, this.owner, LEASE_TTL_MS);
    } catch {
      return; // the database did not answer: try again next round (the lease has TTL to spare)
    }
    for (const id of ids) {
      const h = this.held.get(id);
      if (h && !kept.has(id)) {
        this.delete(id);
        h.onLost();
      }
    }
  }
}

const renewers = new Map<string, LeaseRenewer>();
const renewerFor = (db: Db, kind: LeaseKind, owner: string) => {
  const key = `${kind}\n${owner}`;
  let r = renewers.get(key);
  if (!r) renewers.set(key, (r = new LeaseRenewer(db, kind, owner)));
  return r;
};

/**
 * Takes the lease and keeps renewing it; onLost runs (once) if renewal fails, so the holder stops
 * before another worker, which may now hold it, does the same work. Null when the lease is taken.
 */
export async function holdLease(db: Db, kind: LeaseKind, accountId: string, workerId: string, onLost: () => void): Promise<HeldLease | null> {
  const owner = leaseOwnerName(workerId);
  if (!(await acquireAccountLease(db.em.fork(), kind, accountId, owner, LEASE_TTL_MS)) && !(await takeFromDeadOwner(db, kind, accountId, owner))) return null;
  let lost = false;
  let released = false;
  const renewer = renewerFor(db, kind, owner);
  renewer.add(accountId, {
    onLost: () => {
      if (released) return;
      lost = true;
      onLost();
    },
  });
  return {
    get lost() {
      return lost;
    },
    release: async () => {
      released = true;
      renewer.delete(accountId);
      if (!lost) await releaseAccountLease(db.em.fork(), kind, accountId, owner).catch(() => undefined);
    },
  };
}
