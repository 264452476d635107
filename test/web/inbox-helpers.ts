// Shared set-up for the Inbox+ browser tests: the real server serving the built web app, a sync worker in
// this process (in-process queue), the per-file Dovecot and an SMTP sink, Chromium, and small helpers to
// sign in, add a mailbox through the API the Settings page uses, and wait for its first sync.
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { createLocalQueue } from '../../src/core/platform/jobs.ts';
import { startWorker } from '../../src/sync/worker.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { launchBrowser, openPage } from '../support/browser.ts';
import { builtWebRoot } from '../support/web-build.ts';
import { getDovecot, warmUpDovecot, type Dovecot, type MailUser } from '../support/dovecot.ts';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';
import { testConfig } from '../support/env.ts';
import { createTestUser } from '../support/factories.ts';

export type MailStack = { ta: TestApp; base: string; browser: Browser; dovecot: Dovecot; sink: SmtpSink; close: () => Promise<void> };

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

export async function startMailStack(): Promise<MailStack> {
  const webRoot = await builtWebRoot();
  const config = testConfig();
  const queue = createLocalQueue();
  const ta = await startTestApp({ webRoot, config, queue });
  const worker = await startWorker({ config, db: ta.db, queue, blobs: ta.blobs, events: ta.events, log: silent, workerId: `web-test-${randomUUID().slice(0, 8)}` });
  await ta.app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(ta.app.server.address() as AddressInfo).port}`;
  const [browser, dovecot, sink] = await Promise.all([launchBrowser(), getDovecot(), startSmtpSink()]);
  await warmUpDovecot(dovecot);
  return {
    ta, base, browser, dovecot, sink,
    close: async () => {
      await browser.close();
      await ta.close();
      await worker.stop();
      await sink.close();
    },
  };
}

/** A new staff user signed in through the login page (a fresh user per test: the login limit is per address). */
export async function signInNewUser(stack: MailStack, name: string, path = '/inbox', role: 'staff' | 'admin' = 'staff') {
  const { email, password, user } = await createTestUser(stack.ta.db, role, name);
  const opened = await openPage(stack.browser);
  const { page } = opened;
  await page.goto(`${stack.base}${path}`);
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
  await page.getByRole('heading', { level: 1 }).first().waitFor();
  return { ...opened, user, email };
}

/** A write to the API from the signed-in page's session (cookie + the CSRF token the app also uses). */
export async function apiWrite<T>(page: Page, base: string, method: 'POST' | 'PATCH' | 'PUT', path: string, body: unknown): Promise<T> {
  const me = await page.request.get(`${base}/api/me`);
  const csrf = (await me.json()).csrfToken as string;
  const res = await page.request.fetch(`${base}/api${path}`, { method, data: body as object, headers: { 'x-csrf-token': csrf } });
  if (!res.ok()) throw new Error(`${method} ${path}: ${res.status()} ${await res.text()}`);
  return (await res.json()) as T;
}

export async function apiGet<T>(page: Page, base: string, path: string): Promise<T> {
  const res = await page.request.get(`${base}/api${path}`);
  if (!res.ok()) throw new Error(`GET ${path}: ${res.status()} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Adds the Dovecot user as the signed-in user's mailbox (SMTP through the sink), as the Settings page does. */
export async function addMailbox(page: Page, stack: MailStack, mail: MailUser, name = 'Firm mailbox'): Promise<{ id: string; email: string }> {
  const imap = { host: mail.host, port: mail.port, secure: false, username: mail.user, password: mail.password, allowInsecure: true };
  const smtp = { host: stack.sink.host, port: stack.sink.port, secure: false, username: stack.sink.user, password: stack.sink.password, allowInsecure: true };
  return apiWrite(page, stack.base, 'POST', '/mail-accounts', { name, email: mail.email, visibility: 'private', imap, smtp });
}

type AccountView = { id: string; status: string; folders: { path: string; storedMessages: number; serverMessages: number }[] };

/** Waits until the account's INBOX holds `count` stored messages (the initial sync finished). */
export async function waitForInbox(page: Page, base: string, accountId: string, count: number, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const account = await apiGet<AccountView>(page, base, `/mail-accounts/${accountId}`);
    const inbox = account.folders.find((f) => f.path === 'INBOX');
    if (inbox && inbox.storedMessages >= count) return;
    if (Date.now() > until) throw new Error(`initial sync did not finish: ${JSON.stringify(account)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

let seq = 0;
/** A client's message to the firm's mailbox, with a unique Message-ID and a date `minutesAgo` in the past. */
export function clientMessage(opts: { to: string; subject: string; body?: string; from?: string; minutesAgo: number; pdf?: string; messageId?: string }): { raw: Buffer; messageId: string } {
  const messageId = opts.messageId ?? `${randomUUID()}@client.example`;
  const date = new Date(Date.now() - opts.minutesAgo * 60_000 - ++seq * 1000).toUTCString().replace('GMT', '+0000');
  const head = [
    `From: ${opts.from ?? '"Carmen Client" <carmen@client.example>'}`,
    `To: ${opts.to}`,
    `Subject: ${opts.subject}`,
    `Date: ${date}`,
    `Message-ID: <${messageId}>`,
    'MIME-Version: 1.0',
  ];
  const body = opts.body ?? 'Hello,\r\n\r\nPlease see below.\r\n';
  if (!opts.pdf) return { raw: Buffer.from([...head, 'Content-Type: text/plain; charset=utf-8', '', body, ''].join('\r\n')), messageId };
  const b = `b-${randomUUID()}`;
  const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n'), Buffer.alloc(2000, 0x20)]);
  const b64 = pdf.toString('base64').replace(/.{76}/g, '$&\r\n');
  return {
    raw: Buffer.from([...head, `Content-Type: multipart/mixed; boundary="${b}"`, '', `--${b}`, 'Content-Type: text/plain; charset=utf-8', '', body,
      `--${b}`, `Content-Type: application/pdf; name="${opts.pdf}"`, `Content-Disposition: attachment; filename="${opts.pdf}"`,
      'Content-Transfer-Encoding: base64', '', b64, `--${b}--`, ''].join('\r\n')),
    messageId,
  };
}
