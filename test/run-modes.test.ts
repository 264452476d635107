// The two ways to run Dossier, as real processes: embedded (PGlite, in-process jobs) keeps its data
// across a restart; scaled (PostgreSQL + Redis) lets a separate worker process run what the server enqueues.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { freePort, runDossier, waitForHttp } from './support/processes.ts';
import { TEST_DATABASE_URL, TEST_REDIS_URL, uniqEmail } from './support/env.ts';

const login = async (base: string, email: string, password: string) => {
  const res = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  const body = await res.json() as { csrfToken: string };
  return { status: res.status, cookie: res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; '), csrf: body.csrfToken };
};

t.test('embedded mode: starts with nothing configured and keeps data across a restart', async (t) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'dossier-embedded-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const email = uniqEmail('admin');
  const env = { DOSSIER_DATA_DIR: dataDir, PORT: String(port), DOSSIER_ADMIN_EMAIL: email, DOSSIER_ADMIN_PASSWORD: 'first admin pw' };

  const first = runDossier('start', env);
  t.teardown(() => first.stop('SIGKILL'));
  await waitForHttp(`${base}/api/health`, first);
  t.match(first.output(), /running at/, 'prints where it listens');
  const s = await login(base, email, 'first admin pw');
  t.equal(s.status, 200, 'first admin created from the environment');
  const created = await fetch(`${base}/api/tokens`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: s.cookie, 'x-csrf-token': s.csrf }, body: JSON.stringify({ name: 'survives' }) });
  t.equal(created.status, 201);
  // A job through the in-process queue.
  const ping = await fetch(`${base}/api/system/ping`, { method: 'POST', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf } });
  const { id } = await ping.json() as { id: string };
  let done = false;
  for (let i = 0; i < 50 && !done; i++) {
    done = (await (await fetch(`${base}/api/system/ping/${id}`, { headers: { cookie: s.cookie } })).json() as { done: boolean }).done;
    if (!done) await new Promise((r) => setTimeout(r, 100));
  }
  t.ok(done, 'in-process worker ran the job');
  t.equal(await first.stop('SIGTERM'), 0, 'SIGTERM shuts down cleanly');
  // The embedded database and the secret key are the installation's user's alone (issue 12).
  const open: string[] = [];
  const walk = (dir: string) => {
    if ((statSync(dir).mode & 0o777) !== 0o700) open.push(`${dir} ${(statSync(dir).mode & 0o777).toString(8)}`);
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if ((statSync(full).mode & 0o077) !== 0) open.push(`${full} ${(statSync(full).mode & 0o777).toString(8)}`);
    }
  };
  walk(path.join(dataDir, 'db'));
  t.equal((statSync(path.join(dataDir, 'secret.key')).mode & 0o777), 0o600, 'secret key 0600');
  t.same(open.slice(0, 5), [], 'database files 0600 (or stricter) in 0700 folders');

  const second = runDossier('start', { ...env, DOSSIER_ADMIN_PASSWORD: 'ignored the second time' });
  t.teardown(() => second.stop('SIGKILL'));
  await waitForHttp(`${base}/api/health`, second);
  const again = await login(base, email, 'first admin pw');
  t.equal(again.status, 200, 'the user is still there');
  const tokens = await (await fetch(`${base}/api/tokens`, { headers: { cookie: again.cookie } })).json() as { items: { name: string }[] };
  t.same(tokens.items.map((x) => x.name), ['survives'], 'data written before the restart is kept');
  t.equal(await second.stop('SIGTERM'), 0);
});

t.test('scaled mode: a job enqueued by the server runs in a separate worker process', async (t) => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const email = uniqEmail('admin');
  const env = {
    DATABASE_URL: TEST_DATABASE_URL, REDIS_URL: TEST_REDIS_URL, DOSSIER_SECRET_KEY: randomBytes(32).toString('hex'),
    DOSSIER_QUEUE_PREFIX: `dossier-test-${randomUUID().slice(0, 8)}`, DOSSIER_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'dossier-scaled-')),
  };
  // The CLI creates users in scaled mode (the shared test database already has users, so no env bootstrap).
  // A weak password is refused with the reason (issue 12).
  const weak = (() => {
    try {
      execFileSync(process.execPath, ['src/main.ts', 'user', 'add', '--email', uniqEmail('weak'), '--password', 'password1234'], { env: { ...process.env, ...env, LOG_LEVEL: 'warn' }, stdio: 'pipe' });
      return null;
    } catch (err) {
      return err as { status: number; stderr: Buffer };
    }
  })();
  t.ok(weak && weak.status !== 0, 'the CLI refuses a weak password');
  t.match(String(weak?.stderr), /too easy to guess/);
  execFileSync(process.execPath, ['src/main.ts', 'user', 'add', '--email', email, '--role', 'admin', '--password', 'scaled admin pw'], { env: { ...process.env, ...env, LOG_LEVEL: 'warn' } });
  const server = runDossier('server', { ...env, PORT: String(port) });
  t.teardown(() => server.stop('SIGKILL'));
  await waitForHttp(`${base}/api/health`, server);
  const s = await login(base, email, 'scaled admin pw');
  t.equal(s.status, 200);
  const ping = await fetch(`${base}/api/system/ping`, { method: 'POST', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf } });
  t.equal(ping.status, 202);
  const { id } = await ping.json() as { id: string };
  const poll = async () => (await (await fetch(`${base}/api/system/ping/${id}`, { headers: { cookie: s.cookie } })).json() as { done: boolean }).done;
  // The queue itself says whether anyone works it ('dossier' is the queue's name in src/core/platform/jobs.ts; the
  // worker below registering on it shows this looks at the right queue). A job is taken only by a registered
  // worker, so with none registered after the job is in, nothing can run it.
  const bull = new Queue('dossier', { connection: { url: TEST_REDIS_URL }, prefix: env.DOSSIER_QUEUE_PREFIX });
  t.teardown(() => bull.close());
  t.same(await bull.getWorkers(), [], 'the server registered no worker on its queue');
  t.match(await bull.getJobCounts('waiting', 'active', 'completed', 'failed'), { waiting: 1, active: 0, completed: 0, failed: 0 }, 'the ping waits, untaken');
  t.notOk(await poll(), 'the server alone runs no jobs');

  const worker = runDossier('worker', env);
  t.teardown(() => worker.stop('SIGKILL'));
  let done = false;
  for (let i = 0; i < 150 && !done; i++) {
    done = await poll();
    if (!done) await new Promise((r) => setTimeout(r, 100));
  }
  t.ok(done, 'the worker process ran the job');
  t.equal((await bull.getWorkers()).length, 1, 'the worker process is registered on the queue the server fills');
  t.equal(await worker.stop('SIGTERM'), 0, 'worker drains and exits cleanly');
  t.equal(await server.stop('SIGTERM'), 0, 'server exits cleanly');
});
