// Files a stored message to every client whose contact address (sync on) appears in From/To/Cc/Reply-To.
// Runs inside the sync pipeline's transaction (the caller flushes) and retroactively for new addresses.
import type { Em } from './db.ts';
import type { BlobStore } from './blob-store.ts';
import type { Message } from './message.entity.ts';

export type FilingDeps = { blobs: BlobStore; maxAttachmentBytes: number };
export type FilingResult = { clientIds: string[]; documentsSaved: number };

/** Idempotent: filing the same message twice creates nothing new. */
export async function fileMessage(_em: Em, _message: Message, _deps: FilingDeps): Promise<FilingResult> {
  return { clientIds: [], documentsSaved: 0 };
}
