// Builds the real server on the shared test database for app.inject tests, and signed-in sessions for
// users from the factories. Nothing here fakes our own code: requests go through the full plugin stack.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { Redis } from 'ioredis';
import type { Config } from '../../src/core/platform/config.ts';
import { openDb, type Db } from '../../src/core/platform/db.ts';
import { createBullQueue, type JobQueue } from '../../src/core/platform/jobs.ts';
import { createLocalBlobStore, type BlobStore } from '../../src/core/blobs/blob-store.ts';
import type { Role, User } from '../../src/core/staff/user.entity.ts';
import { buildApp } from '../../src/server/app.ts';
import { createRedisEvents, type LiveEvents } from '../../src/core/platform/live-events.ts';
import { publishNotificationCommits } from '../../src/core/staff/notification-events.ts';
import { testConfig } from './env.ts';
import { createTestUser, TEST_PASSWORD } from './factories.ts';

export type TestApp = { app: FastifyInstance; db: Db; queue: JobQueue; blobs: BlobStore; events: LiveEvents; config: Config; redis: Redis; close: () => Promise<void> };

export async function startTestApp(opts: { config?: Config; webRoot?: string | null; queue?: JobQueue } = {}): Promise<TestApp> {
  const config = opts.config ?? testConfig();
  const db = await openDb(config, { migrate: false, poolMax: 5 });
  const redis = new Redis(config.redisUrl!, { maxRetriesPerRequest: null });
  const queue = opts.queue ?? createBullQueue(config.redisUrl!, config.queuePrefix);
  const blobs = createLocalBlobStore(config.blobDir);
  // Scaled mode's transport (Redis pub/sub on the test's own prefix), as main.ts builds it.
  const events = createRedisEvents(config.redisUrl!, config.queuePrefix);
  publishNotificationCommits(db, events);
  const app = await buildApp({ config, db, queue, blobs, redis, events, webRoot: opts.webRoot ?? null, logger: false });
  await app.ready();
  return {
    app, db, queue, blobs, events, config, redis,
    close: async () => {
      await app.close();
      await queue.close();
      await events.close();
      redis.disconnect();
      await db.close();
    },
  };
}

/** A signed-in browser-like session: cookies plus the CSRF token, and a request helper that sends both. */
export type Session = {
  user: User;
  cookie: string;
  csrfToken: string;
  request: (method: string, url: string, body?: unknown, headers?: Record<string, string>) => Promise<LightMyRequestResponse>;
};

export async function signIn(app: FastifyInstance, email: string, password = TEST_PASSWORD): Promise<Omit<Session, 'user'>> {
  const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password }, remoteAddress: `10.${rand()}.${rand()}.${rand()}` });
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
  const cookie = res.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
  const csrfToken = res.json().csrfToken as string;
  return {
    cookie,
    csrfToken,
    request: (method, url, body, headers = {}) =>
      app.inject({ method: method as never, url, payload: body as never, headers: { cookie, 'x-csrf-token': csrfToken, ...headers } }),
  };
}
const rand = () => Math.floor(Math.random() * 250) + 1;

export async function userSession(t: TestApp, role: Role = 'staff', name?: string): Promise<Session> {
  const { user, email } = await createTestUser(t.db, role, name);
  return { user, ...(await signIn(t.app, email)) };
}

/**
 * Every item of a paged list (`{items, nextCursor}`), following the cursor: what a client that pages through
 * sees. Throws on a non-200 answer or a page loop.
 */
export async function listEveryPage<T>(request: (url: string) => Promise<{ statusCode: number; body: string }>, url: string, limit = 50): Promise<T[]> {
  const out: T[] = [];
  const seen = new Set<string>();
  let cursor: string | null = null;
  do {
    const sep = url.includes('?') ? '&' : '?';
    const res = await request(`${url}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    if (res.statusCode !== 200) throw new Error(`GET ${url}: ${res.statusCode} ${res.body}`);
    const page = JSON.parse(res.body) as { items: T[]; nextCursor: string | null };
    out.push(...page.items);
    cursor = page.nextCursor;
    if (cursor !== null && seen.has(cursor)) throw new Error(`GET ${url}: the cursor ${cursor} came twice`);
    if (cursor !== null) seen.add(cursor);
  } while (cursor !== null);
  return out;
}
