// The sync engine against a real Dovecot and PostgreSQL: complete ingest without touching the mailbox,
// flags and expunges, UIDVALIDITY change, one message in two mailboxes, refused logins.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { getFolder, listLocations, query, runSync, startSyncEnv, type SyncEnv } from '../support/sync.ts';
import { createTestImapAccount, createTestMail, createTestUser } from '../support/factories.ts';

let env: SyncEnv;
t.before(async () => {
  env = await startSyncEnv();
});
t.teardown(() => env.close());

t.test('syncs every message with BODY.PEEK: \\Seen flags and message count on the server are unchanged', async (t) => {
  const mail = await env.dovecot.addUser();
  const raws = Array.from({ length: 30 }, (_, i) => createTestMail({ subject: `Mail ${i}`, attachment: i % 5 === 0 ? { name: `f${i}.bin`, content: randomBytes(3000 + i) } : undefined }));
  const uids = await env.dovecot.appendMany(mail.user, raws);
  await env.dovecot.addFlags(mail.user, 'INBOX', uids.slice(0, 10), ['\\Seen']);
  await env.dovecot.appendMany(mail.user, [createTestMail({ subject: 'sent one', from: mail.email })], { folder: 'Sent' });
  const before = await env.dovecot.fetchFlags(mail.user);
  const account = await createTestImapAccount(env, mail);

  const outcome = await runSync(env, account.id);
  t.equal(outcome.outcome, 'done', JSON.stringify(outcome));

  const locs = await listLocations(env.db, account.id);
  t.same(locs.map((l) => l.uid), uids, 'every UID stored once, in order');
  t.ok(locs.every((l) => l.parse_status === 'ok'));
  t.same(locs.slice(0, 10).map((l) => l.flags), Array(10).fill(['\\Seen']), 'flags recorded');
  t.same(locs.slice(10).map((l) => l.flags), Array(20).fill([]));
  const after = await env.dovecot.fetchFlags(mail.user);
  t.same([...after], [...before], 'no flag changed on the server (no \\Seen set)');
  t.equal(await env.dovecot.messageCount(mail.user), 30, 'nothing deleted on the server');

  const inbox = await getFolder(env.db, account.id);
  t.match(inbox, { server_messages: 30, stored_messages: 30, failed_messages: 0, last_uid: uids.at(-1), progress_total: 0 });
  t.ok(inbox!.synced_at);
  const sent = await listLocations(env.db, account.id, 'Sent');
  t.equal(sent.length, 1, 'the \\Sent special-use folder is synced by default');
  const dir = await query<{ direction: string }>(env.db, 'select direction from message where id = ?', [sent[0]!.message_id]);
  t.equal(dir[0]!.direction, 'outbound');
  const folders = await query<{ path: string }>(env.db, 'select path from mailbox where account_id = ? order by path', [account.id]);
  t.same(folders.map((f) => f.path), ['INBOX', 'Sent'], 'Junk, Trash and Drafts are not synced');

  const attachments = await query<{ n: number }>(env.db, 'select count(*)::int as n from attachment a join message_location l on l.message_id = a.message_id join mailbox b on b.id = l.mailbox_id where b.account_id = ?', [account.id]);
  t.equal(attachments[0]!.n, 6, 'attachments stored');
  const status = await query<{ status: string; last_sync_at: Date | null; last_error: string | null }>(env.db, 'select status, last_sync_at, last_error from mail_account where id = ?', [account.id]);
  t.match(status[0], { status: 'idle', last_error: null });

  // A second run finds nothing new and stores nothing twice.
  const again = await runSync(env, account.id);
  t.equal(again.outcome, 'done');
  t.equal((await listLocations(env.db, account.id)).length, 30);
});

t.test('new mail is fetched from the cursor; flags set elsewhere and expunges are reflected', async (t) => {
  const mail = await env.dovecot.addUser();
  const uids = await env.dovecot.appendMany(mail.user, Array.from({ length: 5 }, () => createTestMail()));
  const account = await createTestImapAccount(env, mail);
  await runSync(env, account.id);
  t.equal((await listLocations(env.db, account.id)).length, 5);

  const [newUid] = await env.dovecot.appendMany(mail.user, [createTestMail({ subject: 'later' })]);
  await env.dovecot.setFlags(mail.user, 'INBOX', uids[1]!, ['\\Flagged', '\\Seen']);
  await env.dovecot.expunge(mail.user, 'INBOX', uids[2]!);
  await runSync(env, account.id);

  const locs = await listLocations(env.db, account.id);
  t.same(locs.map((l) => l.uid), [uids[0], uids[1], uids[3], uids[4], newUid], 'expunged location gone, new one added');
  t.same(locs.find((l) => l.uid === uids[1])!.flags, ['\\Flagged', '\\Seen'], 'flag change from another client reflected');
  const removed = await query<{ n: number }>(env.db, 'select count(*)::int as n from message_location l join mailbox b on b.id = l.mailbox_id where b.account_id = ? and l.removed_at is not null', [account.id]);
  t.equal(removed[0]!.n, 1, 'the expunged location is marked removed, the content stays');
  t.match(await getFolder(env.db, account.id), { server_messages: 5, stored_messages: 5 });
});

t.test('UIDVALIDITY change: the folder is re-listed without duplicates or re-saved attachments', async (t) => {
  const mail = await env.dovecot.addUser();
  await env.dovecot.createFolder(mail.user, 'Clients');
  const raws = Array.from({ length: 6 }, (_, i) => createTestMail({ attachment: { name: `doc${i}.pdf`, content: randomBytes(5000) } }));
  await env.dovecot.appendMany(mail.user, raws, { folder: 'Clients' });
  const account = await createTestImapAccount(env, mail, { folders: ['Clients'] });
  await runSync(env, account.id);
  const before = await listLocations(env.db, account.id, 'Clients');
  t.equal(before.length, 6);
  // Scoped to this account: the test database is shared with other test files running meanwhile.
  const counts = async () => (await query<{ messages: number; attachments: number }>(env.db,
    `select (select count(distinct l.message_id)::int from message_location l join mailbox b on b.id = l.mailbox_id where b.account_id = ?) as messages,
            (select count(*)::int from attachment a where a.message_id in (select l.message_id from message_location l join mailbox b on b.id = l.mailbox_id where b.account_id = ?)) as attachments`,
    [account.id, account.id]))[0]!;
  const c1 = await counts();
  const blobFiles = async () => { let n = 0; for await (const _ of env.blobs.list()) n++; return n; };
  const files1 = await blobFiles();

  const status = await env.dovecot.recreateFolder(mail.user, 'Clients');
  t.not(String(status.uidvalidity), (await getFolder(env.db, account.id, 'Clients'))!.uid_validity, 'the server changed UIDVALIDITY');
  const out = await runSync(env, account.id);
  t.equal(out.outcome, 'done');
  const after = await listLocations(env.db, account.id, 'Clients');
  t.equal(after.length, 6, 'six live locations, under the new UIDVALIDITY');
  t.same(after.map((l) => l.message_id).sort(), before.map((l) => l.message_id).sort(), 'the same content rows, re-linked');
  const c2 = await counts();
  t.same(c2, c1, 'no new message or attachment rows');
  t.equal(await blobFiles(), files1, 'no blob file written again');
  t.match(await getFolder(env.db, account.id, 'Clients'), { uid_validity: String(status.uidvalidity), stored_messages: 6 });
});

t.test('the same message in a private and a public mailbox is one message with two locations', async (t) => {
  const a = await env.dovecot.addUser({ prefix: 'priv' });
  const info = await env.dovecot.addUser({ prefix: 'info' });
  const raw = createTestMail({ subject: 'Shared question' });
  // Different trace headers per delivery, same content.
  await env.dovecot.appendMany(a.user, [Buffer.concat([Buffer.from('Received: from mx1 by a; Mon, 3 Mar 2025 10:00:01 +0000\r\n'), raw])]);
  await env.dovecot.appendMany(info.user, [Buffer.concat([Buffer.from('Received: from mx2 by info; Mon, 3 Mar 2025 10:00:02 +0000\r\nDelivered-To: info@firm.example\r\n'), raw])]);
  const priv = await createTestImapAccount(env, a, { visibility: 'private' });
  const pub = await createTestImapAccount(env, info, { visibility: 'public' });
  await Promise.all([runSync(env, priv.id), runSync(env, pub.id)]);
  const [l1] = await listLocations(env.db, priv.id);
  const [l2] = await listLocations(env.db, pub.id);
  t.ok(l1 && l2);
  t.equal(l1!.message_id, l2!.message_id, 'one content row');
  const locs = await query<{ n: number }>(env.db, 'select count(*)::int as n from message_location where message_id = ?', [l1!.message_id]);
  t.equal(locs[0]!.n, 2, 'two locations');
});

t.test('two different messages sharing a Message-ID stay two messages', async (t) => {
  const mail = await env.dovecot.addUser();
  const { readFile } = await import('node:fs/promises');
  const dir = new URL('../../../shared/corpus/hostile/', import.meta.url);
  const raws = [await readFile(new URL('duplicate-message-id-a.eml', dir)), await readFile(new URL('duplicate-message-id-b.eml', dir))];
  await env.dovecot.appendMany(mail.user, raws);
  const account = await createTestImapAccount(env, mail);
  await runSync(env, account.id);
  const locs = await listLocations(env.db, account.id);
  t.equal(locs.length, 2);
  t.not(locs[0]!.message_id, locs[1]!.message_id);
});

t.test('a refused login goes to needs_reauth after a bounded number of attempts; fixing it resumes', async (t) => {
  const mail = await env.dovecot.addUser();
  await env.dovecot.appendMany(mail.user, [createTestMail()]);
  const account = await createTestImapAccount(env, mail, { password: 'wrong-password' });
  const first = await runSync(env, account.id);
  t.match(first, { outcome: 'auth-failed', failures: 1, needsReauth: false });
  t.match(first.outcome === 'auth-failed' ? first.message : '', /refused the login/i, 'the error says so in plain words');
  await runSync(env, account.id);
  const third = await runSync(env, account.id);
  t.match(third, { outcome: 'auth-failed', failures: 3, needsReauth: true });
  const fourth = await runSync(env, account.id);
  t.equal(fourth.outcome, 'needs-reauth', 'no more logins are attempted');
  const log = await env.dovecot.logTail(400);
  const attempts = log.split('\n').filter((l) => l.includes(mail.user) && /auth failed|Disconnected \(auth failed/i.test(l)).length;
  t.ok(attempts <= 3, `the server saw at most 3 failed logins (saw ${attempts})`);

  // Fixing the password (what PATCH does through core) resumes.
  const { getManagedMailAccount, updateMailAccount } = await import('../../src/core/mail/accounts.ts');
  const em = env.db.em.fork();
  const owner = (await query<{ owner_id: string }>(env.db, 'select owner_id from mail_account where id = ?', [account.id]))[0]!;
  const acc = await getManagedMailAccount(em, { id: owner.owner_id, role: 'staff' }, account.id);
  const outcome = await updateMailAccount(em, { id: owner.owner_id, role: 'staff' }, acc, { imap: { password: mail.password } }, env.config.secretKey);
  await em.flush();
  t.ok(outcome.resumed);
  const fixed = await runSync(env, account.id);
  t.equal(fixed.outcome, 'done');
  t.equal((await listLocations(env.db, account.id)).length, 1);
  t.match((await query(env.db, 'select status, auth_failures, last_error from mail_account where id = ?', [account.id]))[0], { status: 'idle', auth_failures: 0, last_error: null });
});

t.test('another account failing does not affect this one', async (t) => {
  const good = await env.dovecot.addUser();
  await env.dovecot.appendMany(good.user, [createTestMail()]);
  const bad = await createTestImapAccount(env, good, { port: 1 });
  const ok = await createTestImapAccount(env, good, { owner: (await createTestUser(env.db)).user });
  const [r1, r2] = await Promise.all([runSync(env, bad.id), runSync(env, ok.id)]);
  t.equal(r1.outcome, 'error');
  t.match(r1.outcome === 'error' ? r1.message : '', /Cannot reach the mail server/);
  t.equal(r2.outcome, 'done');
  t.match((await query(env.db, 'select status, last_error from mail_account where id = ?', [bad.id]))[0], { status: 'error', last_error: /refused the connection/ });
});

t.test('poison mail: a message that took down five attempts is stored as failed without its source, and the folder goes on', async (t) => {
  const mail = await env.dovecot.addUser();
  await env.dovecot.appendMany(mail.user, [createTestMail({ subject: 'Before 1' }), createTestMail({ subject: 'Before 2' })]);
  const account = await createTestImapAccount(env, mail);
  t.equal((await runSync(env, account.id)).outcome, 'done');
  const uids = await env.dovecot.appendMany(mail.user, [createTestMail({ subject: 'Poison' }), createTestMail({ subject: 'After 1' }), createTestMail({ subject: 'After 2' })]);
  // What runs that died on the same first UID leave behind: three that died anywhere (connecting, listing, in a
  // batch), then two that died while that message was fetched and stored alone. The counter is committed before
  // each try, so a crash counts too.
  const inbox = await getFolder(env.db, account.id);
  await query(env.db, "update mailbox set retry_uid = ?, retry_count = 5, last_error = 'the worker stopped' where id = ?", [uids[0], inbox!.id]);

  const outcome = await runSync(env, account.id);
  t.equal(outcome.outcome, 'done', JSON.stringify(outcome));
  const locs = await listLocations(env.db, account.id);
  t.same(locs.map((l) => [l.subject, l.parse_status]), [['Before 1', 'ok'], ['Before 2', 'ok'], ['', 'failed'], ['After 1', 'ok'], ['After 2', 'ok']],
    'the fifth attempt gives the poison message up and stores the mail after it');
  const poison = await query<{ parse_error: string; raw_size: number }>(env.db, 'select parse_error, raw_size from message where id = ?', [locs[2]!.message_id]);
  t.match(poison[0]!.parse_error, /^Skipped after 4 failed attempts to fetch and store it \(last error: the worker stopped\)/, 'the reason says how often and why');
  t.equal(poison[0]!.raw_size, 0, 'no source was fetched for it');
  t.match(await getFolder(env.db, account.id), { server_messages: 5, stored_messages: 5, failed_messages: 1, last_uid: uids.at(-1) }, 'counted as failed, not missing');
  const retry = await query<{ retry_uid: string | null; retry_count: number }>(env.db, 'select retry_uid, retry_count from mailbox where id = ?', [inbox!.id]);
  t.same(retry[0], { retry_uid: null, retry_count: 0 }, 'the attempt counter is cleared');

  // It is not retried forever: the next run has nothing to do, and the server still holds every message.
  t.equal((await runSync(env, account.id)).outcome, 'done');
  t.equal((await listLocations(env.db, account.id)).length, 5);
  t.equal(await env.dovecot.messageCount(mail.user), 5, 'nothing deleted on the server');
});
