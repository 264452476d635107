// A pool of worker threads (piscina) that parse raw mail in parallel with the IMAP fetch and the
// database writes. A parse that crashes its thread or runs too long is reported as a parse failure
// (the message is then stored raw as 'failed'), so one poison message never stops a folder.
import os from 'node:os';
import dns from 'node:dns';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { Config } from '../core/platform/config.ts';
import type { IncomingMessage, MessageAuthentication } from '../core/mail/incoming-message.ts';
import type { StoredBlob } from '../core/blobs/blob-store.ts';
import type { SearchVector } from '../core/mail/search-terms.ts';
import type { DnsAnswer, DnsRequest, ParseTask, ParseTaskResult, PoolTask } from './parse-worker.ts';
import { createCachedResolver, type DnsResolver } from './sender-auth.ts';

/** Longest a single parse may take; real mail parses in milliseconds, a 25 MB one in about a second. */
export const PARSE_TIMEOUT_MS = 60_000;
/** Heap per parse thread: bounds what one hostile message can take. */
const THREAD_HEAP_MB = 256;
/** Young generation per thread: parsing allocates short-lived strings; at 8 MB scavenges (and their helper
 *  threads) cost as much CPU as the parse itself in the sync benchmark. 16 MB parses as fast as 32 MB did
 *  (with the main thread's 2 MB semi-space, package.json: 317 vs 309 msg/s and 385 vs 424 MB peak RSS on the
 *  20,000-message benchmark). */
const THREAD_YOUNG_MB = 16;

export type ParseOutcome =
  /** raw: where the thread stored the source it was given (null when it was given a stored one). */
  | { kind: 'parsed'; message: IncomingMessage; raw: StoredBlob | null; search: SearchVector; authentication: MessageAuthentication | null }
  /** The parser died or timed out on this message: store it raw as failed with this reason. */
  | { kind: 'gave-up'; reason: string }
  /** The blob store failed: retry later. code: the errno code (ENOSPC, …) when there was one. */
  | { kind: 'io-error'; error: string; code: string | null };

export type ParsePool = {
  /** Raw bytes are copied once and the copy transferred: the caller keeps its buffer (to store it raw if the parser gives up). */
  parse(task: ParseTask): Promise<ParseOutcome>;
  readonly threads: number;
  /** Resolves once every thread has loaded the parser (the first task of a new worker otherwise pays for it). */
  warm(): Promise<void>;
  close(): Promise<void>;
};

/** The system's DNS (the default for sender verification; tests and deployments may give their own). */
const systemResolver: DnsResolver = (name, rrtype) => dns.promises.resolve(name, rrtype) as Promise<string[][] | string[]>;

/**
 * resolver: where sender verification (sender-auth.ts) looks up DKIM keys and DMARC records. The threads ask
 * this thread over a port per task, so that one cache (and a resolver a test may replace) serves them all.
 */
export function createParsePool(config: Config, opts: { threads?: number; resolver?: DnsResolver } = {}): ParsePool {
  const threads = opts.threads ?? config.parseThreads ?? Math.max(1, os.availableParallelism());
  const resolve = createCachedResolver(opts.resolver ?? systemResolver);
  const serveDns = (port: MessagePort) => {
    port.on('message', (q: DnsRequest) => {
      resolve(q.name, q.rrtype).then(
        (records) => port.postMessage({ id: q.id, records } satisfies DnsAnswer),
        (err: Error & { code?: string }) => port.postMessage({ id: q.id, error: { message: String(err?.message ?? err), code: err?.code } } satisfies DnsAnswer),
      );
    });
  };
  const pool = new Piscina({
    filename: new URL('./parse-worker.ts', import.meta.url).href,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: 60_000,
    // A task waits on the blob store (raw source, attachments) for part of its time: a second task per
    // thread parses meanwhile. Two parses per thread at most, so the heap bound below still holds.
    concurrentTasksPerWorker: 2,
    // Only what the thread needs to reach the blob store; never the credentials key.
    workerData: { ...config, secretKey: null },
    resourceLimits: { maxOldGenerationSizeMb: THREAD_HEAP_MB, maxYoungGenerationSizeMb: THREAD_YOUNG_MB },
  });
  let warming: Promise<void> | undefined;
  return {
    threads,
    async parse(task) {
      try {
        // A Buffer is often a view into a larger pooled ArrayBuffer, which a plain postMessage would copy whole.
        const channel = new MessageChannel();
        serveDns(channel.port1);
        const own: PoolTask = 'raw' in task ? { raw: new Uint8Array(task.raw), dns: channel.port2 } : { ...task, dns: channel.port2 };
        const transferList = 'raw' in own ? [own.raw.buffer as ArrayBuffer, channel.port2] : [channel.port2];
        const result = (await pool.run(own, { transferList, signal: AbortSignal.timeout(PARSE_TIMEOUT_MS) }).finally(() => channel.port1.close())) as ParseTaskResult;
        if (!result.ok) return { kind: 'io-error', error: result.ioError, code: result.code };
        // A Buffer comes out of a thread as a plain Uint8Array.
        const search = typeof result.search === 'string' ? result.search : Buffer.from(result.search.buffer, result.search.byteOffset, result.search.byteLength);
        return { kind: 'parsed', message: result.message, raw: result.raw, search, authentication: result.authentication };
      } catch (err) {
        const e = err as Error;
        const reason = e.name === 'AbortError' || e.name === 'TimeoutError' ? `parsing took longer than ${PARSE_TIMEOUT_MS / 1000} s` : `the parser crashed: ${e.message}`;
        return { kind: 'gave-up', reason };
      }
    },
    warm() {
      // A task for a source that does not exist: each thread loads its modules, then answers with an I/O error.
      warming ??= Promise.allSettled(Array.from({ length: threads * 2 }, () => pool.run({ rawSha256: '0'.repeat(64) }))).then(() => undefined);
      return warming;
    },
    async close() {
      await pool.destroy();
    },
  };
}
