// The composition root and CLI: `start` (server + worker in one process), `server`, `worker`,
// `migrate`, `user add`. Builds config, database, queue and blob store once and passes them down.
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pino from 'pino';
import { ConfigError, loadConfig, resolveSecretKey, type Config } from './core/platform/config.ts';
import { openDb, type Db } from './core/platform/db.ts';
import { DataDirBusyError, readDataDirOwner, type DataDirLock } from './core/platform/data-dir-lock.ts';
import { callControl, readJson, startControlServer, type ControlServer } from './cli/control.ts';
import { createBullQueue, createLocalQueue, type JobQueue } from './core/platform/jobs.ts';
import { createBlobStore } from './core/blobs/blob-stores.ts';
import { countUsers, createUser, ensureFirstAdmin } from './core/staff/users.ts';
import { DomainError } from './core/platform/errors.ts';
import { startWorker, type WorkerHandle } from './sync/worker.ts';

type Command = 'start' | 'server' | 'worker' | 'migrate' | 'user';

/** Set once a signal starts the shutdown: start-up work it interrupts may fail, and that's expected. */
let stopping = false;

async function main(argv: string[]) {
  // Everything Dossier writes (embedded database, blobs, secret key, temp files) is its user's alone:
  // files 0600, folders 0700 (issue 12). The stores also set these modes where they create files.
  process.umask(0o077);
  const command = (argv[0] ?? 'start') as Command;
  let config: Config;
  try {
    config = await resolveSecretKey(loadConfig(process.env));
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
  if (!['start', 'server', 'worker'].includes(command)) {
    console.error(`Unknown command "${command}". Use: start | server | worker | migrate | user add`);
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
    const closers = [async () => app?.close(), async () => control?.close(), () => queue.close(), async () => worker?.stop(), async () => redis?.disconnect(), () => db.close()];
    for (const close of closers) await close().catch((err) => log.error({ err }, 'error while closing'));
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  if (command === 'start' || command === 'worker') {
    worker = await startWorker({ config, db, queue, blobs, log, workerId: `${command}-${process.pid}-${randomUUID().slice(0, 8)}`, adoptAccounts: true });
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
    const server = await buildApp({ config, db, queue, blobs, redis, logger: { level: config.logLevel } });
    app = server;
    await server.listen({ port: config.port, host: config.host });
    // Embedded: CLI commands run meanwhile reach this process instead of opening the data dir twice.
    if (lock) {
      control = await startControlServer({ db });
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
