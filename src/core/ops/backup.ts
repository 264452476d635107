// Backup and restore of one installation, embedded or scaled, as one tar archive:
//   manifest.json                 format, mode, secret-key fingerprint, migrations, row counts, blob summary
//   db/NNN-<table>.ndjson.gz      every row (db-snapshot.ts), tables in foreign-key order
//   blobs/ab/cd/<sha256>          the blobs the snapshot refers to (filesystem store), or
//   blobs-s3.json                 with S3, the keys the snapshot refers to (the bucket keeps the bytes)
// The secret key itself is never in the archive (it decrypts mailbox passwords): only its fingerprint, so a
// restore with another key is refused instead of leaving every stored password unreadable.
import { createHmac } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { createInterface } from 'node:readline';
import tarStream from 'tar-stream';
import type { Config } from '../platform/config.ts';
import type { Db, Em } from '../platform/db.ts';
import { blobPath, SHA, type BlobStore } from '../blobs/blob-store.ts';
import { countTableRows, insertTableRows, listAppliedMigrations, listTables, readTableRows, withSnapshot, type TableInfo } from './db-snapshot.ts';

export type BackupManifest = {
  format: 'dossier-backup';
  version: 1;
  createdAt: string;
  mode: 'embedded' | 'scaled';
  keyFingerprint: string;
  migrations: string[];
  tables: { name: string; rows: number }[];
  blobs: { storage: 'files' | 's3'; count: number; bytes: number; missing: number };
};

export type RestoreReport = { tables: number; rows: number; blobs: number; missingBlobs: number };

/** A backup or restore refused for a reason the operator can fix: one line for the CLI. */
export class BackupError extends Error {}

/** Identifies a secret key without revealing it (HMAC of a fixed label under the key). */
export function keyFingerprint(key: Buffer): string {
  return createHmac('sha256', key).update('dossier backup key fingerprint').digest('hex').slice(0, 32);
}

type Deps = { db: Db; config: Config; blobs: BlobStore };

/** Writes the archive to `out` and resolves with its manifest once the last byte is written. */
export async function writeBackup({ db, config }: Deps, out: Writable): Promise<BackupManifest> {
  const staging = await mkdtemp(path.join(os.tmpdir(), 'dossier-backup-'));
  try {
    // The database part first, inside one snapshot, into compressed files (a tar entry needs its size
    // up front). The blob list comes from the same snapshot, so the archive's rows and blobs match.
    const snap = await withSnapshot(db.em, async (em) => {
      const tables = await listTables(em);
      const migrations = await listAppliedMigrations(em);
      const counts: { name: string; rows: number; file: string }[] = [];
      const shas: string[] = [];
      for (const [i, t] of tables.entries()) {
        const file = path.join(staging, `${String(i).padStart(3, '0')}-${t.name}.ndjson.gz`);
        const gzip = createGzip();
        const written = pipeline(gzip, createWriteStream(file, { mode: 0o600 }));
        let rows = 0;
        for await (const chunk of readTableRows(em, t.name)) {
          rows += chunk.length;
          if (t.name === 'blob') for (const r of chunk) shas.push((JSON.parse(r) as { sha256: string }).sha256);
          if (!gzip.write(chunk.join('\n') + '\n')) await once(gzip, 'drain');
        }
        gzip.end();
        await written;
        counts.push({ name: t.name, rows, file });
      }
      return { migrations, counts, shas };
    });

    const blobs: { sha: string; size: number }[] = [];
    let missing = 0;
    if (!config.s3) {
      for (const sha of snap.shas) {
        // A blob whose row was deleted after the snapshot may be swept meanwhile: counted, not fatal.
        const s = await stat(path.join(config.blobDir, blobPath(sha))).catch(() => null);
        if (s) blobs.push({ sha, size: s.size });
        else missing++;
      }
    }
    const manifest: BackupManifest = {
      format: 'dossier-backup', version: 1, createdAt: new Date().toISOString(),
      mode: config.databaseUrl ? 'scaled' : 'embedded',
      keyFingerprint: keyFingerprint(config.secretKey!),
      migrations: snap.migrations,
      tables: snap.counts.map(({ name, rows }) => ({ name, rows })),
      blobs: config.s3
        ? { storage: 's3', count: snap.shas.length, bytes: 0, missing: 0 }
        : { storage: 'files', count: blobs.length, bytes: blobs.reduce((n, b) => n + b.size, 0), missing },
    };

    const pack = tarStream.pack();
    const piped = pipeline(pack, out);
    const addBuffer = (name: string, buf: Buffer) => new Promise<void>((resolve, reject) => {
      pack.entry({ name, size: buf.length, mode: 0o600 }, buf, (err) => (err ? reject(err) : resolve()));
    });
    const addFile = async (name: string, file: string, size: number) => {
      const entry = pack.entry({ name, size, mode: 0o600 });
      const done = new Promise<void>((resolve, reject) => {
        entry.once('finish', resolve);
        entry.once('error', reject);
      });
      for await (const chunk of createReadStream(file)) if (!entry.write(chunk)) await once(entry, 'drain');
      entry.end(undefined);
      await done;
    };
    try {
      await addBuffer('manifest.json', Buffer.from(JSON.stringify(manifest, null, 2)));
      for (const c of snap.counts) await addFile(`db/${path.basename(c.file)}`, c.file, (await stat(c.file)).size);
      if (config.s3) {
        await addBuffer('blobs-s3.json', Buffer.from(JSON.stringify({ bucket: config.s3.bucket, prefix: config.s3.prefix, keys: snap.shas.map(blobPath) })));
      } else {
        for (const b of blobs) await addFile(`blobs/${blobPath(b.sha)}`, path.join(config.blobDir, blobPath(b.sha)), b.size);
      }
      pack.finalize();
    } catch (err) {
      pack.destroy(err as Error);
      throw err;
    }
    await piped;
    return manifest;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * Reads an archive into an empty installation: checks the key fingerprint and the migrations before
 * touching anything, refuses a database that holds any row, loads every table in one transaction
 * (checked against the manifest's counts), stores the blobs (each re-hashed against its name), then
 * applies the migrations newer than the backup. `db` is opened without migrations.
 */
export async function restoreBackup({ db, config, blobs }: Deps, input: Readable, knownMigrations: string[]): Promise<RestoreReport> {
  const extract = tarStream.extract();
  const fed = pipeline(input, extract).catch((err: Error) => err);
  let manifest: BackupManifest | null = null;
  let tables: TableInfo[] = [];
  let tx: Em | null = null;
  let rows = 0;
  let storedBlobs = 0;
  let missingBlobs = 0;
  const loadedTables = new Set<string>();
  const commit = async () => {
    if (!tx) return;
    const counts = await countTableRows(tx, tables);
    for (const t of manifest!.tables) {
      if ((counts[t.name] ?? 0) !== t.rows) throw new BackupError(`table ${t.name}: ${counts[t.name] ?? 0} rows restored, the backup has ${t.rows}`);
    }
    await tx.commit();
    tx = null;
  };
  try {
    for await (const entry of extract) {
      const name = entry.header.name;
      if (!manifest) {
        if (name !== 'manifest.json') throw new BackupError('not a Dossier backup (its first entry is not manifest.json)');
        manifest = JSON.parse((await readAll(entry)).toString('utf8')) as BackupManifest;
        tables = await prepareTarget(db, config, manifest, knownMigrations);
        tx = db.em.fork();
        await tx.begin();
        continue;
      }
      if (name.startsWith('db/')) {
        if (!tx) throw new BackupError(`${name} comes after the blobs: the archive is damaged`);
        const tableName = /^db\/\d{3}-(.+)\.ndjson\.gz$/.exec(name)?.[1];
        const table = tables.find((t) => t.name === tableName);
        if (!table) throw new BackupError(`${name}: no such table in this database`);
        let chunk: string[] = [];
        for await (const line of createInterface({ input: Readable.from(entry).pipe(createGunzip()), crlfDelay: Infinity })) {
          if (!line) continue;
          chunk.push(line);
          if (chunk.length >= 500) {
            await insertTableRows(tx, table, chunk);
            rows += chunk.length;
            chunk = [];
          }
        }
        await insertTableRows(tx, table, chunk);
        rows += chunk.length;
        loadedTables.add(table.name);
        continue;
      }
      await commit();
      if (name.startsWith('blobs/')) {
        const sha = path.basename(name);
        if (!SHA.test(sha) || name !== `blobs/${blobPath(sha)}`) throw new BackupError(`${name}: not a blob name`);
        const stored = await blobs.put(Readable.from(entry));
        if (stored.sha256 !== sha) {
          await blobs.delete(stored.sha256);
          throw new BackupError(`blob ${sha} is damaged in the archive (its content hashes to ${stored.sha256})`);
        }
        storedBlobs++;
      } else if (name === 'blobs-s3.json') {
        const list = JSON.parse((await readAll(entry)).toString('utf8')) as { keys: string[] };
        for (const key of list.keys) {
          if (await blobs.has(path.basename(key))) storedBlobs++;
          else missingBlobs++;
        }
      } else {
        entry.resume();
      }
    }
    const err = await fed;
    if (err) throw new BackupError(`the archive could not be read: ${err.message}`);
    if (!manifest) throw new BackupError('the archive is empty');
    await commit();
    const missingTables = manifest.tables.filter((t) => !loadedTables.has(t.name));
    if (missingTables.length) throw new BackupError(`the archive lacks tables ${missingTables.map((t) => t.name).join(', ')}: it is damaged`);
    if (manifest.blobs.storage === 'files' && storedBlobs !== manifest.blobs.count) throw new BackupError(`${storedBlobs} blobs restored, the backup has ${manifest.blobs.count}: the archive is damaged`);
  } catch (err) {
    const open = tx as Em | null;
    if (open) await open.rollback().catch(() => {});
    extract.destroy();
    throw err;
  }
  await db.migrator.up();
  return { tables: manifest.tables.length, rows, blobs: storedBlobs, missingBlobs: missingBlobs + manifest.blobs.missing };
}

/** Checks the archive against this installation, brings the schema to the backup's migration, checks it's empty. */
async function prepareTarget(db: Db, config: Config, manifest: BackupManifest, knownMigrations: string[]): Promise<TableInfo[]> {
  if (manifest.format !== 'dossier-backup' || manifest.version !== 1) throw new BackupError('not a Dossier backup this version can read');
  if (manifest.keyFingerprint !== keyFingerprint(config.secretKey!)) {
    throw new BackupError(`the backup was made with another secret key (fingerprint ${manifest.keyFingerprint}, this installation's is ${keyFingerprint(config.secretKey!)}): set DOSSIER_SECRET_KEY${config.databaseUrl ? '' : ' or put the original secret.key in the data dir'} and try again`);
  }
  const unknown = manifest.migrations.filter((m) => !knownMigrations.includes(m));
  if (unknown.length) throw new BackupError(`the backup was made by a newer Dossier (migrations ${unknown.join(', ')}): restore with that version`);
  if ((manifest.blobs.storage === 's3') !== Boolean(config.s3)) {
    throw new BackupError(manifest.blobs.storage === 's3' ? 'the backup keeps its blobs in S3: configure the same bucket (DOSSIER_S3_*) to restore it' : 'the backup holds its blobs as files: restore it without DOSSIER_S3_BUCKET (move them to S3 afterwards)');
  }
  const applied = await db.migrator.getExecuted().then((rows) => rows.map((r) => r.name)).catch(() => [] as string[]);
  const ahead = applied.filter((m) => !manifest.migrations.includes(m));
  if (ahead.length) throw new BackupError(`the target database was migrated past the backup (${ahead.join(', ')}): restore into a new, empty database`);
  const last = manifest.migrations.at(-1);
  if (last) await db.migrator.up({ to: last });
  const em = db.em.fork();
  const tables = await listTables(em);
  const counts = await countTableRows(em, tables);
  const used = Object.entries(counts).filter(([, n]) => n > 0).map(([t]) => t);
  if (used.length) throw new BackupError(`the target database is not empty (rows in ${used.slice(0, 5).join(', ')}${used.length > 5 ? ', …' : ''}): restore only into an empty one`);
  const names = new Set(tables.map((t) => t.name));
  const absent = manifest.tables.filter((t) => !names.has(t.name));
  if (absent.length) throw new BackupError(`tables ${absent.map((t) => t.name).join(', ')} are missing after the migrations`);
  return tables;
}

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(parts);
}
