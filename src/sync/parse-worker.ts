// Runs in a worker thread of the parse pool (parse-pool.ts): parses one raw message and streams its
// attachments into the blob store, so decoding large attachments uses every core and a parser crash or
// runaway parse takes down a thread, never the sync. Nothing else runs here.
import { workerData } from 'node:worker_threads';
import type { Readable } from 'node:stream';
import type { Config } from '../core/config.ts';
import { createBlobStore } from '../core/blob-stores.ts';
import type { IncomingMessage } from '../core/incoming-message.ts';
import { parseMessage } from './parse-message.ts';

export type ParseTask = { raw: Uint8Array } | { rawSha256: string };
/** An I/O failure (blob store) is not the message's fault: the caller retries instead of marking it failed. */
export type ParseTaskResult = { ok: true; message: IncomingMessage } | { ok: false; ioError: string };

const blobs = createBlobStore(workerData as Config);

export default async function parseTask(task: ParseTask): Promise<ParseTaskResult> {
  try {
    const source: Readable | Buffer = 'raw' in task ? Buffer.from(task.raw.buffer, task.raw.byteOffset, task.raw.byteLength) : await blobs.get(task.rawSha256);
    const message = await parseMessage(source, { writeBlob: (content) => blobs.put(content) });
    return { ok: true, message };
  } catch (err) {
    return { ok: false, ioError: (err as Error).message };
  }
}
