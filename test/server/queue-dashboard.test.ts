// The BullMQ dashboard at /admin/queues: administrators only (staff 403, strangers 401), scaled mode only
// (embedded: 404, never the web app's shell), and it lists the installation's queue.
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLocalQueue } from '../../src/core/platform/jobs.ts';
import { startTestApp, userSession } from '../support/app.ts';

// A web root as in production, so the dashboard's own static files must live beside the app's.
const webRoot = mkdtempSync(path.join(os.tmpdir(), 'dossier-web-'));
writeFileSync(path.join(webRoot, 'index.html'), '<!doctype html><title>Dossier</title>');

t.test('scaled mode: admins see the dashboard, staff and strangers do not', async (t) => {
  const ta = await startTestApp({ webRoot });
  t.teardown(ta.close);
  const admin = await userSession(ta, 'admin');
  const staff = await userSession(ta, 'staff');
  await ta.queue.enqueue('ping', { text: 'dashboard', at: Date.now() }, { delayMs: 3600_000 });

  const page = await admin.request('GET', '/admin/queues');
  t.equal(page.statusCode, 200);
  t.match(page.headers['content-type'], /text\/html/);
  t.match(page.body, /__UI_CONFIG__/, 'the dashboard itself, not the web app');
  const api = await admin.request('GET', '/admin/queues/api/queues?activeQueue=dossier&status=delayed&page=1');
  t.equal(api.statusCode, 200);
  const queues = (api.json() as { queues: { name: string; counts: Record<string, number> }[] }).queues;
  t.same(queues.map((q) => q.name), ['dossier']);
  t.equal(queues[0]!.counts.delayed, 1, `the delayed job is counted: ${JSON.stringify(queues[0]!.counts)}`);

  t.equal((await staff.request('GET', '/admin/queues')).statusCode, 403);
  t.equal((await staff.request('GET', '/admin/queues/api/queues')).statusCode, 403);
  t.equal((await ta.app.inject({ method: 'GET', url: '/admin/queues' })).statusCode, 401);
  t.equal((await ta.app.inject({ method: 'GET', url: '/admin/queues/api/queues' })).statusCode, 401);
  const forged = await admin.request('PUT', '/admin/queues/api/queues/dossier/pause', undefined, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' });
  t.equal(forged.statusCode, 403, 'a cross-site write is refused');
  t.equal((await ta.app.inject({ method: 'GET', url: '/' })).statusCode, 200, 'the web app is still served');
});

t.test('embedded mode: 404, not the web app', async (t) => {
  const ta = await startTestApp({ webRoot, queue: createLocalQueue() });
  t.teardown(ta.close);
  const admin = await userSession(ta, 'admin');
  t.equal((await admin.request('GET', '/admin/queues')).statusCode, 404);
  t.equal((await admin.request('GET', '/admin/queues/api/queues')).statusCode, 404);
});
