// Backup → wipe → restore, embedded (PGlite) and scaled (a fresh PostgreSQL database made for this test
// and dropped after): every message, location, log record, document, user and blob comes back (blobs
// re-hashed), a wrong key and a non-empty target are refused, and sync resumes from the restored cursors
// without fetching old mail again.
import t from 'tap';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openDb } from '../../src/core/platform/db.ts';
import { createBlobStore } from '../../src/core/blobs/blob-stores.ts';
import { BackupError, restoreBackup, writeBackup } from '../../src/core/ops/backup.ts';
import { migrationsList } from '../../migrations/index.ts';
import type { Config } from '../../src/core/platform/config.ts';
import { createTestClient, createTestContact, createTestImapAccount, createTestMail, createTestUser } from '../support/factories.ts';
import { TEST_DATABASE_URL, testConfig, uniqEmail } from '../support/env.ts';
import { getFolder, query, runSync, startSyncEnv } from '../support/sync.ts';

t.setTimeout(600_000);
const migrations = migrationsList.map((m) => m.name);

/** A new, empty PostgreSQL database on the test server, dropped when the test ends. */
async function freshDatabase(t: { teardown: (fn: () => unknown) => void }): Promise<string> {
  const name = `dossier_restore_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const admin = new URL(TEST_DATABASE_URL);
  admin.pathname = '/postgres';
  const run = async (sqlText: string) => {
    const client = new pg.Client({ connectionString: admin.toString() });
    await client.connect();
    try {
      await client.query(sqlText);
    } finally {
      await client.end();
    }
  };
  await run(`create database "${name}"`);
  t.teardown(() => run(`drop database if exists "${name}" with (force)`));
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

type Snapshot = Record<string, unknown>;
async function snapshot(config: Config): Promise<{ facts: Snapshot; shas: string[] }> {
  const db = await openDb(config, { migrate: false });
  try {
    const one = async (sqlText: string) => (await query<{ v: unknown }>(db, sqlText))[0]!.v;
    const facts: Snapshot = {
      messages: await one('select count(*)::int as v from message'),
      locations: await one("select string_agg(uid::text || ':' || message_id::text, ',' order by uid) as v from message_location"),
      records: await one("select string_agg(client_id::text || ':' || coalesce(message_id::text, '-') || ':' || subject, ',' order by client_id, message_id) as v from communication"),
      documents: await one("select string_agg(name || ':' || sha256, ',' order by name) as v from document"),
      users: await one("select string_agg(email || ':' || password_hash, ',' order by email) as v from app_user"),
      cursors: await one("select string_agg(path || ':' || uid_validity::text || ':' || last_uid::text, ',' order by path) as v from mailbox"),
      search: await one("select count(*)::int as v from message where search @@ to_tsquery('simple', 'resumable')"),
      accounts: await one("select string_agg(email || ':' || secret, ',') as v from mail_account"),
    };
    const shas = (await query<{ sha256: string }>(db, 'select sha256 from blob order by sha256')).map((r) => r.sha256);
    return { facts, shas };
  } finally {
    await db.close();
  }
}

async function hashBlob(config: Config, sha: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of await createBlobStore(config).get(sha)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

for (const mode of ['embedded', 'scaled'] as const) {
  t.test(`${mode}: backup, wipe, restore`, async (t) => {
    const dbUrl = mode === 'scaled' ? await freshDatabase(t) : '';
    const key = randomBytes(32).toString('hex');
    // Scaled has Redis in its config, but nothing here uses a queue.
    const sourceConfig = testConfig(mode === 'scaled' ? { DATABASE_URL: dbUrl, DOSSIER_SECRET_KEY: key } : { DATABASE_URL: '', REDIS_URL: '', DOSSIER_SECRET_KEY: key });
    if (mode === 'scaled') await (await openDb(sourceConfig)).close();
    let env = await startSyncEnv({ config: sourceConfig });
    const mail = await env.dovecot.addUser();
    const sender = uniqEmail('client');
    const client = await createTestClient(env.db);
    const { user } = await createTestUser(env.db, 'admin');
    // Added by the mailbox's owner: their consent to file its private mail (issue 12).
    await createTestContact(env.db, { blobs: env.blobs, maxAttachmentBytes: env.config.maxAttachmentBytes }, { emails: [{ address: sender, autoSaveAttachments: true }], clientIds: [client.id], actor: user });
    const raws = Array.from({ length: 6 }, (_, i) => createTestMail({
      from: `Client <${sender}>`, subject: i === 2 ? 'resumable words' : `Backup ${i}`,
      attachment: i % 2 === 0 ? { name: `invoice-${i}.pdf`, content: randomBytes(3000) } : undefined,
    }));
    await env.dovecot.appendMany(mail.user, raws);
    const account = await createTestImapAccount(env, mail, { owner: user });
    t.equal((await runSync(env, account.id)).outcome, 'done');
    await env.close();

    const before = await snapshot(sourceConfig);
    t.equal(before.facts.messages, 6, 'six messages before the backup');
    t.ok(String(before.facts.documents).split(',').length >= 3, 'attachments saved as documents');
    t.ok(before.shas.length >= 9, 'raw messages and attachments in the blob store');

    const archive = path.join(mkdtempSync(path.join(os.tmpdir(), 'dossier-archive-')), 'backup.tar');
    const db = await openDb(sourceConfig, { migrate: false });
    const manifest = await writeBackup({ db, config: sourceConfig, blobs: createBlobStore(sourceConfig) }, createWriteStream(archive));
    await db.close();
    t.equal(manifest.mode, mode);
    t.equal(manifest.blobs.count, before.shas.length, 'every referenced blob in the archive');
    t.equal(manifest.tables.find((x) => x.name === 'message')?.rows, 6);

    // Wipe: embedded loses its data dir (the secret key is kept apart, as the README advises); scaled restores into a new database.
    let target: Config;
    if (mode === 'embedded') {
      rmSync(sourceConfig.dataDir, { recursive: true, force: true });
      target = testConfig({ DATABASE_URL: '', REDIS_URL: '', DOSSIER_SECRET_KEY: key, DOSSIER_DATA_DIR: sourceConfig.dataDir });
    } else {
      target = testConfig({ DATABASE_URL: await freshDatabase(t), DOSSIER_SECRET_KEY: key });
    }
    t.notOk(existsSync(path.join(target.blobDir, before.shas[0]!.slice(0, 2))), 'the target starts without blobs');

    // A wrong key is refused before anything is written.
    const wrongKey: Config = { ...target, secretKey: randomBytes(32) };
    const wrongDb = await openDb(wrongKey, { migrate: false });
    await t.rejects(restoreBackup({ db: wrongDb, config: wrongKey, blobs: createBlobStore(wrongKey) }, createReadStream(archive), migrations), { constructor: BackupError, message: /another secret key/ });
    await wrongDb.close();
    t.notOk(existsSync(target.blobDir) && readdirSync(target.blobDir).some((d) => d.length === 2), 'nothing restored with the wrong key');

    const targetDb = await openDb(target, { migrate: false });
    const report = await restoreBackup({ db: targetDb, config: target, blobs: createBlobStore(target) }, createReadStream(archive), migrations);
    t.equal(report.blobs, before.shas.length, 'every blob restored');
    t.equal(report.missingBlobs, 0);
    // Restoring again into what is now a full database is refused.
    await t.rejects(restoreBackup({ db: targetDb, config: target, blobs: createBlobStore(target) }, createReadStream(archive), migrations), { constructor: BackupError, message: /not empty/ });
    await targetDb.close();

    const after = await snapshot(target);
    t.same(after.facts, before.facts, 'messages, locations, log records, documents, users, cursors, search and secrets are back');
    t.same(after.shas, before.shas, 'the same blob rows');
    for (const sha of after.shas) if ((await hashBlob(target, sha)) !== sha) t.fail(`blob ${sha} hashes differently`);
    t.pass('every restored blob hashes to its name');

    // Sync resumes from the restored cursors: only the new message is fetched.
    env = await startSyncEnv({ config: target });
    t.teardown(() => env.close());
    await env.dovecot.appendMany(mail.user, [createTestMail({ from: `Client <${sender}>`, subject: 'after the restore' })]);
    const folderBefore = await getFolder(env.db, account.id);
    t.equal((await runSync(env, account.id)).outcome, 'done', 'the restored account syncs (its password decrypts with the key)');
    const n = await query<{ n: number; distinct: number }>(env.db, 'select count(*)::int as n, count(distinct message_id)::int as distinct from message_location');
    t.same(n[0], { n: 7, distinct: 7 }, 'one new location, no old mail fetched again');
    t.equal((await getFolder(env.db, account.id))!.last_uid, folderBefore!.last_uid + 1, 'the cursor moved by one');
  });
}
