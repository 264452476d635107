// Runs s3rver (S3's REST API over a directory) for s3-server.ts, in a process of its own: its listings
// encrypt their continuation tokens with DES, which needs OpenSSL's legacy provider (a node flag). Prints
// {"port"} once listening, then one JSON line per request it receives.
import { createRequire } from 'node:module';
import type { Server } from 'node:http';

type S3rverOptions = { address: string; port: number; directory: string; silent: boolean; configureBuckets: { name: string }[]; allowMismatchedSignatures: boolean };
type S3rver = { run(): Promise<{ port: number }>; httpServer: Server };
const S3rver = createRequire(import.meta.url)('@20minutes/s3rver') as new (options: S3rverOptions) => S3rver;

const [directory, bucket] = process.argv.slice(2);
if (!directory || !bucket) throw new Error('usage: s3rver-process.ts DIRECTORY BUCKET');
const server = new S3rver({
  address: '127.0.0.1', port: 0, directory, silent: true, configureBuckets: [{ name: bucket }],
  // s3rver signs bucket-level requests (ListObjectsV2) over "/bucket" where the SDK signs "/bucket/", so
  // it would refuse every listing; it still refuses unknown access keys.
  allowMismatchedSignatures: true,
});
const { port } = await server.run();
server.httpServer.on('request', (req) => {
  process.stdout.write(`${JSON.stringify({ method: req.method, url: req.url, copy: 'x-amz-copy-source' in req.headers })}\n`);
});
process.stdout.write(`${JSON.stringify({ port })}\n`);
