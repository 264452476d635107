// Test harness: a private Redis and a private PostgreSQL on free loopback ports, each in a temp dir of its own, that a
// test may kill and restart (fault tests, issue 14). Never the machine's services: those are shared by every test file.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './processes.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { encoding: 'utf8', env: opts.env ?? process.env }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${path.basename(cmd)} ${args.join(' ')} failed: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

// ---------------------------------------------------------------- Redis

export type PrivateRedis = {
  url: string;
  port: number;
  /** kill -9, as a crash or an OOM kill would; the AOF (appendfsync always) keeps every acknowledged write. */
  kill: () => Promise<void>;
  /** Starts it again on the same port and data dir (after kill). */
  start: () => Promise<void>;
  close: () => Promise<void>;
};

const REDIS_NOT_FOUND = 'redis-server not found: apt-get install -y redis-server';

/** redis-server on a free port with AOF on (appendfsync always) in its own temp dir. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const bin = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((b) => existsSync(b));
  if (!bin) throw new Error(REDIS_NOT_FOUND);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dossier-redis-'));
  const port = await freePort();
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  const ping = async () => {
    try {
      return (await run('redis-cli', ['-p', String(port), 'ping'])).trim() === 'PONG';
    } catch {
      return false;
    }
  };
  const start = async () => {
    let out = '';
    // noeviction, as BullMQ requires; no RDB snapshots: the AOF alone is the persistence under test.
    child = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always',
      '--save', '', '--maxmemory-policy', 'noeviction', '--daemonize', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const c = child;
    exited = new Promise((resolve) => c.once('exit', () => resolve()));
    const end = Date.now() + 20_000;
    while (!(await ping())) {
      if (c.exitCode !== null) throw new Error(`redis-server exited: ${out}`);
      if (Date.now() > end) throw new Error(`redis-server did not answer: ${out}`);
      await sleep(50);
    }
  };
  const kill = async () => {
    child?.kill('SIGKILL');
    await exited;
    child = null;
  };
  await start();
  process.once('exit', () => child?.kill('SIGKILL'));
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill,
    start,
    close: async () => {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------- PostgreSQL

export type PrivatePostgres = {
  /** postgres://postgres@127.0.0.1:PORT/postgres */
  adminUrl: string;
  port: number;
  /** A new database on this server. */
  createDatabase: (name: string) => Promise<string>;
  /** `pg_ctl stop -m immediate`: every backend killed at once, crash recovery at the next start. */
  stopImmediate: () => Promise<void>;
  start: () => Promise<void>;
  close: () => Promise<void>;
};

function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a)) : [];
  if (!versions.length) throw new Error('initdb not found under /usr/lib/postgresql: apt-get install -y postgresql');
  return path.join(root, versions[0]!, 'bin');
}

/**
 * initdb + pg_ctl in a temp dir on a free port, run as the postgres user (PostgreSQL refuses to run as root), trust
 * auth on loopback only. fsync stays on: a restart must find what was committed.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBin();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dossier-pg-'));
  const data = path.join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  const pgUser = asRoot ? Number((await run('id', ['-u', 'postgres'])).trim()) : null;
  const pgGroup = asRoot ? Number((await run('id', ['-g', 'postgres'])).trim()) : null;
  if (asRoot) await chown(dir, pgUser!, pgGroup!);
  const as = (cmd: string, args: string[]) => (asRoot ? run('runuser', ['-u', 'postgres', '--', cmd, ...args]) : run(cmd, args));
  await as(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-instructions']);
  const port = await freePort();
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=60 -c shared_buffers=32MB -c fsync=on`;
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const ready = async () => {
    const end = Date.now() + 30_000;
    for (;;) {
      const c = new pg.Client({ connectionString: adminUrl });
      try {
        await c.connect();
        await c.query('select 1');
        await c.end();
        return;
      } catch (err) {
        await c.end().catch(() => undefined);
        if (Date.now() > end) throw err;
        await sleep(100);
      }
    }
  };
  const start = async () => {
    await as(path.join(bin, 'pg_ctl'), ['-D', data, '-l', path.join(dir, 'log'), '-o', opts, '-w', 'start']);
    await ready();
  };
  const stopImmediate = async () => {
    await as(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
  };
  await start();
  let closed = false;
  // A test process that dies must not leave a server behind.
  process.once('exit', () => {
    if (!closed) spawn('runuser', ['-u', 'postgres', '--', path.join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', 'stop'], { stdio: 'ignore', detached: true }).unref();
  });
  return {
    adminUrl,
    port,
    createDatabase: async (name) => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`create database "${name}"`);
      } finally {
        await c.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    stopImmediate,
    start,
    close: async () => {
      closed = true;
      await stopImmediate().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
