// Browser-test setup shared by test/web: the real server listening on a free port with the built web app,
// one Chromium, optionally a sync worker on the same queue, and the login form filled in like a user would.
// Nothing here asserts: each test file keeps its own checks.
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { startWorker } from '../../src/sync/worker.ts';
import { startTestApp, type TestApp } from './app.ts';
import { testConfig } from './env.ts';
import { launchBrowser } from './browser.ts';
import { builtWebRoot } from './web-build.ts';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

export type WebTest = {
  ta: TestApp;
  /** http://127.0.0.1:<port> of the listening server. */
  base: string;
  browser: Browser;
  /** Opens `path` (signed out, so the login page shows), fills in the login form and submits it. */
  signIn: (page: Page, email: string, password: string, path: string) => Promise<void>;
  /** Closes the browser, then the server (and the worker, when there is one) in a safe order. */
  close: () => Promise<void>;
};

/**
 * Starts the server and a browser for a web test file. With `workerId` (a prefix), a sync worker answers the
 * API's jobs (login checks, syncs). `env` configures the server as its environment would; `port` is for a
 * test that must know the address before the server starts (an OAuth client's registered redirect URI).
 * Register `close` with `t.teardown`.
 */
export async function startWebTest(opts: { workerId?: string; env?: Record<string, string>; port?: number } = {}): Promise<WebTest> {
  const ta = await startTestApp({ webRoot: await builtWebRoot(), ...(opts.env ? { config: testConfig(opts.env) } : {}) });
  // The API checks logins and syncs through jobs: a worker on the same queue answers them.
  const worker = opts.workerId
    ? await startWorker({ config: ta.config, db: ta.db, queue: ta.queue, blobs: ta.blobs, events: ta.events, log: silent, workerId: `${opts.workerId}-${randomUUID().slice(0, 8)}` })
    : null;
  await ta.app.listen({ host: '127.0.0.1', port: opts.port ?? 0 });
  const base = `http://127.0.0.1:${(ta.app.server.address() as AddressInfo).port}`;
  const browser = await launchBrowser();
  return {
    ta, base, browser,
    signIn: async (page, email, password, path) => {
      await page.goto(`${base}${path}`);
      await page.getByLabel('Email address').fill(email);
      await page.getByLabel('Password').fill(password);
      // Signed in once the login answered (the session cookie is set): a test that goes on to request
      // pages itself must not race the click on a loaded machine.
      const login = page.waitForResponse((r) => r.url().endsWith('/api/auth/login') && r.request().method() === 'POST');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await login;
    },
    close: async () => {
      await browser.close();
      if (!worker) return ta.close();
      // The worker's IDLE watchers and parse threads stop after the queue, and before the database closes.
      await ta.app.close();
      await ta.queue.close();
      await worker.stop();
      await ta.events.close();
      ta.redis.disconnect();
      await ta.db.close();
    },
  };
}
