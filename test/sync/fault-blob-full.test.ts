// Faults (issue 14): the blob store's disk is full (ENOSPC). The blob dir is a small tmpfs mounted for this test
// (root may mount one; a real filesystem returning a real ENOSPC, not a fake store), so a batch fails part-way
// through writing its sources and attachments. Runs while the disk is full fail and record why, nothing is half
// written (no message row without its blob, no truncated file under a real name, no temp file left), no message is
// given up on as poison however often it is retried, and once there is space every message is stored exactly once.
import t from 'tap';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { blobPath } from '../../src/core/blobs/blob-store.ts';
import { testConfig } from '../support/env.ts';
import { getFolder, listLocations, query, runSync, startSyncEnv, type SyncEnv } from '../support/sync.ts';
import { listEveryPage, signIn, startTestApp, type TestApp } from '../support/app.ts';
import { createTestImapAccount, createTestMail, createTestUser } from '../support/factories.ts';

const run = promisify(execFile);
const blobDir = mkdtempSync(path.join(os.tmpdir(), 'dossier-full-'));
let mounted = false;
let env: SyncEnv | undefined;
let ta: TestApp | undefined;
t.teardown(async () => {
  await ta?.close();
  await env?.close();
  if (mounted) await run('umount', ['-l', blobDir]).catch(() => undefined);
});

// 3 MiB: small mail fits, the sources and attachments of the larger mail do not.
const cannotMount = await run('mount', ['-t', 'tmpfs', '-o', 'size=3m,mode=0700', 'tmpfs', blobDir]).then(() => {
  mounted = true;
  return false as const;
}, (err: Error) => `cannot mount a tmpfs here (${err.message.split('\n')[0]}): this test needs root`);

t.test('blob store full (ENOSPC): the batch fails and is retried later, nothing half-written, nothing lost or twice', { skip: cannotMount }, async (t) => {
  env = await startSyncEnv({ config: testConfig({ DOSSIER_BLOB_DIR: blobDir }) });
  ta = await startTestApp({ config: env.config });
  const mail = await env.dovecot.addUser();
  const small = Array.from({ length: 100 }, (_, i) => createTestMail({ subject: `Full small ${i}` }));
  const large = Array.from({ length: 30 }, (_, i) => createTestMail({ subject: `Full large ${i}`, attachment: { name: `l${i}.bin`, content: randomBytes(60_000) } }));
  const raws = [...small, ...large];
  const uids = await env.dovecot.appendMany(mail.user, raws);
  const { user: owner, email } = await createTestUser(env.db);
  const account = await createTestImapAccount(env, mail, { owner });

  // More runs than the poison-mail limit (five attempts at the same first UID): a full disk is not the message's fault.
  for (let i = 0; i < 6; i++) {
    const outcome = await runSync(env, account.id);
    t.equal(outcome.outcome, 'done', `run ${i + 1} while full ends`);
    if (outcome.outcome === 'done') t.match(outcome.errors.join('\n'), /INBOX: .*(ENOSPC|no space)/i, `run ${i + 1}: INBOX failed for want of space`);
  }
  const during = await listLocations(env.db, account.id);
  // Batches are parsed several at a time, so a batch that would fit alone may fail too when the next fills the disk.
  t.ok(during.length < raws.length, `the batches that fit were committed (${during.length} of ${raws.length}), not the rest`);
  t.same(during.map((l) => l.uid), uids.slice(0, during.length), 'in UID order, none skipped');
  t.ok(during.every((l) => l.parse_status === 'ok'), 'no message given up on');
  const folder = await getFolder(env.db, account.id);
  t.equal(folder!.last_uid, during.at(-1)?.uid ?? 0, 'the cursor stops at the last committed message');
  const [view] = await query<{ last_error: string | null }>(env.db, "select last_error from mailbox where account_id = ? and path = 'INBOX'", [account.id]);
  t.match(view!.last_error, /ENOSPC|no space/i, 'the folder shows why');

  const checkWhole = async () => {
    // Every message row has its source and every attachment its file, whole (the name is the content's hash).
    const rows = await query<{ sha256: string }>(env!.db, `select m.raw_blob as sha256 from message m join message_location l on l.message_id = m.id
      join mailbox b on b.id = l.mailbox_id where b.account_id = ? union select a.sha256 from attachment a join message_location l on l.message_id = a.message_id
      join mailbox b on b.id = l.mailbox_id where b.account_id = ?`, [account.id, account.id]);
    const bad: string[] = [];
    for (const { sha256 } of rows) {
      const bytes = await readFile(path.join(blobDir, blobPath(sha256))).catch(() => null);
      if (!bytes || createHash('sha256').update(bytes).digest('hex') !== sha256) bad.push(sha256);
    }
    return { rows: rows.length, bad };
  };
  const whole = await checkWhole();
  t.same(whole.bad, [], `all ${whole.rows} blobs of the stored messages are there and whole`);
  t.same(readdirSync(path.join(blobDir, 'tmp')), [], 'no temp file left behind');

  // Space again (the operator grows the volume): the next run stores the rest.
  await run('mount', ['-o', 'remount,size=64m', blobDir]);
  const outcome = await runSync(env, account.id);
  t.equal(outcome.outcome, 'done');
  if (outcome.outcome === 'done') t.same(outcome.errors, [], 'no error once there is space');
  const locs = await listLocations(env.db, account.id);
  t.same(locs.map((l) => l.uid), uids, 'every message stored exactly once');
  t.ok(locs.every((l) => l.parse_status === 'ok'), 'all whole and parsed, none skipped as poison');
  t.equal((await getFolder(env.db, account.id))!.failed_messages, 0, 'no failed messages');
  const after = await checkWhole();
  t.same(after.bad, [], `all ${after.rows} blobs there and whole`);
  const s = await signIn(ta.app, email);
  const items = await listEveryPage<{ subject: string }>((u) => s.request('GET', u), `/api/messages?accountId=${account.id}`, 50);
  const expected = [...small.map((_, i) => `Full small ${i}`), ...large.map((_, i) => `Full large ${i}`)].sort();
  t.same(items.map((m) => m.subject).sort(), expected, 'every message listed exactly once through the API');
});
