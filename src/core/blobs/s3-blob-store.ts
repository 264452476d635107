// The blob store on S3-compatible storage (DOSSIER_S3_*): the local store's contract and key layout,
// [prefix]ab/cd/<sha256>.
//
// put() spools the content to a private temp file while hashing it, then uploads that file to its final
// key. Knowing the key before any upload means content already stored (one attachment in many messages,
// a re-sync after a UIDVALIDITY change) costs a HEAD and no upload, and an object only ever appears under
// its key complete (a PUT or a completed multipart upload is atomic), with no temporary objects to copy,
// delete or sweep. Streaming to a temporary key and then CopyObject would upload every duplicate in full
// and strand temporary objects on a crash.
//
// The SDK is imported on first use: processes on the local store never load it (the sync worker's RSS
// budget), and neither does a parse thread that has not touched a blob yet.
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { blobPath, SHA, writeHashed, type BlobStore, type StoredBlob } from './blob-store.ts';
import type { Config } from '../platform/config.ts';

export type S3BlobStoreOptions = NonNullable<Config['s3']> & {
  /** Where put() spools content before uploading; the OS temp dir by default. */
  spoolDir?: string;
  /** put() of content stored longer ago than this re-stamps the object (see refresh below). */
  refreshAfterMs?: number;
  listPageSize?: number;
};

/** Parts of a multipart upload, and the largest body sent as one PUT (held in memory, so SDK retries work). */
const PART_SIZE = 8 * 1024 * 1024;
/** Well under the orphan sweep's one-hour grace period (worker.ts), so a refreshed blob outlives its transaction. */
const REFRESH_AFTER_MS = 10 * 60 * 1000;

type Sdk = typeof import('@aws-sdk/client-s3');

export function createS3BlobStore(options: S3BlobStoreOptions): BlobStore {
  const { bucket, prefix } = options;
  const spoolDir = options.spoolDir ?? os.tmpdir();
  const refreshAfterMs = options.refreshAfterMs ?? REFRESH_AFTER_MS;
  const keyOf = (sha: string) => prefix + blobPath(sha);

  let loading: Promise<{ sdk: Sdk; client: S3Client }> | null = null;
  const s3 = () =>
    (loading ??= import('@aws-sdk/client-s3').then(
      (sdk) => ({ sdk, client: createClient(sdk, options) }),
      (err: unknown) => {
        loading = null;
        throw err;
      },
    ));

  /** The stored object's LastModified, or null when there is none; any other failure throws. */
  const lastModified = async (key: string): Promise<Date | null> => {
    const { sdk, client } = await s3();
    try {
      const head = await client.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: key }));
      return head.LastModified ?? new Date(0);
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  };

  /** Stores content under its key unless it is there; `body` reads it (from memory or the spool file). */
  const store = async (blob: StoredBlob, body: () => Promise<Buffer | Readable>): Promise<StoredBlob> => {
    const key = keyOf(blob.sha256);
    const stamped = await lastModified(key);
    const { sdk, client } = await s3();
    if (stamped) {
      // The local store's rename gives re-stored content a fresh mtime; without the same, the orphan sweep
      // could delete an old orphan blob that this put is about to give a row to. A copy onto itself
      // re-stamps LastModified on the server side, without uploading the content again.
      if (Date.now() - stamped.getTime() > refreshAfterMs) {
        await client.send(new sdk.CopyObjectCommand({ Bucket: bucket, Key: key, CopySource: copySource(bucket, key), MetadataDirective: 'REPLACE' }));
      }
      return blob;
    }
    const content = await body();
    if (Buffer.isBuffer(content)) {
      await client.send(new sdk.PutObjectCommand({ Bucket: bucket, Key: key, Body: content, ContentLength: content.length }));
    } else {
      // Holds at most one part in memory per queue slot; a failed upload is aborted (no stray parts).
      try {
        const { Upload } = await import('@aws-sdk/lib-storage');
        await new Upload({ client, params: { Bucket: bucket, Key: key, Body: content }, partSize: PART_SIZE, queueSize: 2 }).done();
      } finally {
        content.destroy();
      }
    }
    return blob;
  };

  return {
    async put(content) {
      if (Buffer.isBuffer(content)) {
        const blob = { sha256: createHash('sha256').update(content).digest('hex'), size: content.length };
        return store(blob, async () => content);
      }
      const spool = path.join(spoolDir, `dossier-blob-${randomUUID()}`);
      try {
        const blob = await writeHashed(content, spool, 0o600);
        return await store(blob, async () => (blob.size <= PART_SIZE ? readFile(spool) : createReadStream(spool)));
      } finally {
        await rm(spool, { force: true });
      }
    },
    async get(sha) {
      const key = keyOf(sha);
      const { sdk, client } = await s3();
      const res = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key }));
      if (!(res.Body instanceof Readable)) throw new Error(`blob ${sha}: the S3 response has no readable body`);
      return res.Body;
    },
    async has(sha) {
      return SHA.test(sha) && (await lastModified(keyOf(sha))) !== null;
    },
    async delete(sha) {
      const key = keyOf(sha);
      const { sdk, client } = await s3();
      await client.send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
    async *list() {
      const { sdk, client } = await s3();
      let token: string | undefined;
      do {
        const page = await client.send(new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: prefix || undefined, ContinuationToken: token, MaxKeys: options.listPageSize }));
        for (const o of page.Contents ?? []) {
          const sha = o.Key?.slice(prefix.length + 6);
          // Only keys of our layout: anything else under the prefix is not ours to sweep.
          if (sha && SHA.test(sha) && o.Key === keyOf(sha) && o.LastModified) yield { sha256: sha, mtime: o.LastModified };
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    },
  };
}

function createClient(sdk: Sdk, o: S3BlobStoreOptions): S3Client {
  return new sdk.S3Client({
    region: o.region,
    endpoint: o.endpoint ?? undefined,
    forcePathStyle: o.forcePathStyle,
    // Without keys the SDK's default chain applies (AWS_* variables, shared config, instance or task role).
    credentials: o.accessKeyId && o.secretAccessKey ? { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey } : undefined,
    // The SDK's default CRC32 checksums on every request are refused by many S3-compatible servers; keep
    // them for AWS itself, send them elsewhere only where an operation requires one.
    ...(o.endpoint ? { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' } as const : {}),
    // A stalled connection fails (and the sync retries) instead of hanging a job; the idle limit is generous
    // because a download paused by a slow reader is idle too.
    requestHandler: { connectionTimeout: 10_000, socketTimeout: 120_000 },
  });
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404;
}

function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}
