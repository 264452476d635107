// Embedded mode (no DATABASE_URL: PGlite under the data dir) syncs through the same pipeline as
// PostgreSQL: a small firm's one-command install must store, dedupe, count and search mail too.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { listMessages } from '../../src/core/mail/message-queries.ts';
import { testConfig } from '../support/env.ts';
import { getFolder, listLocations, query, runSync, startSyncEnv, type SyncEnv } from '../support/sync.ts';
import { createTestImapAccount, createTestMail, createTestUser } from '../support/factories.ts';

let env: SyncEnv;
t.before(async () => {
  env = await startSyncEnv({ config: testConfig({ DATABASE_URL: '', REDIS_URL: '' }) });
});
t.teardown(() => env.close());

t.test('a mailbox syncs into PGlite completely, once, and is searchable', async (t) => {
  t.equal(env.config.databaseUrl, null, 'embedded database');
  const mail = await env.dovecot.addUser();
  const raws = Array.from({ length: 12 }, (_, i) => createTestMail({
    subject: i === 3 ? 'Declaración trimestral' : `Consulta ${i}`,
    attachment: i % 4 === 0 ? { name: `factura-${i}.pdf`, content: randomBytes(4000) } : undefined,
  }));
  const uids = await env.dovecot.appendMany(mail.user, raws);
  const { user } = await createTestUser(env.db);
  const account = await createTestImapAccount(env, mail, { owner: user });

  t.equal((await runSync(env, account.id)).outcome, 'done');
  t.same((await listLocations(env.db, account.id)).map((l) => l.uid), uids, 'every UID stored once');
  t.match(await getFolder(env.db, account.id), { server_messages: 12, stored_messages: 12, failed_messages: 0 });
  const attachments = await query<{ n: number }>(env.db, 'select count(*)::int as n from attachment');
  t.equal(attachments[0]!.n, 3, 'attachments recorded');

  t.equal((await runSync(env, account.id)).outcome, 'done', 'a second sync');
  const messages = await query<{ n: number }>(env.db, 'select count(*)::int as n from message');
  t.equal(messages[0]!.n, 12, 'nothing stored twice');

  const found = await listMessages(env.db.em.fork(), user, { q: 'declaracion' }, { limit: 10 });
  t.same(found.items.map((m) => m.subject), ['Declaración trimestral'], 'full-text search without the accent');
});
