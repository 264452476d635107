// The job contract, proven identically on both adapters: BullMQ on the real Redis and the in-process queue.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { createBullQueue, createLocalQueue, PermanentJobError, type Handlers, type JobQueue, type JobMap } from '../../../src/core/platform/jobs.ts';
import { Queue } from 'bullmq';
import { TEST_REDIS_URL } from '../../support/env.ts';

type Behaviour = (payload: JobMap['ping'], attempt: number) => Promise<void>;

/** A queue whose 'ping' handler dispatches on payload.text to the behaviour a test registered. */
function harness(make: () => JobQueue) {
  const behaviours = new Map<string, Behaviour>();
  const queue = make();
  const unused = async () => { throw new PermanentJobError('not used in this test'); };
  // Only 'ping' is exercised here; every other job name gets a handler that refuses.
  const ping: Handlers['ping'] = async (p, ctx) => behaviours.get(p.text)!(p, ctx.attempt);
  const handlers = new Proxy({}, { get: (_t, name) => (name === 'ping' ? ping : unused) }) as unknown as Handlers;
  queue.work(handlers, { concurrency: 4 });
  const on = (b: Behaviour) => { const id = randomUUID(); behaviours.set(id, b); return id; };
  /**
   * A marker job delayed by `ms`: resolves when it runs. Negative checks wait for it instead of sleeping: a job
   * the queue should not have (a retry, a duplicate, another repeat) would be due before the marker, so it
   * would have run by the time the marker does.
   */
  const marker = (ms: number) => new Promise<void>((resolve, reject) => {
    queue.enqueue('ping', { text: on(async () => resolve()), at: 0 }, { delayMs: ms }).catch(reject);
  });
  return { queue, on, marker };
}

const until = async (cond: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

const adapters: [string, () => JobQueue][] = [
  ['bullmq', () => createBullQueue(TEST_REDIS_URL, `dossier-test-jobs-${randomUUID().slice(0, 8)}`)],
  ['in-process', () => createLocalQueue()],
];

for (const [label, make] of adapters) {
  t.test(label, async (t) => {
    const { queue, on, marker } = harness(make);
    t.teardown(() => queue.close());

    t.test('a failing job is retried with exponential backoff until it succeeds', async (t) => {
      const times: number[] = [];
      const text = on(async (_p, attempt) => {
        times.push(Date.now());
        if (attempt < 3) throw new Error(`transient ${attempt}`);
      });
      await queue.enqueue('ping', { text, at: Date.now() }, { attempts: 5, backoffMs: 100 });
      await until(() => times.length === 3);
      t.equal(times.length, 3, 'ran three times');
      t.ok(times[1]! - times[0]! >= 90, `first retry waited ~100 ms (${times[1]! - times[0]!})`);
      t.ok(times[2]! - times[1]! >= 180, `second retry waited ~200 ms (${times[2]! - times[1]!})`);
      // A fourth attempt would be due 400 ms after the third (exponential backoff from 100 ms).
      await marker(800);
      t.equal(times.length, 3, 'not run again after success');
    });

    t.test('gives up after the configured attempts; a permanent error is not retried', async (t) => {
      let n = 0;
      const text = on(async () => { n++; throw new Error('always'); });
      await queue.enqueue('ping', { text, at: 0 }, { attempts: 2, backoffMs: 20 });
      let p = 0;
      const perm = on(async () => { p++; throw new PermanentJobError('bad payload'); });
      await queue.enqueue('ping', { text: perm, at: 0 }, { attempts: 5, backoffMs: 20 });
      await until(() => n === 2 && p === 1);
      // Further attempts would be due 20-40 ms later.
      await marker(300);
      t.equal(n, 2, 'two attempts, then stop');
      t.equal(p, 1, 'permanent failure: one attempt');
    });

    t.test('jobs sharing a key run one at a time; other keys run alongside', async (t) => {
      let running = 0;
      let maxSameKey = 0;
      let maxOverall = 0;
      const done: string[] = [];
      const keyed = on(async (p) => {
        running++;
        maxSameKey = Math.max(maxSameKey, running);
        await new Promise((r) => setTimeout(r, 120));
        running--;
        done.push(String(p.at));
      });
      let other = 0;
      const free = on(async () => {
        other++;
        maxOverall = Math.max(maxOverall, running + other);
        await new Promise((r) => setTimeout(r, 120));
        other--;
        done.push('free');
      });
      for (let i = 0; i < 3; i++) await queue.enqueue('ping', { text: keyed, at: i }, { key: 'account-1' });
      await queue.enqueue('ping', { text: free, at: 9 }, { key: 'account-2' });
      await until(() => done.length === 4);
      t.equal(maxSameKey, 1, 'never two jobs of one key at once');
      t.ok(maxOverall >= 2, 'a job of another key ran while the key was busy');
    });

    t.test('a delayed job runs no earlier than its delay', async (t) => {
      let ranAt = 0;
      const text = on(async () => { ranAt = Date.now(); });
      const start = Date.now();
      await queue.enqueue('ping', { text, at: start }, { delayMs: 300 });
      await until(() => ranAt > 0);
      t.ok(ranAt - start >= 290, `ran after ${ranAt - start} ms`);
    });

    t.test('enqueueing with the same jobId while one waits is a no-op', async (t) => {
      let n = 0;
      const text = on(async () => { n++; });
      const jobId = `once-${randomUUID()}`;
      await queue.enqueue('ping', { text, at: 0 }, { jobId, delayMs: 200 });
      await queue.enqueue('ping', { text, at: 0 }, { jobId, delayMs: 200 });
      await until(() => n === 1);
      // A second job would have been due at the same 200 ms as the first.
      await marker(400);
      t.equal(n, 1);
    });

    t.test('a schedule repeats until removed', async (t) => {
      let n = 0;
      const text = on(async () => { n++; });
      const id = `sched-${randomUUID()}`;
      await queue.schedule(id, 150, 'ping', { text, at: 0 });
      await until(() => n >= 3, 5000);
      await queue.unschedule(id);
      const after = n;
      // Four more repeats would fall before the marker; one already taken when unscheduled may still finish.
      await marker(600);
      t.ok(n - after <= 1, `stopped after unschedule (${n - after} more)`);
    });
  });
}

t.test('bullmq: a job waiting for a busy key is woken when the key frees, not by polling', async (t) => {
  const prefix = `dossier-test-jobs-${randomUUID().slice(0, 8)}`;
  const queue = createBullQueue(TEST_REDIS_URL, prefix);
  const inspect = new Queue('dossier', { connection: { url: TEST_REDIS_URL }, prefix });
  t.teardown(async () => {
    await queue.close();
    await inspect.close();
  });
  const started: Record<string, number> = {};
  let releasedAt = 0;
  const ping: Handlers['ping'] = async (p) => {
    started[p.text] = Date.now();
    if (p.text === 'holder') {
      await new Promise((r) => setTimeout(r, 1500));
      releasedAt = Date.now();
    }
  };
  queue.work(new Proxy({}, { get: (_t, name) => (name === 'ping' ? ping : async () => undefined) }) as unknown as Handlers, { concurrency: 4 });
  await queue.enqueue('ping', { text: 'holder', at: 0 }, { key: 'k', jobId: 'holder' });
  await until(() => started.holder !== undefined);
  await queue.enqueue('ping', { text: 'waiter', at: 0 }, { key: 'k', jobId: 'waiter' });
  await until(() => started.waiter !== undefined);
  t.ok(started.waiter! >= releasedAt, 'the waiter ran after the holder finished');
  const waiter = await inspect.getJob('waiter');
  // Taken once (key busy, put back to wait) and once more when woken: a 250 ms poll would take it ~6 times.
  t.ok(waiter!.attemptsStarted <= 3, `the waiter was taken ${waiter!.attemptsStarted} times in the holder's 1.5 s`);
  t.ok(started.waiter! - releasedAt < 1000, `woken ${started.waiter! - releasedAt} ms after the key freed`);
});
