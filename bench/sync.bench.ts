// Sync benchmark (`npm run bench:sync [-- --count 20000] [--latency 20]`): generates a deterministic
// mailbox (mostly 3–30 KB, ~15% with 50 KB–2 MB attachments, a few of 10–25 MB, threads, a few thousand
// addresses), appends it to a Dovecot it starts, and measures in separate processes (clean peak RSS):
// (a) raw imapflow fetch of every source, (b) fetch + parse in one process, (c) the full Dossier
// pipeline into PostgreSQL. Then new-mail latency: append → visible through the API, over N deliveries.
// Targets (issue 3): c/b ≥ 1.0 on 20,000 messages, worker peak RSS ≤ 300 MB, latency p50 ≤ 1 s, p95 ≤ 2 s.
// BENCH_DETAIL=1 also prints, for (c), CPU per thread kind and of PostgreSQL, and memory at peak RSS.
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureDatabase, pct } from './support.ts';
import { Redis } from 'ioredis';
import { loadConfig, type Config } from '../src/core/platform/config.ts';
import { openDb } from '../src/core/platform/db.ts';
import { createLocalBlobStore } from '../src/core/blobs/blob-store.ts';
import { createBullQueue } from '../src/core/platform/jobs.ts';
import { createMailAccount } from '../src/core/mail/accounts.ts';
import { createUser } from '../src/core/staff/users.ts';
import { createApiToken } from '../src/core/staff/sessions.ts';
import { openImap, closeImap } from '../src/sync/imap.ts';
import { parseMessage } from '../src/sync/parse-message.ts';
import { createAccountRuntime } from '../src/sync/account-runtime.ts';
import { syncAccount } from '../src/sync/sync-account.ts';
import { startWorker } from '../src/sync/worker.ts';
import type { WorkerDeps } from '../src/sync/worker-deps.ts';
import { startDovecot, type Dovecot, type MailUser } from '../test/support/dovecot.ts';

const { values: args } = parseArgs({
  options: {
    count: { type: 'string', default: '20000' },
    latency: { type: 'string', default: '20' },
    seed: { type: 'string', default: '42' },
    phase: { type: 'string' },
    config: { type: 'string' },
    database: { type: 'string', default: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/dossier_bench_sync' },
    redis: { type: 'string', default: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
  },
});

type Target = { host: string; port: number; user: string; password: string; database: string; redis: string; dataDir: string; secretKey: string; count: number };
type PhaseResult = { phase: string; messages: number; bytes: number; ms: number; maxRssMb: number; cpuS: number; parsed?: Record<string, number> };

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const MB = 1024 * 1024;
const maxRssMb = () => process.resourceUsage().maxRSS / 1024;
/** CPU seconds this process used (all its threads): what a phase costs, whatever else the machine runs. */
const cpuS = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

// ---------------------------------------------------------------- deterministic mailbox

/** mulberry32: a small seeded PRNG, so every run builds the same mailbox. */
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

const WORDS = 'the of and to in is you that it he was for on are as with his they at be this have from or one had by word but not what all were we when your can said there use an each which she do how their if will up other about out many then them these so some her would make like him into time has look two more write go see number no way could people my than first water been call who oil its now find long down day did get come made may part invoice tax return meeting agreement contract please attached regards thanks document'.split(' ');

function makeMailbox(count: number, seed: number) {
  const rnd = prng(seed);
  const pick = <T>(a: T[]) => a[Math.floor(rnd() * a.length)]!;
  const addresses = Array.from({ length: Math.min(3000, Math.max(50, Math.floor(count / 4))) }, (_, i) => `person${i}@client${i % 400}.example`);
  const ids: string[] = [];
  const huge = new Set<number>();
  // "A few" messages of 10–25 MB: one per 2,000 (at least one once the mailbox has 200 messages).
  const hugeCount = count >= 200 ? Math.max(1, Math.floor(count / 2000)) : 0;
  for (let i = 0; i < hugeCount; i++) huge.add(Math.floor(((i + 0.5) * count) / hugeCount));
  const text = (bytes: number) => {
    const out: string[] = [];
    let n = 0;
    let line = '';
    while (n < bytes) {
      const w = pick(WORDS);
      line += (line ? ' ' : '') + w;
      if (line.length > 70) {
        out.push(line);
        n += line.length + 2;
        line = '';
      }
    }
    out.push(line);
    return out.join('\r\n');
  };
  const binary = (bytes: number, i: number) => {
    // Incompressible but deterministic: a hash chain.
    const chunks: Buffer[] = [];
    let h = createHash('sha256').update(`${seed}:${i}`).digest();
    for (let n = 0; n < bytes; n += 32) {
      h = createHash('sha256').update(h).digest();
      chunks.push(h);
    }
    return Buffer.concat(chunks).subarray(0, bytes);
  };
  return (i: number): Buffer => {
    const id = `<bench-${seed}-${i}@dossier.bench>`;
    ids.push(id);
    const from = pick(addresses);
    const to = [pick(addresses), ...(rnd() < 0.3 ? [pick(addresses)] : [])];
    const reply = i > 10 && rnd() < 0.35 ? ids[Math.floor(rnd() * (ids.length - 1))] : null;
    const date = new Date(Date.UTC(2024, 0, 1) + i * 600_000).toUTCString().replace('GMT', '+0000');
    const head = [
      `From: Person ${from.split('@')[0]} <${from}>`, `To: ${to.join(', ')}`, `Subject: ${reply ? 'Re: ' : ''}${text(30).split('\r\n')[0]} ${i}`,
      `Date: ${date}`, `Message-ID: ${id}`, ...(reply ? [`In-Reply-To: ${reply}`, `References: ${reply}`] : []), 'MIME-Version: 1.0',
    ];
    const body = text(3000 + Math.floor(rnd() * 27_000));
    let attachment = 0;
    if (huge.has(i)) attachment = 10 * MB + Math.floor(rnd() * 15 * MB);
    else if (rnd() < 0.15) attachment = 50_000 + Math.floor(rnd() * rnd() * (2 * MB - 50_000));
    if (!attachment) return Buffer.from([...head, 'Content-Type: text/plain; charset=utf-8', '', body, ''].join('\r\n'));
    const b = `bench-${i}`;
    const b64 = binary(Math.floor(attachment * 0.74), i).toString('base64').replace(/.{76}/g, '$&\r\n');
    return Buffer.from([...head, `Content-Type: multipart/mixed; boundary="${b}"`, '', `--${b}`, 'Content-Type: text/plain; charset=utf-8', '', body,
      `--${b}`, `Content-Type: application/pdf; name="doc-${i}.pdf"`, `Content-Disposition: attachment; filename="doc-${i}.pdf"`,
      'Content-Transfer-Encoding: base64', '', b64, `--${b}--`, ''].join('\r\n'));
  };
}

// ---------------------------------------------------------------- phases (each in its own process)

function benchConfig(t: Target): Config {
  return loadConfig({ DATABASE_URL: t.database, REDIS_URL: t.redis, DOSSIER_SECRET_KEY: t.secretKey, DOSSIER_DATA_DIR: t.dataDir, DOSSIER_QUEUE_PREFIX: `bench-${randomUUID().slice(0, 6)}`, DOSSIER_SYNC_INTERVAL: '3600', DOSSIER_PARSE_THREADS: process.env.DOSSIER_PARSE_THREADS, DOSSIER_ALLOW_PRIVATE_MAIL_HOSTS: 'true' });
}

async function phaseRaw(t: Target, parse: boolean): Promise<PhaseResult> {
  const client = await openImap({ host: t.host, port: t.port, secure: false, allowInsecure: true, username: t.user, password: t.password }, { hosts: { allowPrivate: true } });
  await client.mailboxOpen('INBOX', { readOnly: true });
  let messages = 0;
  let bytes = 0;
  const parsed: Record<string, number> = {};
  const cpu0 = cpuS();
  const started = performance.now();
  for await (const m of client.fetch('1:*', { uid: true, source: true }, { uid: true })) {
    messages++;
    bytes += m.source?.length ?? 0;
    if (parse && m.source) {
      const p = await parseMessage(m.source);
      parsed[p.parseStatus] = (parsed[p.parseStatus] ?? 0) + 1;
    }
  }
  const ms = performance.now() - started;
  await closeImap(client);
  return { phase: parse ? 'b' : 'a', messages, bytes, ms, maxRssMb: maxRssMb(), cpuS: cpuS() - cpu0, ...(parse ? { parsed } : {}) };
}

async function phasePipeline(t: Target): Promise<PhaseResult> {
  const config = benchConfig(t);
  const db = await openDb(config, { migrate: false, poolMax: 8 });
  const blobs = createLocalBlobStore(config.blobDir);
  const em = db.em.fork();
  const owner = await createUser(em, { email: `bench-${randomUUID().slice(0, 6)}@dossier.bench`, name: 'Bench', password: 'bench-password-123', role: 'staff' });
  const account = await createMailAccount(em, owner, {
    name: 'Bench', email: `${t.user}@dossier.bench`, visibility: 'private',
    imap: { host: t.host, port: t.port, secure: false, allowInsecure: true, username: t.user, password: t.password },
    smtp: { host: t.host, port: 25, secure: false, username: t.user, password: t.password },
  }, config.secretKey);
  await em.flush();
  const deps: WorkerDeps = { config, db, blobs, queue: createBullQueue(t.redis, config.queuePrefix), log: silent, workerId: 'bench' };
  const runtime = createAccountRuntime(deps);
  const cpu0 = cpuS();
  const peak = process.env.BENCH_DETAIL ? samplePeakMemory() : null;
  const started = performance.now();
  const outcome = await syncAccount(deps, { pool: runtime.pool }, account.id, { reason: 'manual' });
  const ms = performance.now() - started;
  const cpu = cpuS() - cpu0;
  if (peak) await printDetail(db, peak.stop());
  if (outcome.outcome !== 'done') throw new Error(`sync failed: ${JSON.stringify(outcome)}`);
  const rows = await db.em.fork().execute<{ n: number; bytes: string; status: string }[]>(
    `select count(*)::int as n, sum(m.raw_size)::text as bytes, m.parse_status as status from message_location l join mailbox b on b.id = l.mailbox_id
       join message m on m.id = l.message_id where b.account_id = ? and b.path = 'INBOX' group by m.parse_status`, [account.id]);
  const parsed = Object.fromEntries(rows.map((r) => [r.status, r.n]));
  await runtime.close();
  await deps.queue.close();
  await db.close();
  return { phase: 'c', messages: rows.reduce((n, r) => n + r.n, 0), bytes: rows.reduce((n, r) => n + Number(r.bytes), 0), ms, maxRssMb: maxRssMb(), cpuS: cpu, parsed };
}

// ---------------------------------------------------------------- BENCH_DETAIL=1: where the pipeline's resources go

const cpuOfStat = (stat: string) => {
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in clock ticks of 10 ms
};

/** Samples memory every 5 ms; stop() gives the usage at peak RSS and the highest main-heap use. */
function samplePeakMemory() {
  let atPeak = process.memoryUsage();
  let maxHeapUsed = 0;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    if (m.rss > atPeak.rss) atPeak = m;
    maxHeapUsed = Math.max(maxHeapUsed, m.heapUsed);
  }, 5);
  return {
    stop: () => {
      clearInterval(timer);
      return { atPeak, maxHeapUsed };
    },
  };
}

/** CPU per kind of thread of this process, of this database's PostgreSQL backends, and memory at peak. */
async function printDetail(db: Awaited<ReturnType<typeof openDb>>, mem: { atPeak: NodeJS.MemoryUsage; maxHeapUsed: number }) {
  const byKind: Record<string, number> = {};
  for (const tid of readdirSync('/proc/self/task')) {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const kind = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    byKind[kind] = (byKind[kind] ?? 0) + cpuOfStat(stat);
  }
  // The pool's connections are still open: their backends' CPU is what the pipeline cost PostgreSQL.
  const pids = await db.em.fork().execute<{ pid: number }[]>('select pid from pg_stat_activity where datname = current_database()');
  let pg = 0;
  for (const { pid } of pids) pg += cpuOfStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  console.error(`    CPU s: ${Object.entries(byKind).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}; PostgreSQL ${pg.toFixed(1)}`);
  console.error(`    memory at peak RSS (MB): ${Object.entries(mem.atPeak).map(([k, v]) => `${k} ${(v / MB).toFixed(0)}`).join(', ')}; main heap used at most ${(mem.maxHeapUsed / MB).toFixed(0)}`);
}

function runPhase(phase: 'a' | 'b' | 'c', target: Target): Promise<PhaseResult> {
  return new Promise((resolve, reject) => {
    // Every phase runs with the memory settings of `npm run worker` (package.json, README "Memory").
    const child = spawn(process.execPath, ['--max-semi-space-size=2', import.meta.filename, '--phase', phase, '--config', JSON.stringify(target)], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, MALLOC_ARENA_MAX: '2', NODE_COMPILE_CACHE: path.join(import.meta.dirname, '../node_modules/.cache/node-compile') },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code === 0) resolve(JSON.parse(line) as PhaseResult);
      else reject(new Error(`phase ${phase} exited with ${code}: ${out}`));
    });
  });
}

// ---------------------------------------------------------------- new-mail latency

async function measureLatency(t: Target, dovecot: Dovecot, mail: MailUser, deliveries: number, seed: number): Promise<number[]> {
  const config = benchConfig(t);
  const db = await openDb(config, { migrate: false, poolMax: 8 });
  const blobs = createLocalBlobStore(config.blobDir);
  const redis = new Redis(t.redis, { maxRetriesPerRequest: null });
  const apiQueue = createBullQueue(t.redis, config.queuePrefix);
  const worker = await startWorker({ config, db, blobs, queue: createBullQueue(t.redis, config.queuePrefix), log: silent, workerId: 'bench-latency' });
  // Imported here, not at the top: the pipeline phase's process (peak RSS of the worker) must not load the server.
  const { buildApp } = await import('../src/server/app.ts');
  const app = await buildApp({ config, db, queue: apiQueue, blobs, redis, webRoot: null, logger: false });
  await app.ready();
  const em = db.em.fork();
  const user = await createUser(em, { email: `lat-${randomUUID().slice(0, 6)}@dossier.bench`, name: 'Latency', password: 'bench-password-123', role: 'staff' });
  const { token } = createApiToken(em, user, 'bench');
  const account = await createMailAccount(em, user, {
    name: 'Latency', email: mail.email, visibility: 'private',
    imap: { host: t.host, port: t.port, secure: false, allowInsecure: true, username: mail.user, password: mail.password },
    smtp: { host: t.host, port: 25, secure: false, username: mail.user, password: mail.password },
  }, config.secretKey);
  await em.flush();
  const { scheduleAccountSync } = await import('../src/core/mail/accounts.ts');
  await scheduleAccountSync(apiQueue, config.syncIntervalSeconds, account.id, 'created');
  const visible = async (subject: string) => {
    const res = await app.inject({ method: 'GET', url: `/api/messages?accountId=${account.id}&limit=5`, headers: { authorization: `Bearer ${token}` } });
    return (res.json().items as { subject: string }[]).some((m) => m.subject === subject);
  };
  const waitUntil = async (fn: () => Promise<boolean>, ms: number) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (await fn()) return true;
      await new Promise((r) => setTimeout(r, 20));
    }
    return false;
  };
  if (!(await waitUntil(async () => worker.deps.accounts!.watchers.watching().includes(account.id), 30_000))) throw new Error('the watcher did not start');
  await new Promise((r) => setTimeout(r, 500));
  const gen = makeMailbox(deliveries, seed + 1);
  const results: number[] = [];
  for (let i = 0; i < deliveries; i++) {
    const raw = gen(i);
    const subject = /^Subject: (.*)$/m.exec(raw.toString('latin1'))![1]!.trim();
    const started = performance.now();
    await dovecot.appendMany(mail.user, [raw]);
    if (!(await waitUntil(() => visible(subject), 30_000))) throw new Error(`delivery ${i} never became visible`);
    results.push(performance.now() - started);
    await new Promise((r) => setTimeout(r, 200));
  }
  await app.close();
  await apiQueue.close();
  await worker.deps.queue.close();
  await worker.stop();
  redis.disconnect();
  await db.close();
  return results;
}

// ---------------------------------------------------------------- main

async function resetDatabase(url: string) {
  await ensureDatabase(url, true);
  const db = await openDb({ databaseUrl: url, dataDir: '/nonexistent' });
  await db.close();
}

const fmt = (r: PhaseResult) => `${(r.messages / (r.ms / 1000)).toFixed(0).padStart(6)} msg/s  ${(r.bytes / MB / (r.ms / 1000)).toFixed(1).padStart(7)} MB/s  ${(r.ms / 1000).toFixed(1).padStart(7)} s  CPU ${r.cpuS.toFixed(1).padStart(6)} s  peak RSS ${r.maxRssMb.toFixed(0).padStart(4)} MB`;

async function main() {
  if (args.phase) {
    const t = JSON.parse(args.config!) as Target;
    const r = args.phase === 'c' ? await phasePipeline(t) : await phaseRaw(t, args.phase === 'b');
    process.stdout.write(`${JSON.stringify(r)}\n`);
    process.exit(0);
  }
  const count = Number(args.count);
  const seed = Number(args.seed);
  const deliveries = Number(args.latency);
  if (!(count >= 1)) throw new Error('--count must be a positive number');
  console.log(`Sync benchmark: ${count} messages (seed ${seed}), ${os.availableParallelism()} cores, Node ${process.version}`);
  await resetDatabase(args.database!);
  const dovecot = await startDovecot();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'dossier-bench-sync-'));
  try {
    const mail = await dovecot.addUser({ prefix: 'bench' });
    for (let i = 0; i < 20; i++) {
      try {
        await dovecot.appendMany(mail.user, ['Subject: warm-up\r\n\r\n.\r\n'], { folder: 'Trash' });
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    const gen = makeMailbox(count, seed);
    const started = performance.now();
    let bytes = 0;
    for (let i = 0; i < count; ) {
      const chunk: Buffer[] = [];
      let chunkBytes = 0;
      while (i < count && chunk.length < 200 && chunkBytes < 64 * MB) {
        const raw = gen(i++);
        chunk.push(raw);
        chunkBytes += raw.length;
      }
      await dovecot.appendMany(mail.user, chunk);
      bytes += chunkBytes;
      if (process.stdout.isTTY) process.stdout.write(`\rappending ${i}/${count}`);
    }
    console.log(`\rappended ${count} messages, ${(bytes / MB).toFixed(0)} MB, in ${((performance.now() - started) / 1000).toFixed(1)} s`);

    const target: Target = { host: dovecot.host, port: dovecot.port, user: mail.user, password: mail.password, database: args.database!, redis: args.redis!, dataDir, secretKey: randomUUID().replace(/-/g, '').repeat(2), count };
    const a = await runPhase('a', target);
    console.log(`(a) raw imapflow fetch    ${fmt(a)}`);
    const b = await runPhase('b', target);
    console.log(`(b) fetch + parse         ${fmt(b)}  ${JSON.stringify(b.parsed)}`);
    const c = await runPhase('c', target);

    console.log(`(c) full pipeline → PG    ${fmt(c)}  ${JSON.stringify(c.parsed)}`);
    if (c.messages !== count) console.log(`!! the pipeline stored ${c.messages} of ${count} messages`);
    const rate = (r: PhaseResult) => r.messages / r.ms;
    console.log(`c/a = ${(rate(c) / rate(a)).toFixed(2)}   c/b = ${(rate(c) / rate(b)).toFixed(2)} (target ≥ 1.0)   worker peak RSS ${c.maxRssMb.toFixed(0)} MB (target ≤ 300)`);

    if (deliveries > 0) {
      const latMail = await dovecot.addUser({ prefix: 'latency' });
      const lat = await measureLatency(target, dovecot, latMail, deliveries, seed);
      console.log(`new mail → API: p50 ${pct(lat, 50).toFixed(0)} ms, p95 ${pct(lat, 95).toFixed(0)} ms, max ${Math.max(...lat).toFixed(0)} ms over ${lat.length} deliveries (targets 1000 / 2000 ms)`);
    }
  } finally {
    await dovecot.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (err) => {
  console.error(err);
  process.exit(1);
});
