// IDLE: a delivery shows up through the API within seconds, without waiting for the scheduler (its
// interval is an hour here). The account is created through the API, the worker runs in this process.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import type { WorkerHandle } from '../../src/sync/worker.ts';
import { userSession, type TestApp } from '../support/app.ts';
import { startAppWithWorker } from '../support/app-worker.ts';
import type { Dovecot } from '../support/dovecot.ts';
import { createTestMail } from '../support/factories.ts';

let ta: TestApp;
let worker: WorkerHandle;
let dovecot: Dovecot;
let close: () => Promise<void>;
t.before(async () => {
  ({ ta, worker, dovecot, close } = await startAppWithWorker('idle-test'));
});
t.teardown(() => close());

t.test('new mail is visible through the API within seconds, by IDLE', async (t) => {
  const s = await userSession(ta);
  const mail = await dovecot.addUser();
  await dovecot.appendMany(mail.user, [createTestMail({ subject: 'already there' })]);
  const res = await s.request('POST', '/api/mail-accounts', {
    name: 'Me', email: mail.email, visibility: 'private',
    imap: { host: mail.host, port: mail.port, secure: false, allowInsecure: true, username: mail.user, password: mail.password },
  });
  t.equal(res.statusCode, 201, res.body);
  const accountId = res.json().id as string;
  const list = async () => (await s.request('GET', `/api/messages?accountId=${accountId}`)).json().items as { subject: string }[];
  const until = async (fn: () => Promise<boolean>, ms: number) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (await fn()) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return false;
  };
  t.ok(await until(async () => (await list()).length === 1, 20_000), 'the initial sync ran');
  t.ok(await until(async () => worker.deps.accounts!.watchers.watching().includes(accountId), 10_000), 'the worker watches the INBOX');
  await new Promise((r) => setTimeout(r, 300));

  const latencies: number[] = [];
  for (let i = 0; i < 3; i++) {
    const subject = `idle ${i} ${randomUUID().slice(0, 6)}`;
    const sent = Date.now();
    await dovecot.deliver(mail.user, createTestMail({ subject }));
    t.ok(await until(async () => (await list()).some((m) => m.subject === subject), 10_000), `delivery ${i} visible`);
    latencies.push(Date.now() - sent);
  }
  t.comment(`delivery → API latency (ms): ${latencies.join(', ')}`);
  t.ok(Math.max(...latencies) < 5000, 'within seconds, not at the next scheduler tick');
});
