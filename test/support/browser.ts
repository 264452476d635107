// Browser-test support: the system Chromium through playwright-core and screenshots under test-results/
// (the web app they load is built once per run: web-build.ts). Never downloads a browser: /usr/bin/chromium or a one-line error.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, errors, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const resultsDir = path.join(repoRoot, 'test-results');

const chromiumPath = '/usr/bin/chromium';

// Playwright adds --headless (with headless: true), --no-sandbox (chromiumSandbox defaults to false)
// and a fresh --user-data-dir in a temp directory that it deletes on close; it refuses a --user-data-dir
// in `args`. The rest keeps Chromium from reaching the network on its own (updates, sync, QUIC probes)
// and from needing a GPU.
const chromiumArgs = [
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// Below the reading pane's 1200 px (issue 16): the browser tests walk the list → message pages; the pane has
// its own test at 1440×900 (test/web/inbox-pane.test.ts).
export const desktopViewport = { width: 1180, height: 800 };
export const phoneViewport = { width: 390, height: 844 };

/** Launches the system Chromium headless. Each launch gets its own empty profile. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(chromiumPath)) throw new Error('chromium not found: apt-get install -y chromium');
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs, timeout: 30_000 });
}

/**
 * A fresh context (own cookies and localStorage) with a page; the page's console errors and failed
 * requests are collected so a test can assert the app ran cleanly.
 */
export async function openPage(browser: Browser, options: BrowserContextOptions = {}): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: desktopViewport, locale: 'en-US', ...options });
  const page = await context.newPage();
  // Generous: the whole suite shares two cores with Chromium; a real hang still fails well within tap's limit.
  page.setDefaultTimeout(20_000);
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    // HTTP errors the app handles (401 from the session probe, a wrong password) are logged by Chromium
    // as "Failed to load resource"; they are answers, not faults.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(`console error: ${message.text()}`);
  });
  return { context, page, problems };
}

/**
 * Saves test-results/<name>.png (the whole page unless `fullPage: false`) and returns its path, or
 * undefined when Chromium could not paint it in time. Screenshots are evidence for people, not
 * assertions: on a loaded machine a capture can stall (Chromium waits for a frame), and that must not
 * fail a test whose behaviour passed, so the stall is reported on stderr and the test goes on.
 */
export async function saveScreenshot(page: Page, name: string, { fullPage = true } = {}): Promise<string | undefined> {
  await mkdir(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `${name.replace(/[^a-z0-9._-]+/gi, '-')}.png`);
  try {
    await page.screenshot({ path: file, fullPage, timeout: 30_000 });
    return file;
  } catch (error) {
    if (!(error instanceof errors.TimeoutError)) throw error;
    console.error(`screenshot ${name} skipped: ${error.message.split('\n')[0]}`);
    return undefined;
  }
}
