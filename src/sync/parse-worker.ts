// Runs in a worker thread of the parse pool (parse-pool.ts): stores one raw message in the blob store,
// parses it, streams its attachments into the blob store and builds its search vector, so that this
// per-message work uses every core while the main thread fetches and commits, and a parser crash or
// runaway parse takes down a thread, never the sync. Nothing else runs here.
import { workerData } from 'node:worker_threads';
import type { Readable } from 'node:stream';
import type { Config } from '../core/platform/config.ts';
import { createBlobStore } from '../core/blobs/blob-stores.ts';
import type { StoredBlob } from '../core/blobs/blob-store.ts';
import type { IncomingMessage } from '../core/mail/incoming-message.ts';
import { messageSearchVector, type SearchVector } from '../core/mail/search-terms.ts';
import { parseMessage } from './parse-message.ts';

/** Raw bytes (transferred, not copied) to store and parse, or the key of a source already stored (streamed). */
export type ParseTask = { raw: Uint8Array } | { rawSha256: string };
/** An I/O failure (blob store) is not the message's fault: the caller retries instead of marking it failed. */
export type ParseTaskResult =
  | { ok: true; message: IncomingMessage; raw: StoredBlob | null; search: SearchVector }
  | { ok: false; ioError: string; code: string | null };

const config = workerData as Config;
const blobs = createBlobStore(config);

export default async function parseTask(task: ParseTask): Promise<ParseTaskResult> {
  try {
    let source: Readable | Buffer;
    let raw: StoredBlob | null = null;
    if ('raw' in task) {
      source = Buffer.from(task.raw.buffer, task.raw.byteOffset, task.raw.byteLength);
      raw = await blobs.put(source);
    } else {
      source = await blobs.get(task.rawSha256);
    }
    const message = await parseMessage(source, { writeBlob: (content) => blobs.put(content) });
    // Addresses come out of parseMessage normalised. Binary for PostgreSQL, text for PGlite (no DATABASE_URL,
    // see openDb and takesBinaryParams).
    const search = messageSearchVector(
      { subject: message.subject, fromName: message.from?.name || null, fromAddress: message.from?.address ?? null, text: message.text },
      config.databaseUrl ? 'binary' : 'literal',
    );
    return { ok: true, message, raw, search };
  } catch (err) {
    return { ok: false, ioError: (err as Error).message, code: typeof (err as NodeJS.ErrnoException).code === 'string' ? (err as NodeJS.ErrnoException).code! : null };
  }
}
