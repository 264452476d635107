// Every real-world and hostile message of ../shared/corpus, appended to a real Dovecot and synced: all
// stored exactly once, each parsed or 'failed' with its raw source kept, nothing crashes the sync, and
// the mailbox on the server is exactly as it was (flags and count).
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { openDb } from '../../src/core/platform/db.ts';
import { TEST_DATABASE_URL, testConfig } from '../support/env.ts';
import { getFolder, listLocations, query, runSync, startSyncEnv, type SyncEnv } from '../support/sync.ts';
import { createTestImapAccount } from '../support/factories.ts';

const CORPUS = path.resolve(import.meta.dirname, '../../../shared/corpus');
const listFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(path.join(dir, e.name)) : e.isFile() ? [path.join(dir, e.name)] : []));

// A database of its own: the shared test database is written by other files at the same time, each with
// its own blob dir, so content another file stored (sync-basics syncs duplicate-message-id-a/-b too) is
// linked here with its raw source in that file's blob dir. One database with one blob store, as in a
// deployment, lets every location's raw source be checked here.
const dbName = `dossier_corpus_${randomUUID().slice(0, 8)}`;
const dbUrl = new URL(TEST_DATABASE_URL);
dbUrl.pathname = `/${dbName}`;
const adminUrl = new URL(TEST_DATABASE_URL);
adminUrl.pathname = '/postgres';
async function adminQuery(statement: string) {
  const c = new pg.Client({ connectionString: adminUrl.toString() });
  await c.connect();
  try {
    await c.query(statement);
  } finally {
    await c.end();
  }
}

let env: SyncEnv;
t.before(async () => {
  await adminQuery(`create database "${dbName}"`);
  const config = testConfig({ DATABASE_URL: dbUrl.toString() });
  await (await openDb(config, { migrate: true, poolMax: 1 })).close();
  env = await startSyncEnv({ config });
});
t.teardown(async () => {
  await env?.close();
  await adminQuery(`drop database if exists "${dbName}" with (force)`).catch(() => undefined);
});

t.test('real and hostile corpus: all stored, parsed or failed with raw kept, mailbox untouched', async (t) => {
  const real = listFiles(path.join(CORPUS, 'real')).sort();
  const hostile = listFiles(path.join(CORPUS, 'hostile')).filter((f) => f.endsWith('.eml')).sort();
  t.equal(real.length, 399, 'all 399 real messages');
  t.ok(hostile.length >= 40, 'the hostile set');
  const mail = await env.dovecot.addUser();
  await env.dovecot.createFolder(mail.user, 'Hostile');
  const realUids = await env.dovecot.appendMany(mail.user, real.map((f) => readFileSync(f)));
  const hostileUids = await env.dovecot.appendMany(mail.user, hostile.map((f) => readFileSync(f)), { folder: 'Hostile' });
  // Some read, some not: the sync must leave both exactly as they are.
  await env.dovecot.addFlags(mail.user, 'INBOX', realUids.filter((_, i) => i % 3 === 0), ['\\Seen']);
  const flagsBefore = await env.dovecot.fetchFlags(mail.user, 'INBOX');
  const hostileFlagsBefore = await env.dovecot.fetchFlags(mail.user, 'Hostile');
  const account = await createTestImapAccount(env, mail, { folders: ['Hostile'] });

  const started = Date.now();
  const outcome = await runSync(env, account.id);
  t.comment(`synced ${real.length + hostile.length} messages in ${Date.now() - started} ms`);
  t.equal(outcome.outcome, 'done', JSON.stringify(outcome).slice(0, 500));

  for (const [folder, uids, files] of [['INBOX', realUids, real], ['Hostile', hostileUids, hostile]] as const) {
    const locs = await listLocations(env.db, account.id, folder);
    t.same(locs.map((l) => l.uid), uids, `${folder}: every message stored exactly once`);
    const statuses: Record<string, number> = {};
    for (const l of locs) statuses[l.parse_status] = (statuses[l.parse_status] ?? 0) + 1;
    t.ok(locs.every((l) => ['ok', 'partial', 'failed'].includes(l.parse_status)), `${folder}: ${JSON.stringify(statuses)}`);
    const missingRaw: string[] = [];
    for (const [i, l] of locs.entries()) {
      if (l.raw_size <= 0 || !(await env.blobs.has(l.raw_blob))) missingRaw.push(path.basename(files[i]!));
    }
    t.same(missingRaw, [], `${folder}: the raw source of every message is kept`);
    const box = await getFolder(env.db, account.id, folder);
    t.match(box, { server_messages: uids.length, stored_messages: uids.length, failed_messages: statuses.failed ?? 0 }, `${folder}: counts add up`);
  }
  t.same([...(await env.dovecot.fetchFlags(mail.user, 'INBOX'))], [...flagsBefore], 'INBOX flags unchanged on the server');
  t.same([...(await env.dovecot.fetchFlags(mail.user, 'Hostile'))], [...hostileFlagsBefore], 'Hostile flags unchanged on the server');
  t.equal(await env.dovecot.messageCount(mail.user, 'INBOX'), real.length);
  t.equal(await env.dovecot.messageCount(mail.user, 'Hostile'), hostile.length);
  const dup = await query<{ n: number }>(env.db,
    `select count(*)::int as n from (select l.mailbox_id, l.uid from message_location l join mailbox b on b.id = l.mailbox_id
      where b.account_id = ? group by 1, 2 having count(*) > 1) d`, [account.id]);
  t.equal(dup[0]!.n, 0, 'no UID twice');
});
