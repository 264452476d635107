// The web app in dist/web for the browser tests: built once per test run by the global setup (only when the
// run can include browser tests and the build is older than src/web), then served by every browser test file.
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const webRoot = path.join(repoRoot, 'dist/web');

async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    newest = Math.max(newest, (await stat(path.join(entry.parentPath, entry.name))).mtimeMs);
  }
  return newest;
}

async function isFresh(): Promise<boolean> {
  const built = path.join(webRoot, 'index.html');
  if (!existsSync(built)) return false;
  const sources = Math.max(await newestMtime(path.join(repoRoot, 'src/web')), (await stat(path.join(repoRoot, 'vite.config.ts'))).mtimeMs);
  return (await stat(built)).mtimeMs >= sources;
}

/**
 * Builds the web app into dist/web unless the build there is newer than every source file, so `npm test` works
 * from a fresh clone and tests see the current UI. Two runs in one checkout may start together: a lock directory
 * (mkdir is atomic) makes one build while the other waits for it.
 */
export async function buildWebApp(): Promise<void> {
  if (await isFresh()) return;
  const lock = path.join(repoRoot, 'dist/.web-build.lock');
  await mkdir(path.dirname(lock), { recursive: true });
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch {
      // Another run is building; a lock older than five minutes was left by a killed run.
      const age = Date.now() - (await stat(lock).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if (age > 300_000) await rm(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error('timed out waiting for another web build (dist/.web-build.lock)');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  try {
    if (!(await isFresh())) {
      const { build } = await import('vite');
      await build({ configFile: path.join(repoRoot, 'vite.config.ts'), logLevel: 'warn' });
    }
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

/** dist/web for a browser test file, which the run's global setup built; never a build older than src/web. */
export async function builtWebRoot(): Promise<string> {
  if (!(await isFresh())) {
    throw new Error('dist/web is missing or older than src/web: run browser tests through `npm test`, whose global setup builds the web app (or `npm run build` first)');
  }
  return webRoot;
}
