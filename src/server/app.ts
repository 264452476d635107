// Builds the Fastify instance (buildApp(deps)); listening is main.ts's job, so tests use app.inject.
// Order matters: security headers, cookies, CSRF, rate limit, then auth, then the routes.
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import helmet from '@fastify/helmet';
import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fastifyStatic from '@fastify/static';
import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Redis } from 'ioredis';
import type { Config } from '../core/platform/config.ts';
import type { Db, Em } from '../core/platform/db.ts';
import type { JobQueue } from '../core/platform/jobs.ts';
import type { BlobStore } from '../core/blobs/blob-store.ts';
import { registerAuth } from './auth.ts';
import { registerClientAccess } from './client-access.ts';
import { handleError, HttpError, STATUS } from './errors.ts';
import { routes } from './routes/index.ts';
import { calendarFeedRoutes } from './routes/calendar.ts';
import type { LiveEvents } from '../core/platform/live-events.ts';
import { shareLinkRoutes } from './routes/share-links.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { queueDashboard } from './queue-dashboard.ts';
import { createMemoryMetricsStore, createMetricsEndpoint, createRedisMetricsStore, type MetricsStore } from '../core/platform/metrics.ts';

export type AppDeps = {
  config: Config;
  db: Db;
  queue: JobQueue;
  blobs: BlobStore;
  /** Shared rate-limit store in scaled mode, so limits hold across server instances. */
  redis?: Redis | null;
  /** Live events for open browsers (GET /api/events); absent, the stream stays silent. */
  events?: LiveEvents | null;
  /** Where the workers' counters accumulate (default: Redis with `redis`, else this process's memory). */
  metrics?: MetricsStore | null;
  /** Where the built web app lives (default dist/web); absent in API-only tests. */
  webRoot?: string | null;
  logger?: boolean | object;
};

declare module 'fastify' {
  interface FastifyRequest {
    em: Em;
  }
  interface FastifyInstance {
    deps: AppDeps;
  }
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const app = Fastify({
    logger: deps.logger ?? { level: config.logLevel, redact: ['req.headers.authorization', 'req.headers.cookie', 'body.password'] },
    // Only behind a reverse proxy may X-Forwarded-For be believed; otherwise clients could dodge the login limit.
    trustProxy: config.trustProxy as FastifyServerOptions['trustProxy'],
    bodyLimit: 2 * 1024 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
  });
  app.decorate('deps', deps);
  // Declared up front (fastify keeps request objects one shape); every request gets its own fork below.
  app.decorateRequest('em');
  app.addHook('onRequest', async (req) => {
    req.em = deps.db.em.fork();
  });
  app.setErrorHandler(handleError);

  const cookieSecret = createHmac('sha256', config.secretKey!).update('dossier cookie signing').digest('hex');
  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        frameSrc: ["'self'", 'blob:'],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'self'"],
        upgradeInsecureRequests: null,
      },
    },
    crossOriginEmbedderPolicy: false,
  });
  await app.register(cookie, { secret: cookieSecret });
  await app.register(csrf, {
    sessionPlugin: '@fastify/cookie',
    cookieKey: 'dossier_csrf',
    cookieOpts: { signed: true, httpOnly: true, sameSite: 'lax', path: '/', secure: config.cookieSecure },
    getToken: (req) => req.headers['x-csrf-token'] as string | undefined,
  });
  await app.register(rateLimit, { global: false, redis: deps.redis ?? undefined, nameSpace: `${config.queuePrefix}:ratelimit:` });
  await app.register(multipart, { limits: { fileSize: config.maxUploadBytes, files: 10, fields: 20 } });

  await app.register(swagger, {
    openapi: {
      info: { title: 'Dossier API', version: '1.0.0', description: 'Client communication for professional firms. See API.md.' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          cookie: { type: 'apiKey', in: 'cookie', name: 'dossier_session' },
        },
      },
      security: [{ bearer: [] }, { cookie: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs', staticCSP: true });
  app.get('/api/openapi.json', { config: { auth: 'public' }, schema: { hide: true } }, async () => app.swagger());

  registerAuth(app);
  // Metrics only when an operator asked for them (DOSSIER_METRICS_TOKEN): no per-request cost otherwise.
  const metricsStore = deps.metrics ?? (deps.redis ? createRedisMetricsStore(deps.redis, config.queuePrefix) : createMemoryMetricsStore());
  const metrics = config.metricsToken ? createMetricsEndpoint(metricsStore) : null;
  if (metrics) {
    app.addHook('onResponse', async (req, reply) => {
      // The route pattern (/api/messages/:id), never the URL: one series per route, not per id.
      metrics.observeHttp(req.routeOptions.url ?? 'unmatched', req.method, reply.statusCode, reply.elapsedTime / 1000);
    });
  }
  await app.register(metricsRoutes(metrics));
  await app.register(queueDashboard);
  registerClientAccess(app);
  for (const plugin of routes) await app.register(plugin, { prefix: '/api' });
  // Share links are mailed to clients: short public URLs outside /api.
  await app.register(shareLinkRoutes);
  // Calendar apps subscribe to a secret URL; they cannot sign in.
  await app.register(calendarFeedRoutes);

  const webRoot = deps.webRoot === undefined ? path.resolve('dist/web') : deps.webRoot;
  if (webRoot && existsSync(webRoot)) {
    await app.register(fastifyStatic, { root: webRoot, wildcard: false, index: 'index.html', maxAge: '1h' });
  }
  app.setNotFoundHandler(async (req, reply) => {
    // The web app routes client-side: any non-API GET gets its shell.
    // Missing files (e.g. /assets/ of an older build) get a real 404, not the shell with the wrong type.
    const isFile = /\.[a-z0-9]{1,8}$/i.test(req.url.split('?')[0]!) || req.url.startsWith('/assets/');
    if (webRoot && req.method === 'GET' && !req.url.startsWith('/api') && !isFile && existsSync(path.join(webRoot, 'index.html'))) {
      return reply.header('cache-control', 'no-cache').sendFile('index.html', webRoot);
    }
    throw new HttpError(STATUS.notFound, 'not_found', `No route ${req.method} ${req.url.split('?')[0]}`);
  });
  return app;
}
