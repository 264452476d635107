// A database of its own, for the few tests that change a firm-wide setting every other test file would feel
// (e.g. "everyone must use two-step sign-in"): created and migrated here, dropped at teardown.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { openDb } from '../../src/core/platform/db.ts';
import { TEST_DATABASE_URL } from './env.ts';

export async function createOwnDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `dossier_own_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const admin = new URL(TEST_DATABASE_URL);
  admin.pathname = '/postgres';
  const run = async (statement: string) => {
    const client = new pg.Client({ connectionString: admin.toString() });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await run(`create database "${name}"`);
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  const db = await openDb({ databaseUrl: url.toString(), dataDir: '/nonexistent' });
  await db.close();
  return { url: url.toString(), drop: () => run(`drop database if exists "${name}" with (force)`) };
}
