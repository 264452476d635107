// Opens the database: PostgreSQL when DATABASE_URL is set, else embedded PGlite (real PostgreSQL in
// WASM) under the data dir. Both use the same entities, the same migrations and the same SQL.
import { MikroORM as PgORM, type Options } from '@mikro-orm/postgresql';
import { PgliteDriver } from '@mikro-orm/pglite';
import { Migrator } from '@mikro-orm/migrations';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Kysely } from 'kysely';
import type { InferKyselyDB } from '@mikro-orm/sql';
import { chmod, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from './config.ts';
import { acquireDataDirLock, type DataDirLock } from './data-dir-lock.ts';
import { entities } from '../entities.ts';
import { migrationsList } from '../../../migrations/index.ts';

export type Db = PgORM;
export type Em = EntityManager;

export type OpenDbOptions = {
  migrate?: boolean;
  poolMax?: number;
  debug?: boolean;
  /** Embedded mode: what this process is (recorded in the data dir's lock, shown to a second process). */
  command?: string;
  /** Embedded mode: receives the data dir's lock (a serving process records its control port in it). */
  onLock?: (lock: DataDirLock) => void;
};

export async function openDb(config: Pick<Config, 'databaseUrl' | 'dataDir'>, opts: OpenDbOptions = {}): Promise<Db> {
  const common: Options = {
    entities,
    extensions: [Migrator],
    migrations: { migrationsList, snapshot: false, silent: true, transactional: true, allOrNothing: true },
    // Unknown keys in em.create() are bugs, not data.
    forceUndefined: false,
    debug: opts.debug ?? false,
    // Entities are plain objects built by defineEntity; no reflect-metadata, no discovery by path.
    discovery: { warnWhenNoEntities: true },
    allowGlobalContext: false,
  };
  let orm: Db;
  if (config.databaseUrl) {
    orm = await PgORM.init({ ...common, clientUrl: config.databaseUrl, pool: { min: 0, max: opts.poolMax ?? 10 } });
  } else {
    const dir = path.join(config.dataDir, 'db');
    // Before PGlite touches the directory: a second process must never open it (throws DataDirBusyError).
    const lock = await acquireDataDirLock(config.dataDir, opts.command ?? 'dossier');
    try {
      // PGlite writes its files with the process umask (main sets 077); the folder keeps others out regardless.
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await chmod(dir, 0o700);
      const { unaccent } = await import('@electric-sql/pglite/contrib/unaccent');
      orm = (await PgORM.init({
        ...common,
        // The one cast left: PGlite's driver has its own connection class, so its ORM type is not the
        // node-postgres one, but its EntityManager is the same SQL EntityManager (execute, getKysely),
        // which is all Db promises; both run the same migrations and queries.
        driver: PgliteDriver as never,
        dbName: dir,
        driverOptions: { extensions: { unaccent } },
      })) as Db;
    } catch (err) {
      await lock.release();
      throw err;
    }
    // The lock lives exactly as long as the database is open.
    const close = orm.close.bind(orm);
    orm.close = async (force?: boolean) => {
      try {
        await close(force);
      } finally {
        await lock.release();
      }
    };
    opts.onLock?.(lock);
  }
  try {
    if (opts.migrate ?? true) await orm.migrator.up();
  } catch (err) {
    await orm.close();
    throw err;
  }
  return orm;
}

/**
 * Whether Buffer parameters reach the server in binary format: node-postgres sends them so, PGlite
 * serialises parameters as text (see search-terms.ts tsvectorBinary). Follows openDb's choice of driver.
 */
export function takesBinaryParams(em: Em): boolean {
  return !(em.getDriver() instanceof PgliteDriver);
}

/**
 * Runs Kysely work with database errors rethrown as MikroORM's exception types, as em.execute throws
 * them: Kysely hands on the driver's own errors, and callers retry on UniqueConstraintViolationException
 * (a concurrent sync committed the same content).
 */
export async function withOrmErrors<T>(em: Em, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw em.getDriver().convertException(err as Error);
  }
}

/** Every table as Kysely sees it, inferred from the entities (snake_case tables and columns, as in SQL). */
export type DB = InferKyselyDB<(typeof entities)[number]>;

/**
 * The typed query builder for core's queries, bound to the em's transaction when it has one (MikroORM's
 * Kysely integration): column and table names are checked by the compiler against the entities.
 */
export function kysely(em: Em): Kysely<DB> {
  return em.getKysely<DB>();
}

/** One round trip to the database (health checks): throws when it cannot answer. */
export async function pingDatabase(em: Em): Promise<void> {
  await kysely(em).selectNoFrom((eb) => eb.val(1).as('one')).execute();
}
