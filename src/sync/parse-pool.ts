// A pool of worker threads (piscina) that parse raw mail in parallel with the IMAP fetch and the
// database writes. A parse that crashes its thread or runs too long is reported as a parse failure
// (the message is then stored raw as 'failed'), so one poison message never stops a folder.
import os from 'node:os';
import { Piscina } from 'piscina';
import type { Config } from '../core/config.ts';
import type { IncomingMessage } from '../core/incoming-message.ts';
import type { ParseTask, ParseTaskResult } from './parse-worker.ts';

/** Longest a single parse may take; real mail parses in milliseconds, a 25 MB one in about a second. */
export const PARSE_TIMEOUT_MS = 60_000;
/** Heap per parse thread: bounds what one hostile message can take. */
const THREAD_HEAP_MB = 256;
/** A small young generation per thread: parsing allocates short-lived strings, and each MB here is RSS. */
const THREAD_YOUNG_MB = 8;

export type ParseOutcome =
  | { kind: 'parsed'; message: IncomingMessage }
  /** The parser died or timed out on this message: store it raw as failed with this reason. */
  | { kind: 'gave-up'; reason: string }
  /** The blob store failed: retry later. */
  | { kind: 'io-error'; error: string };

export type ParsePool = {
  parse(task: ParseTask, transfer?: ArrayBuffer[]): Promise<ParseOutcome>;
  readonly threads: number;
  close(): Promise<void>;
};

export function createParsePool(config: Config, opts: { threads?: number } = {}): ParsePool {
  const threads = opts.threads ?? Math.max(1, os.availableParallelism());
  const pool = new Piscina({
    filename: new URL('./parse-worker.ts', import.meta.url).href,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: 60_000,
    // Only what the thread needs to reach the blob store; never the credentials key.
    workerData: { ...config, secretKey: null },
    resourceLimits: { maxOldGenerationSizeMb: THREAD_HEAP_MB, maxYoungGenerationSizeMb: THREAD_YOUNG_MB },
  });
  return {
    threads,
    async parse(task, transfer) {
      try {
        const result = (await pool.run(task, { transferList: transfer, signal: AbortSignal.timeout(PARSE_TIMEOUT_MS) })) as ParseTaskResult;
        return result.ok ? { kind: 'parsed', message: result.message } : { kind: 'io-error', error: result.ioError };
      } catch (err) {
        const e = err as Error;
        const reason = e.name === 'AbortError' || e.name === 'TimeoutError' ? `parsing took longer than ${PARSE_TIMEOUT_MS / 1000} s` : `the parser crashed: ${e.message}`;
        return { kind: 'gave-up', reason };
      }
    },
    async close() {
      await pool.destroy();
    },
  };
}
