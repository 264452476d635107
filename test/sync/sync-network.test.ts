// A connection dropped in the middle of a FETCH (a TCP proxy cuts it): the sync reconnects with backoff,
// finishes, and stores nothing truncated.
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { text } from 'node:stream/consumers';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import pg from 'pg';
import { TEST_DATABASE_URL } from '../support/env.ts';
import { listLocations, query, runSync, startSyncEnv, type SyncEnv } from '../support/sync.ts';
import { createTestImapAccount, createTestMail } from '../support/factories.ts';

let env: SyncEnv;
let proxy: TcpProxy;
t.before(async () => {
  env = await startSyncEnv();
  proxy = await startTcpProxy({ host: env.dovecot.host, port: env.dovecot.port });
});
t.teardown(async () => {
  await proxy.close();
  await env.close();
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

for (const [name, cutAt] of [['while streaming a large message', 1_500_000], ['inside a batch of small messages', 9_000]] as const) {
  t.test(`dropped connection ${name}: reconnects, finishes, nothing truncated`, async (t) => {
    const mail = await env.dovecot.addUser();
    const raws = [
      ...Array.from({ length: 20 }, () => createTestMail({ attachment: { name: 'small.bin', content: randomBytes(600) } })),
      createTestMail({ subject: 'big one', attachment: { name: 'big.bin', content: randomBytes(3 * 1024 * 1024) } }),
      ...Array.from({ length: 20 }, () => createTestMail()),
    ];
    const uids = await env.dovecot.appendMany(mail.user, raws);
    const account = await createTestImapAccount(env, mail, { host: proxy.host, port: proxy.port });
    const before = proxy.connections;
    proxy.dropAfterBytes(cutAt, 'next');

    const outcome = await runSync(env, account.id);
    t.equal(outcome.outcome, 'done', JSON.stringify(outcome).slice(0, 300));
    t.ok(proxy.connections - before >= 2, 'it reconnected');
    const locs = await listLocations(env.db, account.id);
    t.same(locs.map((l) => l.uid), uids, 'every message stored once');
    const wrong: number[] = [];
    for (const [i, l] of locs.entries()) {
      const stored = Buffer.from(await text(await env.blobs.get(l.raw_blob)), 'latin1');
      if (l.raw_size !== raws[i]!.length || sha(Buffer.from(await text(await env.blobs.get(l.raw_blob)), 'utf8')) !== sha(raws[i]!) || stored.length === 0) wrong.push(l.uid);
    }
    t.same(wrong, [], 'every stored source is complete and exact');
    t.ok(locs.every((l) => l.parse_status === 'ok'), 'all parsed');
  });
}

t.test('connection lost between listing and downloading a large message: the cursor does not pass it, the next attempt stores it', async (t) => {
  const mail = await env.dovecot.addUser();
  const [first] = await env.dovecot.appendMany(mail.user, [createTestMail({ subject: 'small' })]);
  const account = await createTestImapAccount(env, mail, { host: proxy.host, port: proxy.port });
  t.equal((await runSync(env, account.id)).outcome, 'done');
  const big = createTestMail({ subject: 'big', attachment: { name: 'big.bin', content: randomBytes(3 * 1024 * 1024) } });
  const [uid] = await env.dovecot.appendMany(mail.user, [big]);
  const [box] = await query<{ id: string }>(env.db, "select b.id from mailbox b where b.account_id = ? and b.path = 'INBOX'", [account.id]);

  // The folder's row is locked, so the sync stops after listing the new UID (its first FETCH), where it
  // records the attempt; the connection is cut a moment after that listing's tagged OK. When the lock
  // goes, the sync goes on to download the large message on a connection that is gone: imapflow then
  // returns no content, as it does for a message expunged meanwhile.
  const lock = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await lock.connect();
  t.teardown(() => lock.end());
  await lock.query('begin');
  await lock.query('select 1 from mailbox where id = $1 for update', [box!.id]);
  proxy.dropAfterServerSends('OK Fetch completed', { delayMs: 2000 });
  const before = proxy.connections;
  const syncing = runSync(env, account.id);
  const end = Date.now() + 60_000;
  while (!(proxy.connections > before && proxy.openConnections === 0)) {
    if (Date.now() > end) throw new Error('the connection was not cut');
    await new Promise((r) => setTimeout(r, 20));
  }
  await lock.query('commit');

  const outcome = await syncing;
  t.equal(outcome.outcome, 'done', JSON.stringify(outcome).slice(0, 300));
  t.ok(proxy.connections - before >= 2, 'it reconnected');
  const locs = await listLocations(env.db, account.id);
  t.same(locs.map((l) => l.uid), [first, uid], 'the large message is stored, not skipped');
  t.equal(locs[1]?.raw_size, big.length, 'whole');
});
