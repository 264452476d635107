// What both benchmarks need: their own PostgreSQL database, and percentiles of timings.
import pg from 'pg';

/** Creates the database named in `url` when missing (dropping it first when `fresh`), through the `postgres` database. */
export async function ensureDatabase(url: string, fresh: boolean): Promise<void> {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    if (fresh) await client.query(`drop database if exists "${name}" with (force)`);
    const found = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (!found.rowCount) await client.query(`create database "${name}"`);
  } finally {
    await client.end();
  }
}

/** The p-th percentile (nearest rank) of some timings. */
export const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
