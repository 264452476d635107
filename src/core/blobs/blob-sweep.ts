// Deletes blob files that no row refers to. A worker killed between writing a blob and committing its
// row leaves such a file; the grace period keeps blobs of transactions still in flight.
import { kysely, type Em } from '../platform/db.ts';
import type { BlobStore } from './blob-store.ts';

export async function sweepOrphanBlobs(em: Em, blobs: BlobStore, graceMs: number): Promise<number> {
  const cutoff = Date.now() - graceMs;
  let removed = 0;
  let batch: string[] = [];
  const flush = async () => {
    if (!batch.length) return;
    const rows = await kysely(em).selectFrom('blob').select('sha256').where('sha256', 'in', batch).execute();
    const known = new Set(rows.map((r) => r.sha256));
    for (const sha of batch) {
      if (!known.has(sha)) {
        await blobs.delete(sha);
        removed++;
      }
    }
    batch = [];
  };
  for await (const b of blobs.list()) {
    if (b.mtime.getTime() > cutoff) continue;
    batch.push(b.sha256);
    if (batch.length >= 500) await flush();
  }
  await flush();
  return removed;
}
