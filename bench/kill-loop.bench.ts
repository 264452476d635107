// `npm run bench:kill`: a worker process killed with -9 at random points, 20 times in a row, while mail keeps arriving
// (issue 14). Then one last worker runs to the end, and every delivered message must be listed exactly once through
// the API (GET /api/messages, every page). Prints the figures; exits 1 when anything was lost, doubled or given up on.
// Own database (dropped and created), own Dovecot, own Redis prefix. Options: --kills 20 --messages 1500 --accounts 3 --seed 7
import { parseArgs } from 'node:util';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureDatabase, pct } from './support.ts';
import { loadConfig } from '../src/core/platform/config.ts';
import { openDb } from '../src/core/platform/db.ts';
import { createBullQueue } from '../src/core/platform/jobs.ts';
import { createLocalBlobStore } from '../src/core/blobs/blob-store.ts';
import { createMailAccount } from '../src/core/mail/accounts.ts';
import { createUser } from '../src/core/staff/users.ts';
import { createApiToken } from '../src/core/staff/sessions.ts';
import { startDovecot, type MailUser } from '../test/support/dovecot.ts';
import { runDossier, type Proc } from '../test/support/processes.ts';

const { values: args } = parseArgs({
  options: {
    kills: { type: 'string', default: '20' },
    messages: { type: 'string', default: '1500' },
    accounts: { type: 'string', default: '3' },
    seed: { type: 'string', default: '7' },
    database: { type: 'string', default: process.env.BENCH_DATABASE_URL?.replace(/\/[^/]*$/, '/dossier_bench_kill') ?? 'postgres://postgres@127.0.0.1:5432/dossier_bench_kill' },
    redis: { type: 'string', default: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
  },
});

/** mulberry32: the kill points and deliveries are the same for the same seed. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function mail(subject: string, attachment: number): Buffer {
  const id = `<${randomUUID()}@kill.bench>`;
  const head = `From: Client <client@kill.bench>\r\nTo: Firm <firm@kill.bench>\r\nSubject: ${subject}\r\nMessage-ID: ${id}\r\nDate: ${new Date().toUTCString()}\r\nMIME-Version: 1.0\r\n`;
  if (!attachment) return Buffer.from(`${head}Content-Type: text/plain\r\n\r\nBody of ${subject}\r\n`);
  const b = 'b-' + randomUUID();
  const data = randomBytes(attachment).toString('base64').replace(/.{76}/g, '$&\r\n');
  return Buffer.from(`${head}Content-Type: multipart/mixed; boundary="${b}"\r\n\r\n--${b}\r\nContent-Type: text/plain\r\n\r\nSee attached: ${subject}\r\n--${b}\r\nContent-Type: application/octet-stream; name="a.bin"\r\nContent-Disposition: attachment; filename="a.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n${data}\r\n--${b}--\r\n`);
}

async function main() {
  const kills = Number(args.kills);
  const initial = Number(args.messages);
  const accountsN = Number(args.accounts);
  const rand = prng(Number(args.seed));
  console.log(`Kill loop: ${kills} × kill -9 of the worker at random points, ${initial} messages to start with in ${accountsN} accounts, mail delivered throughout; ${os.availableParallelism()} cores, Node ${process.version}`);
  await ensureDatabase(args.database!, true);
  await (await openDb({ databaseUrl: args.database!, dataDir: '/nonexistent' })).close(); // migrates
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'dossier-bench-kill-'));
  const prefix = `dossier-bench-kill-${randomUUID().slice(0, 8)}`;
  const secret = randomBytes(32).toString('hex');
  const config = loadConfig({ DATABASE_URL: args.database, REDIS_URL: args.redis, DOSSIER_SECRET_KEY: secret, DOSSIER_DATA_DIR: dataDir, DOSSIER_QUEUE_PREFIX: prefix, LOG_LEVEL: 'silent', DOSSIER_ALLOW_PRIVATE_MAIL_HOSTS: 'true', DOSSIER_SYNC_INTERVAL: '10' });
  const env = {
    DATABASE_URL: args.database!, REDIS_URL: args.redis!, DOSSIER_SECRET_KEY: secret, DOSSIER_DATA_DIR: dataDir, DOSSIER_QUEUE_PREFIX: prefix,
    // A run that a kill interrupted is picked up by the next worker's scheduler within 10 s at most.
    DOSSIER_SYNC_INTERVAL: '10', LOG_LEVEL: 'error', DOSSIER_ALLOW_PRIVATE_MAIL_HOSTS: 'true',
    MALLOC_ARENA_MAX: '2',
  };
  const dovecot = await startDovecot();
  const db = await openDb(config, { migrate: false, poolMax: 4 });
  const procs: Proc[] = [];
  try {
    const em = db.em.fork();
    const user = await createUser(em, { email: `kill-${randomUUID().slice(0, 6)}@dossier.bench`, name: 'Kill loop', password: 'bench-password-123', role: 'staff' });
    const { token } = createApiToken(em, user, 'bench');
    const boxes: { mail: MailUser; id: string }[] = [];
    for (let i = 0; i < accountsN; i++) {
      const m = await dovecot.addUser({ prefix: `kill${i}` });
      const a = await createMailAccount(em, user, {
        name: `Kill ${i}`, email: m.email, visibility: 'private',
        imap: { host: m.host, port: m.port, secure: false, allowInsecure: true, username: m.user, password: m.password },
        smtp: { host: m.host, port: 25, secure: false, username: m.user, password: m.password },
      }, config.secretKey);
      boxes.push({ mail: m, id: a.id });
    }
    await em.flush();
    // Warm-up: Dovecot's auth process may still be starting.
    for (let i = 0; ; i++) {
      try {
        await dovecot.appendMany(boxes[0]!.mail.user, [mail('warm-up', 0)], { folder: 'Trash' });
        break;
      } catch (err) {
        if (i > 20) throw err;
        await sleep(250);
      }
    }
    const delivered = new Map<string, string[]>(boxes.map((b) => [b.id, []]));
    let n = 0;
    const deliver = async (count: number) => {
      const per = new Map<number, Buffer[]>();
      for (let i = 0; i < count; i++) {
        const k = Math.floor(rand() * boxes.length);
        const subject = `Kill ${n++}`;
        delivered.get(boxes[k]!.id)!.push(subject);
        per.set(k, [...(per.get(k) ?? []), mail(subject, rand() < 0.3 ? 20_000 + Math.floor(rand() * 200_000) : 0)]);
      }
      for (const [k, raws] of per) await dovecot.appendMany(boxes[k]!.mail.user, raws);
    };
    for (let i = 0; i < initial; i += 250) await deliver(Math.min(250, initial - i));
    console.log(`delivered ${n} messages to start with`);

    const stored = async () => (await db.em.fork().execute<{ n: number }[]>("select count(*)::int as n from message_location l where l.removed_at is null", []))[0]!.n;
    // Mail keeps arriving through the whole loop: a few messages every 300 ms.
    let delivering = true;
    const trickle = (async () => {
      while (delivering) {
        await deliver(1 + Math.floor(rand() * 3));
        await sleep(300);
      }
    })();

    const t0 = performance.now();
    const killRows: { after: number; startup: number; stored: number }[] = [];
    for (let k = 0; k < kills; k++) {
      const w = runDossier('worker', env);
      procs.push(w);
      // A random point of its work: 0 to 4 s after it took its first account (a sync lease names its pid).
      const startedAt = performance.now();
      for (;;) {
        const held = await db.em.fork().execute<{ n: number }[]>('select count(*)::int as n from mail_account where lease_owner like ?', [`%/${w.child.pid}/%`]);
        if (held[0]!.n > 0) break;
        if (w.child.exitCode !== null) throw new Error(`worker ${k} exited by itself:\n${w.output().slice(-3000)}`);
        if (performance.now() - startedAt > 120_000) throw new Error(`worker ${k} took no account in 120 s:\n${w.output().slice(-3000)}`);
        await sleep(20);
      }
      const startup = performance.now() - startedAt;
      const after = Math.floor(rand() * 4000);
      await sleep(after);
      if (w.child.exitCode !== null) throw new Error(`worker ${k} exited by itself:\n${w.output().slice(-3000)}`);
      w.child.kill('SIGKILL');
      await w.exited;
      killRows.push({ after, startup, stored: await stored() });
      process.stdout.write(`kill ${String(k + 1).padStart(2)}: ${String(after).padStart(4)} ms into its work (took its first account ${(startup / 1000).toFixed(1)} s after start): ${killRows.at(-1)!.stored} stored of ${n} delivered\n`);
    }
    delivering = false;
    await trickle;
    const loopS = (performance.now() - t0) / 1000;

    // The last worker runs to the end.
    const last = runDossier('worker', env);
    procs.push(last);
    const t1 = performance.now();
    const total = n;
    for (;;) {
      if ((await stored()) >= total) break;
      if (last.child.exitCode !== null) throw new Error(`the last worker exited:\n${last.output().slice(-3000)}`);
      if (performance.now() - t1 > 600_000) break;
      await sleep(250);
    }
    const convergeS = (performance.now() - t1) / 1000;

    // Counted through the API, every page.
    const { buildApp } = await import('../src/server/app.ts');
    const { Redis } = await import('ioredis');
    const redis = new Redis(args.redis!, { maxRetriesPerRequest: null });
    const queue = createBullQueue(args.redis!, prefix);
    const app = await buildApp({ config, db, queue, blobs: createLocalBlobStore(config.blobDir), redis, webRoot: null, logger: false });
    await app.ready();
    let missing = 0;
    let twice = 0;
    let extra = 0;
    for (const b of boxes) {
      const seen = new Map<string, number>();
      let cursor: string | null = null;
      do {
        const res = await app.inject({ method: 'GET', url: `/api/messages?accountId=${b.id}&limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, headers: { authorization: `Bearer ${token}` } });
        const page = res.json() as { items: { subject: string }[]; nextCursor: string | null };
        for (const m of page.items) seen.set(m.subject, (seen.get(m.subject) ?? 0) + 1);
        cursor = page.nextCursor;
      } while (cursor);
      const want = new Set(delivered.get(b.id));
      for (const s of want) if (!seen.has(s)) missing++;
      for (const [s, c] of seen) {
        if (c > 1) twice++;
        if (!want.has(s)) extra++;
      }
    }
    const failed = (await db.em.fork().execute<{ n: number }[]>("select count(*)::int as n from message where parse_status <> 'ok'", []))[0]!.n;
    const dupUids = (await db.em.fork().execute<{ n: number }[]>('select count(*)::int as n from (select 1 from message_location group by mailbox_id, uid_validity, uid having count(*) > 1) d', []))[0]!.n;
    await app.close();
    await queue.close();
    redis.disconnect();

    const storedAtKill = killRows.map((r) => r.stored);
    console.log('');
    console.log(`kills: ${kills} (kill points ${Math.min(...killRows.map((r) => r.after))}–${Math.max(...killRows.map((r) => r.after))} ms into the work, median ${pct(killRows.map((r) => r.after), 50)} ms; a worker took its first account a median ${(pct(killRows.map((r) => r.startup), 50) / 1000).toFixed(1)} s after it started), loop ${loopS.toFixed(0)} s`);
    console.log(`stored at the kills: ${storedAtKill.join(' ')}`);
    console.log(`delivered ${total} messages; after the last restart all were stored in ${convergeS.toFixed(1)} s`);
    console.log(`through the API: missing ${missing}, listed twice ${twice}, unexpected ${extra}; UIDs stored twice ${dupUids}; given up on (poison) or failed parses ${failed}`);
    const ok = missing === 0 && twice === 0 && extra === 0 && dupUids === 0 && failed === 0;
    console.log(ok ? 'RESULT: every message exactly once' : 'RESULT: FAILED');
    await last.stop('SIGTERM');
    if (!ok) process.exitCode = 1;
  } finally {
    for (const p of procs) await p.stop('SIGKILL');
    await db.close();
    await dovecot.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(process.exitCode ?? 0), (err) => {
  console.error(err);
  process.exit(1);
});
