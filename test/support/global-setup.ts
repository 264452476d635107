// Runs once before the test files (tap's `before`): creates the test database when missing and migrates
// it, so test files can open it without racing each other's migrations, and builds the web app when the run
// can include browser tests. Fails with one clear line when PostgreSQL or Redis does not answer, or the mail
// corpus is not beside the checkout.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Redis } from 'ioredis';
import { openDb } from '../../src/core/platform/db.ts';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from './env.ts';
import { buildWebApp } from './web-build.ts';

async function ensureDatabase(url: string) {
  const target = new URL(url);
  const dbName = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`PostgreSQL does not answer at ${admin.host} (${(err as Error).message}): install and start it (Debian: apt-get install -y postgresql)`, { cause: err });
  }
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [dbName]);
    if (!found.rowCount) await client.query(`create database "${dbName.replace(/"/g, '""')}"`).catch((err) => {
      if (!/already exists/.test(String(err))) throw err;
    });
  } finally {
    await client.end();
  }
}

async function checkRedis(url: string) {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(`Redis does not answer at ${url} (${(err as Error).message}): install and start it (Debian: apt-get install -y redis-server)`, { cause: err });
  } finally {
    redis.disconnect();
  }
}

/** The mail corpora the tests read (../shared/corpus beside the checkout, as in the project's layout). */
function checkCorpus() {
  const dir = fileURLToPath(new URL('../../../shared/corpus/real', import.meta.url));
  if (!existsSync(dir)) throw new Error(`the test mail corpus is not at ${dir}: clone Dossier next to the project's shared/ folder (shared/corpus/real and hostile)`);
}

/**
 * Whether this run's include globs (tap passes them to this script as TAP_INCLUDE, one a line) reach the
 * browser tests: `npm test` does, `npm run test:fast` does not, so the fast tier never waits for vite.
 */
function runsBrowserTests(): boolean {
  return (process.env.TAP_INCLUDE ?? 'test/**/*.test.ts').split('\n').some((glob) => path.matchesGlob('test/web/any.test.ts', glob.trim()));
}

try {
  checkCorpus();
  await checkRedis(TEST_REDIS_URL);
  await ensureDatabase(TEST_DATABASE_URL);
  const db = await openDb({ databaseUrl: TEST_DATABASE_URL, dataDir: '/nonexistent' });
  await db.close();
  if (runsBrowserTests()) await buildWebApp();
} catch (err) {
  console.error(`test setup failed: ${(err as Error).message}`);
  process.exit(1);
}
