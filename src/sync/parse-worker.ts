// Runs in a worker thread of the parse pool (parse-pool.ts): stores one raw message in the blob store,
// parses it, verifies its sender (sender-auth.ts), streams its attachments into the blob store and builds
// its search vector, so that this per-message work uses every core while the main thread fetches and
// commits, and a parser crash or runaway parse takes down a thread, never the sync. Nothing else runs here.
import { workerData, type MessagePort } from 'node:worker_threads';
import type { Readable } from 'node:stream';
import type { Config } from '../core/platform/config.ts';
import { createBlobStore } from '../core/blobs/blob-stores.ts';
import type { StoredBlob } from '../core/blobs/blob-store.ts';
import type { IncomingMessage, MessageAuthentication } from '../core/mail/incoming-message.ts';
import { messageSearchVector, type SearchVector } from '../core/mail/search-terms.ts';
import { parseMessage } from './parse-message.ts';
import { verifySender, verifyStoredSender, type DnsResolver } from './sender-auth.ts';

/** Raw bytes (transferred, not copied) to store and parse, or the key of a source already stored (streamed). */
export type ParseTask = { raw: Uint8Array } | { rawSha256: string };
/** What the pool sends: the task, and a port on which the main thread answers DNS look-ups (its cache and resolver). */
export type PoolTask = ParseTask & { dns?: MessagePort };
/** A DNS question to the main thread, and its answer. */
export type DnsRequest = { id: number; name: string; rrtype: string };
export type DnsAnswer = { id: number; records?: string[][] | string[]; error?: { message: string; code?: string } };
/** An I/O failure (blob store) is not the message's fault: the caller retries instead of marking it failed. */
export type ParseTaskResult =
  | { ok: true; message: IncomingMessage; raw: StoredBlob | null; search: SearchVector; authentication: MessageAuthentication | null }
  | { ok: false; ioError: string; code: string | null };

const config = workerData as Config;
const blobs = createBlobStore(config);

/** Asks the main thread (see parse-pool.ts) over the task's port. */
function resolverOver(port: MessagePort): DnsResolver {
  let next = 0;
  const waiting = new Map<number, { resolve: (r: string[][] | string[]) => void; reject: (e: Error) => void }>();
  port.on('message', (a: DnsAnswer) => {
    const w = waiting.get(a.id);
    waiting.delete(a.id);
    if (a.error) w?.reject(Object.assign(new Error(a.error.message), { code: a.error.code }));
    else w?.resolve(a.records ?? []);
  });
  return (name, rrtype) => new Promise((resolve, reject) => {
    const id = next++;
    waiting.set(id, { resolve, reject });
    port.postMessage({ id, name, rrtype } satisfies DnsRequest);
  });
}

export default async function parseTask(task: PoolTask): Promise<ParseTaskResult> {
  try {
    let source: Readable | Buffer;
    let raw: StoredBlob | null = null;
    let verifying: Promise<MessageAuthentication | null> = Promise.resolve(null);
    const verifyOpts = task.dns ? { resolver: resolverOver(task.dns), trustedAuthservIds: config.trustedAuthservIds } : null;
    if ('raw' in task) {
      source = Buffer.from(task.raw.buffer, task.raw.byteOffset, task.raw.byteLength);
      // Sender verification reads the same bytes while they are stored and parsed (it mostly waits on DNS).
      if (verifyOpts) verifying = verifySender(source, verifyOpts);
      raw = await blobs.put(source);
    } else {
      source = await blobs.get(task.rawSha256);
      if (verifyOpts) verifying = verifyStoredSender(() => blobs.get(task.rawSha256), verifyOpts);
    }
    const message = await parseMessage(source, { writeBlob: (content) => blobs.put(content) });
    const authentication = await verifying.finally(() => task.dns?.close());
    // Addresses come out of parseMessage normalised. Binary for PostgreSQL, text for PGlite (no DATABASE_URL,
    // see openDb and takesBinaryParams).
    const search = messageSearchVector(
      { subject: message.subject, fromName: message.from?.name || null, fromAddress: message.from?.address ?? null, text: message.text },
      config.databaseUrl ? 'binary' : 'literal',
    );
    return { ok: true, message, raw, search, authentication };
  } catch (err) {
    return { ok: false, ioError: (err as Error).message, code: typeof (err as NodeJS.ErrnoException).code === 'string' ? (err as NodeJS.ErrnoException).code! : null };
  }
}
