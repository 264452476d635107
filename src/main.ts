// The composition root and CLI: `start` (server + worker in one process), `server`, `worker`,
// `migrate`, `user add`. Builds config, database, queue and blob store once and passes them down.
import { parseArgs } from 'node:util';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pino from 'pino';
import { ConfigError, loadConfig, resolveSecretKey, type Config } from './core/platform/config.ts';
import { openDb, type Db } from './core/platform/db.ts';
import { DataDirBusyError, readDataDirOwner, type DataDirLock } from './core/platform/data-dir-lock.ts';
import { callControl, readJson, startControlServer, type ControlServer } from './cli/control.ts';
import { createBullQueue, createLocalQueue, type JobQueue } from './core/platform/jobs.ts';
import { createLocalEvents, createRedisEvents, type LiveEvents } from './core/platform/live-events.ts';
import { publishNotificationCommits } from './core/staff/notification-events.ts';
import { createBlobStore } from './core/blobs/blob-stores.ts';
import { createMemoryMetricsStore, createMetricsRecorder, createRedisMetricsStore } from './core/platform/metrics.ts';
import { countUsers, createUser, ensureFirstAdmin } from './core/staff/users.ts';
import { DomainError } from './core/platform/errors.ts';
import { startWorker, type WorkerHandle } from './sync/worker.ts';
import { BackupError, restoreBackup, writeBackup } from './core/ops/backup.ts';
import { migrationsList } from '../migrations/index.ts';

type Command = 'start' | 'server' | 'worker' | 'migrate' | 'user' | 'backup' | 'restore';

/** Set once a signal starts the shutdown: start-up work it interrupts may fail, and that's expected. */
let stopping = false;

async function main(argv: string[]) {
  // Everything Dossier writes (embedded database, blobs, secret key, temp files) is its user's alone:
  // files 0600, folders 0700 (issue 12). The stores also set these modes where they create files.
  process.umask(0o077);
  const command = (argv[0] ?? 'start') as Command;
  let config: Config;
  try {
    // A restore never generates a key: a fresh one could not decrypt the restored mailbox passwords.
    config = await resolveSecretKey(loadConfig(process.env), { generate: command !== 'restore' });
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const log = pino({ level: config.logLevel });

  if (command === 'migrate') {
    const db = await openDb(config, { command });
    log.info('migrations applied');
    await db.close();
    return;
  }
  if (command === 'user') return userCommand(config, argv.slice(1));
  if (command === 'backup') return backupCommand(config, argv.slice(1));
  if (command === 'restore') return restoreCommand(config, argv.slice(1));
  if (!['start', 'server', 'worker'].includes(command)) {
    console.error(`Unknown command "${command}". Use: start | server | worker | migrate | user add | backup --out FILE | restore --from FILE`);
    process.exit(2);
  }
  if (!config.databaseUrl && command !== 'start') {
    console.error(`"${command}" runs one half of a scaled deployment: set DATABASE_URL and REDIS_URL (or use "start" for the all-in-one embedded mode).`);
    process.exit(2);
  }

  let lock: DataDirLock | null = null;
  const db = await openDb(config, { migrate: command !== 'worker', command, onLock: (l) => (lock = l) });
  const redis = config.redisUrl ? new Redis(config.redisUrl, { maxRetriesPerRequest: null }) : null;
  const queue: JobQueue = config.redisUrl ? createBullQueue(config.redisUrl, config.queuePrefix) : createLocalQueue();
  const blobs = createBlobStore(config);
  const events: LiveEvents = config.redisUrl
    ? createRedisEvents(config.redisUrl, config.queuePrefix, (err) => log.warn({ err }, 'live events: Redis error'))
    : createLocalEvents();
  publishNotificationCommits(db, events);
  // Workers count into Redis (summed across every worker) or, embedded, into this process's memory.
  const metricsStore = redis ? createRedisMetricsStore(redis, config.queuePrefix) : createMemoryMetricsStore();
  let worker: WorkerHandle | null = null;
  let app: { close: () => Promise<unknown> } | null = null;
  let control: ControlServer | null = null;

  // Signals are handled from here on, so a SIGTERM during start-up still shuts down in order.
  // Order: stop taking requests (in-flight ones finish), then jobs (in-flight syncs finish), then the
  // sync engine's IDLE watchers and parse threads, then connections.
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 30_000);
    force.unref();
    const closers = [async () => app?.close(), async () => control?.close(), () => queue.close(), async () => worker?.stop(), async () => redis?.disconnect(), () => events.close(), () => db.close()];
    for (const close of closers) await close().catch((err) => log.error({ err }, 'error while closing'));
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  if (command === 'start' || command === 'worker') {
    const metrics = createMetricsRecorder(metricsStore, (err) => log.warn({ err }, 'metrics: could not record'));
    worker = await startWorker({ config, db, queue, blobs, log, events, metrics, workerId: `${command}-${process.pid}-${randomUUID().slice(0, 8)}`, adoptAccounts: true });
    log.info({ mode: config.redisUrl ? 'bullmq' : 'in-process' }, 'worker started');
  }
  if (command === 'start' || command === 'server') {
    const admin = await ensureFirstAdmin(db.em.fork(), config.adminEmail, config.adminPassword).catch((err: unknown) => {
      if (!(err instanceof DomainError) || err.code !== 'weak_password') throw err;
      console.error(`DOSSIER_ADMIN_PASSWORD is not strong enough: ${err.message}`);
      process.exit(2);
    });
    if (admin) log.info({ email: admin.email }, 'created the first administrator');
    // Loaded only here: a worker process never carries the HTTP server's code (~65 MB of RSS).
    const { buildApp } = await import('./server/app.ts');
    const server = await buildApp({ config, db, queue, blobs, redis, events, metrics: metricsStore, logger: { level: config.logLevel } });
    app = server;
    await server.listen({ port: config.port, host: config.host });
    // Embedded: CLI commands run meanwhile reach this process instead of opening the data dir twice.
    if (lock) {
      control = await startControlServer({ db, backup: (out) => writeBackup({ db, config, blobs }, out).then(() => {}) });
      await (lock as DataDirLock).setControl({ port: control.port, token: control.token });
    }
    await printWelcome(db, config);
  }
}

async function printWelcome(db: Db, config: Config) {
  const users = await countUsers(db.em.fork());
  const lines = [`Dossier is running at ${config.publicUrl}`];
  if (!config.databaseUrl) lines.push(`Embedded mode: data in ${config.dataDir}`);
  if (!users) {
    lines.push('No user yet. Create the first administrator, in another shell while this one runs, with:');
    lines.push('  npm run dossier -- user add --email you@firm.example --name "Your Name" --role admin');
    lines.push('or start with DOSSIER_ADMIN_EMAIL and DOSSIER_ADMIN_PASSWORD set.');
    if (!config.databaseUrl) lines.push('(In embedded mode the command asks this running Dossier to add the user: the database accepts one process.)');
  }
  console.log(lines.join('\n'));
}

async function userCommand(config: Config, args: string[]) {
  const { positionals, values } = parseArgs({
    args, allowPositionals: true,
    options: { email: { type: 'string' }, name: { type: 'string' }, role: { type: 'string', default: 'staff' }, password: { type: 'string' } },
  });
  if (positionals[0] !== 'add' || !values.email) {
    console.error('Usage: dossier user add --email EMAIL [--name NAME] [--role admin|staff] [--password PASSWORD]\n(without --password, it is read from DOSSIER_USER_PASSWORD or standard input)');
    process.exit(2);
  }
  if (values.role !== 'admin' && values.role !== 'staff') {
    console.error('--role must be admin or staff');
    process.exit(2);
  }
  const password = values.password ?? process.env.DOSSIER_USER_PASSWORD ?? (await readStdin());
  const name = values.name ?? values.email;
  const owner = config.databaseUrl ? null : await readDataDirOwner(config.dataDir);
  if (owner?.control) {
    const res = await callControl(owner, 'POST', '/user', { email: values.email, name, role: values.role, password });
    const body = await readJson<{ email?: string; role?: string; error?: string }>(res.stream);
    if (res.status !== 201) {
      console.error(body.error ?? `the running Dossier (pid ${owner.pid}) answered ${res.status}`);
      process.exit(1);
    }
    console.log(`Created ${body.role} ${body.email} (through the running Dossier, pid ${owner.pid})`);
    return;
  }
  const db = await openDb(config, { command: 'user add' });
  try {
    const em = db.em.fork();
    const user = await createUser(em, { email: values.email, name, password, role: values.role });
    await em.flush();
    console.log(`Created ${user.role} ${user.email}`);
  } catch (err) {
    console.error((err as Error).message);
    process.exitCode = 1;
  } finally {
    await db.close();
  }
}

async function backupCommand(config: Config, args: string[]) {
  const { values } = parseArgs({ args, options: { out: { type: 'string' } } });
  if (!values.out) {
    console.error('Usage: dossier backup --out FILE');
    process.exit(2);
  }
  const out = path.resolve(values.out);
  // Written beside the target and renamed when complete: a cut-off backup never looks like a good one.
  const partial = `${out}.partial`;
  try {
    const owner = config.databaseUrl ? null : await readDataDirOwner(config.dataDir);
    if (owner?.control) {
      const res = await callControl(owner, 'GET', '/backup');
      if (res.status !== 200) throw new BackupError((await readJson<{ error?: string }>(res.stream)).error ?? `the running Dossier answered ${res.status}`);
      await pipeline(res.stream, createWriteStream(partial, { mode: 0o600 }));
      await rename(partial, out);
      console.log(`Backup written to ${out} (${formatSize((await stat(out)).size)}, through the running Dossier, pid ${owner.pid})`);
      return;
    }
    if (!config.databaseUrl && !existsSync(path.join(config.dataDir, 'db'))) throw new BackupError(`no database in ${config.dataDir}: nothing to back up`);
    const db = await openDb(config, { command: 'backup', migrate: false });
    try {
      const manifest = await writeBackup({ db, config, blobs: createBlobStore(config) }, createWriteStream(partial, { mode: 0o600 }));
      await rename(partial, out);
      const rows = manifest.tables.reduce((n, t) => n + t.rows, 0);
      console.log(`Backup written to ${out} (${formatSize((await stat(out)).size)}): ${manifest.tables.length} tables, ${rows} rows, ${manifest.blobs.count} blobs${manifest.blobs.storage === 's3' ? ' listed (their bytes stay in S3)' : ''}`);
      if (manifest.blobs.missing) console.error(`Warning: ${manifest.blobs.missing} blobs were deleted while the backup ran (their rows were deleted after the snapshot)`);
    } finally {
      await db.close();
    }
  } catch (err) {
    await rm(partial, { force: true });
    if (!(err instanceof BackupError)) throw err;
    console.error(err.message);
    process.exit(1);
  }
}

async function restoreCommand(config: Config, args: string[]) {
  const { values } = parseArgs({ args, options: { from: { type: 'string' } } });
  if (!values.from) {
    console.error('Usage: dossier restore --from FILE');
    process.exit(2);
  }
  if (!config.secretKey) {
    console.error(`No secret key: set DOSSIER_SECRET_KEY or put the backed-up installation's secret.key into ${config.dataDir}, then run restore again`);
    process.exit(1);
  }
  const db = await openDb(config, { command: 'restore', migrate: false });
  try {
    const report = await restoreBackup({ db, config, blobs: createBlobStore(config) }, createReadStream(path.resolve(values.from)), migrationsList.map((m) => m.name));
    console.log(`Restored ${report.rows} rows in ${report.tables} tables and ${report.blobs} blobs from ${values.from}`);
    if (report.missingBlobs) console.error(`Warning: ${report.missingBlobs} blobs the database refers to are not in the blob store`);
  } catch (err) {
    if (!(err instanceof BackupError)) throw err;
    console.error(err.message);
    process.exitCode = 1;
  } finally {
    await db.close();
  }
}

const formatSize = (bytes: number) => (bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} KB`);

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stdout.write('Password: ');
  let data = '';
  for await (const chunk of process.stdin) {
    data += chunk;
    if (data.includes('\n')) break;
  }
  return data.split('\n')[0]!.trim();
}

main(process.argv.slice(2)).catch((err) => {
  if (stopping) return; // the shutdown in progress decides the exit code
  if (err instanceof DataDirBusyError) {
    console.error(err.message);
    process.exit(1);
  }
  console.error(err);
  process.exit(1);
});
