// Test harness: a real S3-compatible server (s3rver, from npm: S3's REST API over a directory) on a free
// loopback port with one bucket, for the S3 blob store's tests; no MinIO binary needed. It runs in a child
// process (s3rver-process.ts) and reports every request it receives, so tests can check what was sent.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { S3Client } from '@aws-sdk/client-s3';

/** s3rver's built-in account. */
export const S3RVER_KEY = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export type S3Request = { method: string; url: string; copy: boolean };

export type S3Server = {
  endpoint: string;
  bucket: string;
  /** The store options for this server (path-style, its key pair), to spread into createS3BlobStore's. */
  options: { bucket: string; prefix: string; endpoint: string; region: string; accessKeyId: string; secretAccessKey: string; forcePathStyle: boolean };
  /** A client of our own, to look at the bucket behind the store's back. */
  client: S3Client;
  /** Every request the server received since the last call (all of them: it waits for a marker request). */
  takeRequests(): Promise<S3Request[]>;
  close(): Promise<void>;
};

export async function startS3Server(bucket = 'dossier-test'): Promise<S3Server> {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'dossier-s3rver-'));
  const child = spawn(process.execPath, ['--openssl-legacy-provider', path.join(import.meta.dirname, 's3rver-process.ts'), directory, bucket], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  let requests: S3Request[] = [];
  const waiters = new Map<string, () => void>();
  const port = await new Promise<number>((resolve, reject) => {
    void exited.then(() => reject(new Error(`s3rver exited before listening:\n${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const msg = JSON.parse(line) as { port: number } | S3Request;
      if ('port' in msg) return resolve(msg.port);
      requests.push(msg);
      waiters.get(msg.url)?.();
    });
  });

  const endpoint = `http://127.0.0.1:${port}`;
  const options = { bucket, prefix: '', endpoint, region: 'us-east-1', ...S3RVER_KEY, forcePathStyle: true };
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: S3RVER_KEY });
  return {
    endpoint, bucket, options, client,
    async takeRequests() {
      // The log comes through a pipe: a marker request seen in it means everything before it is too.
      const marker = `/marker-${randomUUID()}`;
      const seen = new Promise<void>((resolve) => waiters.set(marker, resolve));
      await (await fetch(endpoint + marker)).arrayBuffer();
      await seen;
      waiters.delete(marker);
      const at = requests.findIndex((r) => r.url === marker);
      const taken = requests.slice(0, at);
      requests = requests.slice(at + 1);
      return taken;
    },
    async close() {
      client.destroy();
      child.kill('SIGTERM');
      await exited;
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
