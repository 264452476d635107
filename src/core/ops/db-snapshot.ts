// A logical copy of the database that works the same on PostgreSQL and PGlite, with nothing installed
// (users' machines rarely have a matching pg_dump): every table read inside one REPEATABLE READ transaction
// (one consistent snapshot while the app keeps writing) as one JSON object per row, and loaded back with
// json_populate_recordset, so PostgreSQL's own output and input functions carry every type (bytea, tsvector,
// arrays, timestamps) without a conversion of ours. Must not: copy the migrations table (restore runs them).
import { IsolationLevel } from '@mikro-orm/core';
import { sql } from 'kysely';
import { kysely, type Em } from '../platform/db.ts';

const MIGRATIONS_TABLE = 'mikro_orm_migrations';
/** Rows per read and per insert: big enough for few round trips, small enough for message bodies. */
const CHUNK_ROWS = 500;

export type TableInfo = { name: string; columns: string[] };

/** The application's tables in foreign-key order (a table after every table it refers to). */
export async function listTables(em: Em): Promise<TableInfo[]> {
  // Catalog queries: the builder has no typed form for pg_catalog.
  const tables = await sql<{ name: string }>`select tablename as name from pg_tables where schemaname = current_schema() and tablename <> ${MIGRATIONS_TABLE} order by tablename`.execute(kysely(em));
  const edges = await sql<{ child: string; parent: string }>`
    select c.relname as child, p.relname as parent from pg_constraint k
      join pg_class c on c.oid = k.conrelid join pg_class p on p.oid = k.confrelid
      join pg_namespace n on n.oid = c.relnamespace
    where k.contype = 'f' and n.nspname = current_schema() and c.oid <> p.oid`.execute(kysely(em));
  // Generated columns are computed again on insert and cannot be written.
  const columns = await sql<{ table: string; column: string }>`
    select c.relname as table, a.attname as column from pg_attribute a
      join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = current_schema() and c.relkind = 'r' and a.attnum > 0 and not a.attisdropped and a.attgenerated = ''
    order by c.relname, a.attnum`.execute(kysely(em));
  const parents = new Map<string, Set<string>>(tables.rows.map((t) => [t.name, new Set<string>()]));
  for (const e of edges.rows) parents.get(e.child)?.add(e.parent);
  const ordered: string[] = [];
  const done = new Set<string>();
  const visit = (name: string, path: Set<string>) => {
    if (done.has(name)) return;
    if (path.has(name)) throw new Error(`foreign keys form a cycle through ${name}: a restore order cannot be found`);
    path.add(name);
    for (const p of parents.get(name) ?? []) if (parents.has(p)) visit(p, path);
    path.delete(name);
    done.add(name);
    ordered.push(name);
  };
  for (const t of tables.rows) visit(t.name, new Set());
  return ordered.map((name) => ({ name, columns: columns.rows.filter((c) => c.table === name).map((c) => c.column) }));
}

export async function listAppliedMigrations(em: Em): Promise<string[]> {
  // The migrator's own table is not an entity, so there is no typed form.
  const rows = await sql<{ name: string }>`select name from ${sql.table(MIGRATIONS_TABLE)} order by id`.execute(kysely(em));
  return rows.rows.map((r) => r.name);
}

/**
 * Runs `read` inside one read-only REPEATABLE READ transaction: every table it reads shows the same
 * moment, however long the copy takes and whatever the app commits meanwhile.
 */
export function withSnapshot<T>(em: Em, read: (em: Em) => Promise<T>): Promise<T> {
  return em.fork().transactional((tx) => read(tx), { isolationLevel: IsolationLevel.REPEATABLE_READ, readOnly: true });
}

/** Every row of a table as JSON text, in chunks (keyset on ctid, which is stable within the snapshot). */
export async function* readTableRows(em: Em, table: string): AsyncGenerator<string[]> {
  let after = '(0,0)';
  for (;;) {
    // row_to_json and tid comparisons have no builder form; the table name is an identifier, not a value.
    const res = await sql<{ ctid: string; row: string }>`
      select t.ctid::text as ctid, row_to_json(t)::text as row from ${sql.table(table)} t
      where t.ctid > ${after}::tid order by t.ctid limit ${CHUNK_ROWS}`.execute(kysely(em));
    if (!res.rows.length) return;
    yield res.rows.map((r) => r.row);
    after = res.rows[res.rows.length - 1]!.ctid;
  }
}

/** Inserts rows (JSON text from readTableRows) into a table; generated columns are computed again. */
export async function insertTableRows(em: Em, table: TableInfo, rows: string[]): Promise<void> {
  if (!rows.length) return;
  const cols = sql.join(table.columns.map((c) => sql.ref(c)));
  // json_populate_recordset has no builder form: PostgreSQL parses each value with its column's input function.
  await sql`insert into ${sql.table(table.name)} (${cols}) select ${cols} from json_populate_recordset(null::${sql.table(table.name)}, ${`[${rows.join(',')}]`}::json)`.execute(kysely(em));
}

/** Row counts of the application's tables (a restore target must have none; a restore is checked against them). */
export async function countTableRows(em: Em, tables: TableInfo[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const t of tables) {
    const res = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(t.name)}`.execute(kysely(em));
    counts[t.name] = res.rows[0]!.n;
  }
  return counts;
}
