// A connection dropped in the middle of a FETCH (a TCP proxy cuts it): the sync reconnects with backoff,
// finishes, and stores nothing truncated.
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { text } from 'node:stream/consumers';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { listLocations, runSync, startSyncEnv, type SyncEnv } from '../support/sync.ts';
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
