// Retroactive filing as a background job ('file-address'): for bulk changes and imports, where the API
// answers before the filing is done. Single-object API calls file synchronously (contacts.ts) instead.
import { createHash } from 'node:crypto';
import type { Db } from '../platform/db.ts';
import type { JobQueue } from '../platform/jobs.ts';
import { recordAudit } from '../staff/audit.ts';
import { fileAddress, type AddressFilingResult, type FilingDeps } from './filing.ts';

/** Enqueues one job per address, after the commit that made the addresses fileable. */
export async function enqueueAddressFiling(queue: JobQueue, addresses: Iterable<string>, actorId: string | null): Promise<number> {
  let n = 0;
  for (const address of new Set(addresses)) {
    // One at a time per address (key). No jobId: BullMQ keeps finished ids for a while and would drop a
    // later, legitimate request; running twice is idempotent and cheap.
    const key = `file-address-${createHash('sha256').update(address).digest('hex').slice(0, 32)}`;
    await queue.enqueue('file-address', { address, actorId }, { key });
    n++;
  }
  return n;
}

/** The job handler: files the address's existing mail in one transaction and notes it in each client's trail. */
export async function runFileAddressJob(db: Db, payload: { address: string; actorId: string | null }, deps: FilingDeps): Promise<AddressFilingResult> {
  return db.em.fork().transactional(async (em) => {
    const result = await fileAddress(em, payload.address, deps, { actorId: payload.actorId });
    for (const clientId of result.clientIds) {
      recordAudit(em, { actorId: payload.actorId, action: 'filing.retroactive', entityType: 'contact_email', clientId, details: { address: payload.address, messages: result.messages } });
    }
    return result;
  });
}
