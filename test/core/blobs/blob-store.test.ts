// The blob store contract, run against both stores: the local directory and S3 (s3rver, a real
// S3-compatible server, on a loopback port over a temp dir). Each case gets a fresh store (own directory,
// own key prefix) and checks what is really stored beside what the store answers: one object per content,
// under the shared ab/cd/<sha256> layout, and no temp file or temp object left behind.
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { blobPath, createLocalBlobStore, type BlobStore } from '../../../src/core/blobs/blob-store.ts';
import { createS3BlobStore } from '../../../src/core/blobs/s3-blob-store.ts';
import { createBlobStore } from '../../../src/core/blobs/blob-stores.ts';
import { sweepOrphanBlobs } from '../../../src/core/blobs/blob-sweep.ts';
import { loadConfig } from '../../../src/core/platform/config.ts';
import { openDb } from '../../../src/core/platform/db.ts';
import { freePort } from '../../support/processes.ts';
import { startS3Server, type S3Request } from '../../support/s3-server.ts';
import { testConfig, uniq } from '../../support/env.ts';

const s3 = await startS3Server();
t.teardown(() => s3.close());

const tempDir = (label: string) => mkdtempSync(path.join(os.tmpdir(), `dossier-${label}-`));

type Subject = {
  store: BlobStore;
  /** Everything stored, by name relative to the store: blobs, temp files, spool files, anything. */
  stored(): Promise<string[]>;
  /** Puts something that is not a blob where the store keeps its blobs. */
  addForeign(name: string): Promise<void>;
};

const walk = (dir: string, rel = ''): string[] =>
  readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(dir, path.posix.join(rel, e.name)) : [path.posix.join(rel, e.name)]));

function localSubject(): Subject {
  const root = tempDir('blobs');
  return {
    store: createLocalBlobStore(root),
    stored: async () => walk(root).sort(),
    addForeign: async (name) => {
      mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
      writeFileSync(path.join(root, name), 'not a blob');
    },
  };
}

async function bucketKeys(prefix: string): Promise<string[]> {
  const res = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix }));
  return (res.Contents ?? []).map((o) => o.Key!.slice(prefix.length));
}

function s3Subject(overrides: { refreshAfterMs?: number } = {}) {
  const prefix = `${uniq('tenant')}/`;
  const spoolDir = tempDir('spool');
  return {
    prefix,
    // Two keys a page, so every listing of a few blobs crosses pages.
    store: createS3BlobStore({ ...s3.options, prefix, spoolDir, listPageSize: 2, ...overrides }),
    stored: async () => [...(await bucketKeys(prefix)), ...readdirSync(spoolDir).map((f) => `spool/${f}`)].sort(),
    addForeign: async (name: string) => {
      await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: prefix + name, Body: 'not a blob' }));
    },
  };
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const readAll = async (r: Readable) => {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
};
/** Random content of `size` bytes as a stream of 64 KiB chunks, hashed as it is generated. */
function randomStream(size: number): { stream: Readable; digest: () => string } {
  const hash = createHash('sha256');
  let left = size;
  const stream = new Readable({
    read() {
      if (left === 0) return void this.push(null);
      const chunk = randomBytes(Math.min(left, 64 * 1024));
      left -= chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return { stream, digest: () => hash.digest('hex') };
}

const subjects: [string, () => Subject][] = [['local directory', localSubject], ['S3', () => s3Subject()]];

for (const [name, make] of subjects) {
  t.test(name, async (t) => {
    t.test('put returns the sha256 and size, get streams the same bytes back', async (t) => {
      const { store, stored } = make();
      const content = randomBytes(10_000);
      const blob = await store.put(content);
      t.same(blob, { sha256: sha256(content), size: content.length });
      t.ok(await store.has(blob.sha256));
      t.ok((await readAll(await store.get(blob.sha256))).equals(content), 'the same bytes');
      t.same(await stored(), [blobPath(blob.sha256)], 'one object, under ab/cd/<sha256>');
    });

    t.test('the same content stored twice, from a buffer and from a stream, is one object', async (t) => {
      const { store, stored } = make();
      const content = randomBytes(50_000);
      const a = await store.put(content);
      const b = await store.put(Readable.from([content.subarray(0, 20_000), content.subarray(20_000)]));
      t.same(b, a);
      t.same(await stored(), [blobPath(a.sha256)], 'one object, no temp file left');
    });

    t.test('a multi-megabyte stream is stored and read back whole', async (t) => {
      const { store, stored } = make();
      const size = 20 * 1024 * 1024 + 123;
      const source = randomStream(size);
      const blob = await store.put(source.stream);
      t.same(blob, { sha256: source.digest(), size });
      const back = createHash('sha256');
      let length = 0;
      for await (const chunk of await store.get(blob.sha256)) {
        back.update(chunk as Buffer);
        length += (chunk as Buffer).length;
      }
      t.equal(length, size);
      t.equal(back.digest('hex'), blob.sha256, 'the same bytes');
      t.same(await stored(), [blobPath(blob.sha256)], 'one object, no temp file left');
    });

    t.test('the empty blob, from a buffer and from a stream', async (t) => {
      const { store, stored } = make();
      const empty = sha256(Buffer.alloc(0));
      t.same(await store.put(Buffer.alloc(0)), { sha256: empty, size: 0 });
      t.same(await store.put(Readable.from([])), { sha256: empty, size: 0 });
      t.equal((await readAll(await store.get(empty))).length, 0);
      t.same(await stored(), [blobPath(empty)]);
    });

    t.test('a missing blob: get rejects, has is false, delete does nothing', async (t) => {
      const { store, stored } = make();
      const missing = sha256(randomBytes(16));
      await t.rejects(store.get(missing));
      t.equal(await store.has(missing), false);
      await store.delete(missing);
      t.same(await stored(), []);
    });

    t.test('an id that is not a sha256 is refused, never turned into a path or key', async (t) => {
      const { store } = make();
      for (const bad of ['../../etc/passwd', 'AB'.repeat(32), `${'a'.repeat(63)}/`]) {
        await t.rejects(store.get(bad), /invalid blob id/);
        await t.rejects(store.delete(bad), /invalid blob id/);
        t.equal(await store.has(bad), false);
      }
    });

    t.test('a source stream that fails stores nothing and leaves no temp file', async (t) => {
      const { store, stored } = make();
      let reads = 0;
      const failing = new Readable({
        read() {
          if (++reads > 3) this.destroy(new Error('connection reset while downloading'));
          else this.push(randomBytes(64 * 1024));
        },
      });
      await t.rejects(store.put(failing), /connection reset/);
      t.same(await stored(), []);
    });

    t.test('list yields every blob with its modification time, and nothing else', async (t) => {
      const { store, addForeign } = make();
      const before = Date.now() - 2000; // S3 keeps LastModified to the second
      const puts = await Promise.all([1, 2, 3, 4, 5].map(() => store.put(randomBytes(1000))));
      await addForeign('notes.txt');
      await addForeign('ab/cd/not-a-sha256');
      const listed = [];
      for await (const b of store.list()) listed.push(b);
      t.same(listed.map((b) => b.sha256).sort(), puts.map((p) => p.sha256).sort());
      for (const b of listed) t.ok(b.mtime instanceof Date && b.mtime.getTime() >= before && b.mtime.getTime() <= Date.now() + 2000, 'mtime is when it was stored');
    });

    t.test('delete removes that blob and no other', async (t) => {
      const { store, stored } = make();
      const a = await store.put(randomBytes(1000));
      const b = await store.put(randomBytes(1000));
      await store.delete(a.sha256);
      t.equal(await store.has(a.sha256), false);
      await t.rejects(store.get(a.sha256));
      t.ok(await store.has(b.sha256));
      t.same(await stored(), [blobPath(b.sha256)]);
    });
  });
}

t.test('S3 only', async (t) => {
  /** A request as "METHOD [copy] object|bucket [multipart step]". */
  const describe = (r: S3Request) => {
    const [pathname = '', query = ''] = r.url.split('?');
    const target = pathname.split('/').filter(Boolean).length > 1 ? 'object' : 'bucket';
    const step = /(^|&)uploads(=|&|$)/.test(query) ? ' start-multipart' : /partNumber=/.test(query) ? ' part' : /uploadId=/.test(query) ? ' complete-multipart' : '';
    return `${r.method}${r.copy ? ' copy' : ''} ${target}${step}`;
  };
  const summary = (requests: S3Request[]) => requests.map(describe);

  t.test('small content goes up in one PUT, a large stream as a multipart upload', async (t) => {
    const { store, prefix } = s3Subject();
    await s3.takeRequests();
    await store.put(Readable.from([randomBytes(100_000)]));
    t.same(summary(await s3.takeRequests()), ['HEAD object', 'PUT object'], 'is it there? no: one PUT');
    const blob = await store.put(randomStream(17 * 1024 * 1024).stream);
    t.same(summary(await s3.takeRequests()), ['HEAD object', 'POST object start-multipart', 'PUT object part', 'PUT object part', 'PUT object part', 'POST object complete-multipart'], 'three parts of at most 8 MiB');
    const head = await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: prefix + blobPath(blob.sha256) }));
    t.equal(head.ContentLength, 17 * 1024 * 1024, 'the whole of it');
  });

  t.test('content stored again is not uploaded again, and is re-stamped once it is old', async (t) => {
    const { store, prefix } = s3Subject();
    const content = randomBytes(5000);
    const blob = await store.put(content);
    await s3.takeRequests();
    t.same(await store.put(Readable.from([content])), blob);
    t.same(summary(await s3.takeRequests()), ['HEAD object'], 'a recent object: one HEAD, no upload');

    // A store that counts every object as old: a put re-stamps it by copying it onto itself (the local
    // store's rename gives a new mtime likewise), so the orphan sweep cannot delete it under a row about to
    // be committed. (s3rver keeps LastModified on such a copy; S3 and MinIO give the object a new one.)
    const eager = createS3BlobStore({ ...s3.options, prefix, refreshAfterMs: 0 });
    t.same(await eager.put(content), blob);
    t.same(summary(await s3.takeRequests()), ['HEAD object', 'PUT copy object'], 'an old object: a copy onto itself, no upload');
    t.ok((await readAll(await eager.get(blob.sha256))).equals(content), 'with its content intact');
  });

  t.test('list pages through the bucket', async (t) => {
    const { store } = s3Subject();
    for (let i = 0; i < 5; i++) await store.put(randomBytes(100));
    await s3.takeRequests();
    let n = 0;
    for await (const _ of store.list()) n++;
    t.equal(n, 5);
    t.same(summary(await s3.takeRequests()), ['GET bucket', 'GET bucket', 'GET bucket'], 'three pages of two');
  });

  t.test('stores under different prefixes of one bucket do not see each other', async (t) => {
    const a = s3Subject();
    const b = s3Subject();
    const blob = await a.store.put(randomBytes(1000));
    t.equal(await b.store.has(blob.sha256), false);
    const listed = [];
    for await (const x of b.store.list()) listed.push(x);
    t.same(listed, []);
    t.ok(await a.store.has(blob.sha256));
  });

  t.test('storage errors are thrown, never taken for a missing blob', async (t) => {
    const spoolDir = tempDir('spool');
    const stranger = createS3BlobStore({ ...s3.options, accessKeyId: 'NOBODY', secretAccessKey: 'x', spoolDir });
    const sha = sha256(randomBytes(8));
    // A HEAD's error response has no body to name the error: only its status tells.
    const refused = (name: string | RegExp = /./) => ({ name, $metadata: { httpStatusCode: 403 } });
    await t.rejects(stranger.has(sha), refused());
    await t.rejects(stranger.get(sha), refused('InvalidAccessKeyId'));
    await t.rejects(stranger.put(Readable.from([randomBytes(1000)])), refused());
    await t.rejects(stranger.delete(sha), refused('InvalidAccessKeyId'));
    await t.rejects((async () => { for await (const _ of stranger.list()); })(), refused('InvalidAccessKeyId'));
    t.same(readdirSync(spoolDir), [], 'the spool file of the failed put is gone');

    const closed = `http://127.0.0.1:${await freePort()}`;
    const unreachable = createS3BlobStore({ ...s3.options, endpoint: closed });
    await t.rejects(unreachable.has(sha), /ECONNREFUSED/);
  });

  t.test('DOSSIER_S3_* configuration makes createBlobStore use the bucket', async (t) => {
    const config = loadConfig({
      DOSSIER_S3_BUCKET: s3.bucket, DOSSIER_S3_ENDPOINT: s3.endpoint, DOSSIER_S3_FORCE_PATH_STYLE: 'true', DOSSIER_S3_PREFIX: '/configured/',
      DOSSIER_S3_ACCESS_KEY_ID: s3.options.accessKeyId, DOSSIER_S3_SECRET_ACCESS_KEY: s3.options.secretAccessKey,
    });
    const store = createBlobStore(config);
    const content = randomBytes(1000);
    const blob = await store.put(content);
    const head = await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: `configured/${blobPath(blob.sha256)}` }));
    t.equal(head.ContentLength, 1000, 'stored in the bucket under the prefix');
    await store.delete(blob.sha256);
  });

  t.test('the orphan sweep deletes the S3 blobs no row refers to, and only those', async (t) => {
    const db = await openDb(testConfig(), { migrate: false, poolMax: 2 });
    t.teardown(() => db.close());
    const { store } = s3Subject();
    const kept = await store.put(randomBytes(1000));
    const orphan = await store.put(randomBytes(1000));
    const conn = db.em.fork().getConnection();
    await conn.execute('insert into blob (sha256, size, created_at) values (?, ?, now())', [kept.sha256, kept.size]);
    t.teardown(() => conn.execute('delete from blob where sha256 = ?', [kept.sha256]));
    t.equal(await sweepOrphanBlobs(db.em.fork(), store, 0), 1);
    t.ok(await store.has(kept.sha256));
    t.equal(await store.has(orphan.sha256), false);
  });
});

t.test('local blobs are 0600 in 0700 folders, whatever the umask', async (t) => {
  const root = tempDir('modes');
  const before = process.umask(0);
  t.teardown(() => process.umask(before));
  const store = createLocalBlobStore(root);
  const { sha256 } = await store.put(Buffer.from(`private ${uniq()}`));
  const { sha256: streamed } = await store.put(Readable.from([Buffer.from(`streamed ${uniq()}`)]));
  const mode = (p: string) => statSync(p).mode & 0o777;
  for (const sha of [sha256, streamed]) {
    const file = path.join(root, blobPath(sha));
    t.equal(mode(file), 0o600, 'file 0600');
    t.equal(mode(path.dirname(file)), 0o700, 'its folder 0700');
    t.equal(mode(path.dirname(path.dirname(file))), 0o700, 'the folder above 0700');
  }
  t.equal(mode(root), 0o700, 'the store folder 0700');
  t.equal(mode(path.join(root, 'tmp')), 0o700, 'the temp folder 0700');
});
