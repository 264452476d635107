// One process per embedded data dir, as real processes: while `start` serves a data dir, CLI commands
// either work through it (user add) or stop with exit 1 and one line (migrate, a second start), never
// opening PGlite a second time; a lock left by a killed process is taken over, and after restarts every
// user is there exactly once.
import t from 'tap';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, runDossier, waitForHttp } from './support/processes.ts';
import { uniqEmail } from './support/env.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
// Two embedded start-ups (migrating PGlite from scratch) and several CLI runs: slow on a loaded machine.
t.setTimeout(900_000);

/** Runs `node src/main.ts ...args` to completion. */
function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'src/main.ts'), ...args], {
      cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const login = async (base: string, email: string, password: string) => {
  const res = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  return { status: res.status, cookie: res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ') };
};

t.test('CLI commands while `start` serves the same data dir', async (t) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'dossier-lock-'));
  const lockFile = path.join(dataDir, 'dossier.lock');
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const admin = uniqEmail('admin');
  const env = { DOSSIER_DATA_DIR: dataDir, PORT: String(port) };

  const server = runDossier('start', { ...env, DOSSIER_ADMIN_EMAIL: admin, DOSSIER_ADMIN_PASSWORD: 'Orchard lantern 58 quartz' });
  t.teardown(() => server.stop('SIGKILL'));
  await waitForHttp(`${base}/api/health`, server, 400_000);
  // The control port is recorded once the server listens; wait for it rather than guessing a delay.
  for (let i = 0; i < 100 && !JSON.parse(readFileSync(lockFile, 'utf8')).control; i++) await new Promise((r) => setTimeout(r, 50));
  const owner = JSON.parse(readFileSync(lockFile, 'utf8')) as { pid: number; command: string; control: { port: number } | null };
  t.equal(owner.pid, server.child.pid, 'the lock holds the server\'s pid');
  t.ok(owner.control, 'the server recorded how the CLI reaches it');

  // user add works through the running server: the new user signs in at once.
  const staff = uniqEmail('staff');
  const added = await cli(['user', 'add', '--email', staff, '--name', 'Staff One', '--role', 'staff', '--password', 'Velvet harbor 31 comet'], env);
  t.equal(added.code, 0, `user add exits 0 (${added.stderr})`);
  t.match(added.stdout, /Created staff \S+ \(through the running Dossier, pid \d+\)/);
  t.equal((await login(base, staff, 'Velvet harbor 31 comet')).status, 200, 'the user added while the server runs can sign in');

  // The same email again: refused with one line, exit 1.
  const again = await cli(['user', 'add', '--email', staff, '--role', 'staff', '--password', 'Granite meadow 72 falcon'], env);
  t.equal(again.code, 1);
  t.equal(again.stderr.trim().split('\n').length, 1, 'one line');
  t.match(again.stderr, /already exists/);

  // Commands that cannot go through the server stop with exit 1 and one line naming it.
  for (const args of [['migrate'], ['start']]) {
    const res = await cli(args, { ...env, PORT: String(await freePort()) });
    t.equal(res.code, 1, `${args[0]} exits 1`);
    t.equal(res.stderr.trim().split('\n').length, 1, `${args[0]}: one line`);
    t.match(res.stderr, new RegExp(`in use by Dossier "start" \\(pid ${server.child.pid}\\)`), `${args[0]} names the running process`);
  }
  t.equal(JSON.parse(readFileSync(lockFile, 'utf8')).pid, server.child.pid, 'the refused commands left the lock alone');

  // backup runs through the server (a consistent snapshot while it serves); restore into a running dir is refused.
  const archive = path.join(mkdtempSync(path.join(os.tmpdir(), 'dossier-lock-backup-')), 'b.tar');
  const backup = await cli(['backup', '--out', archive], env);
  t.equal(backup.code, 0, `backup exits 0 (${backup.stderr})`);
  t.match(backup.stdout, /Backup written to .* through the running Dossier/);
  const refused = await cli(['restore', '--from', archive], env);
  t.equal(refused.code, 1, 'restore into the served data dir exits 1');
  t.match(refused.stderr.trim(), /^The data dir .* is in use by Dossier "start"[^\n]*$/, 'with one line');
  // The archive restores into a new data dir given the same key; the users are there.
  const restoredDir = mkdtempSync(path.join(os.tmpdir(), 'dossier-lock-restored-'));
  copyFileSync(path.join(dataDir, 'secret.key'), path.join(restoredDir, 'secret.key'));
  const restored = await cli(['restore', '--from', archive], { DOSSIER_DATA_DIR: restoredDir });
  t.equal(restored.code, 0, `restore into a new data dir exits 0 (${restored.stderr})`);
  const dup = await cli(['user', 'add', '--email', staff, '--role', 'staff', '--password', 'Saffron tundra 19 beacon'], { DOSSIER_DATA_DIR: restoredDir });
  t.match(dup.stderr, /already exists/, 'the user added through the server is in the backup');
  t.equal((await login(base, admin, 'Orchard lantern 58 quartz')).status, 200, 'the server keeps working');

  // A kill -9 leaves the lock behind with a dead pid: the next process takes it over.
  await server.stop('SIGKILL');
  t.ok(existsSync(lockFile), 'a killed server leaves its lock');
  const offline = uniqEmail('offline');
  const direct = await cli(['user', 'add', '--email', offline, '--role', 'staff', '--password', 'Cobalt willow 64 prairie'], env);
  t.equal(direct.code, 0, `user add with no server opens the data dir itself (${direct.stderr})`);
  t.match(direct.stdout, /^Created staff/);
  t.notOk(existsSync(lockFile), 'and releases the lock when done');

  // Garbage in the lock file (a crash while writing it) counts as stale too.
  writeFileSync(lockFile, '{"pid":');
  const second = runDossier('start', env);
  t.teardown(() => second.stop('SIGKILL'));
  await waitForHttp(`${base}/api/health`, second, 400_000);
  const s = await login(base, admin, 'Orchard lantern 58 quartz');
  t.equal(s.status, 200, 'after the restart the admin signs in');
  t.equal((await login(base, staff, 'Velvet harbor 31 comet')).status, 200, 'the user added through the server is still there');
  t.equal((await login(base, offline, 'Cobalt willow 64 prairie')).status, 200, 'the user added offline is there');
  const users = await (await fetch(`${base}/api/users`, { headers: { cookie: s.cookie } })).json() as { items: { email: string }[] };
  t.same(users.items.map((u) => u.email).sort(), [admin, offline, staff].sort(), 'every user exactly once');
  t.equal(await second.stop('SIGTERM'), 0, 'clean shutdown');
  t.notOk(existsSync(lockFile), 'a clean shutdown removes the lock');
});
