// A firm for the sending tests (test/sync): a signed-in staff member with a mailbox on Dovecot (IMAP) that
// sends through the SMTP sink, and a client with contact addresses. Real rows through our own core code;
// nothing here asserts.
import { randomUUID } from 'node:crypto';
import { createMailAccount } from '../../src/core/mail/accounts.ts';
import { User, type Role } from '../../src/core/staff/user.entity.ts';
import { createAccountRuntime } from '../../src/sync/account-runtime.ts';
import { createHandlers } from '../../src/sync/handlers.ts';
import type { WorkerDeps } from '../../src/sync/worker-deps.ts';
import { signIn, startTestApp, type Session, type TestApp } from './app.ts';
import { getDovecot, type Dovecot, type MailUser } from './dovecot.ts';
import { startSmtpSink, type SmtpSink } from './smtp-sink.ts';
import { createTestUser } from './factories.ts';
import { testConfig } from './env.ts';
import type { DnsResolver } from '../../src/sync/sender-auth.ts';

const silent = { info: () => {}, warn: () => {}, error: () => {} };

export type FirmStack = { ta: TestApp; dovecot: Dovecot; sink: SmtpSink; close: () => Promise<void> };

/**
 * The server whose queue is worked in this process by the real job handlers with an account runtime (so sends,
 * syncs and IDLE run), the per-file Dovecot and an SMTP sink. Register `close` with `t.teardown`. `env` adds to
 * the test configuration; `dnsResolver` stands in for DNS in sender verification (the outside world, not our code).
 */
export async function startFirmStack(opts: { env?: Record<string, string>; dnsResolver?: DnsResolver } = {}): Promise<FirmStack> {
  const ta = await startTestApp(opts.env ? { config: testConfig(opts.env) } : {});
  const deps: WorkerDeps = { config: ta.config, db: ta.db, queue: ta.queue, blobs: ta.blobs, log: silent, workerId: `test-${randomUUID()}`, dnsResolver: opts.dnsResolver };
  const runtime = createAccountRuntime(deps, { parseThreads: 2 });
  deps.accounts = runtime;
  ta.queue.work(createHandlers(deps), { concurrency: 4 });
  const dovecot = await getDovecot();
  const sink = await startSmtpSink();
  return {
    ta, dovecot, sink,
    close: async () => {
      await runtime.close();
      await ta.close();
      await sink.close();
    },
  };
}

export type Firm = { s: Session; user: User; accountId: string; accountEmail: string; mail: MailUser };

/** A staff member (or admin) signed in, with a mailbox on Dovecot (IMAP) that sends through the SMTP sink. */
export async function createFirm(
  ta: TestApp, dovecot: Dovecot, sink: SmtpSink,
  opts: { prefix: string; visibility?: 'private' | 'public'; role?: Extract<Role, 'staff' | 'admin'> },
): Promise<Firm> {
  const { user, email } = await createTestUser(ta.db, opts.role ?? 'staff', 'Ana Firm');
  const mail = await dovecot.addUser({ prefix: opts.prefix });
  const em = ta.db.em.fork();
  const owner = await em.findOneOrFail(User, { id: user.id });
  const account = await createMailAccount(em, owner, {
    name: 'Ana at the firm', email: mail.email, visibility: opts.visibility ?? 'private',
    imap: { host: mail.host, port: mail.port, secure: false, username: mail.user, password: mail.password, allowInsecure: true },
    smtp: { host: sink.host, port: sink.port, secure: false, username: sink.user, password: sink.password, allowInsecure: true },
  }, ta.config.secretKey);
  await em.flush();
  return { s: { user, ...(await signIn(ta.app, email)) }, user, accountId: account.id, accountEmail: mail.email, mail };
}
