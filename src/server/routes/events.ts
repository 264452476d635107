// GET /api/events: the live event stream (text/event-stream) an open web app listens to instead of polling.
// Each event goes only to a user who may see what it is about, by the same rule as every query
// (core/mail/visibility.ts): a message event needs a filed client or a live location in an account the user
// may see, and lists only those accounts and the clients the user may see (a restricted client's mail never
// reaches a colleague outside its team); a private mailbox's unfiled mail never reaches a colleague's stream,
// not even its id. Notifications go to their user alone; sync progress to those who see the account.
import type { FastifyInstance } from 'fastify';
import type { LiveEvent } from '../../core/platform/live-events.ts';
import { filterVisibleClientIds, listVisibleMailboxes } from '../../core/mail/visibility.ts';
import { isCredentialLive } from '../../core/staff/sessions.ts';
import { currentUser } from '../auth.ts';

/** Comment lines keep proxies from closing an idle stream (most cut at 60 s). */
const KEEPALIVE_MS = 25_000;
/** The user's visible accounts are re-read at most this often, and at once for an account not yet known. */
const ACCOUNTS_TTL_MS = 60_000;
/** An account found not visible is not asked about again for this long (a colleague's initial sync is many events). */
const NOT_VISIBLE_TTL_MS = 5_000;
/** A stream outlives the request that opened it: its session or token is asked about again this often, and
 *  the stream ends (an `end` event, then close) once it no longer stands — sign-out, password change,
 *  deactivation, expiry. The web app then stops listening instead of reconnecting into a 401. */
const RECHECK_MS = 10_000;

type Connection = { userId: string; send: (event: LiveEvent) => void };

export async function eventRoutes(app: FastifyInstance) {
  const connections = new Set<Connection>();
  // One subscription per server process, fanned out to its open streams.
  const unsubscribe = app.deps.events?.subscribe((event) => {
    for (const c of connections) c.send(event);
  });
  app.addHook('onClose', async () => unsubscribe?.());

  app.get('/events', { schema: { tags: ['events'], description: 'Server-sent events: message, notification, sync. Ids only; filtered by visibility.' } }, async (req, reply) => {
    const user = currentUser(req);
    const db = app.deps.db;
    const bearer = req.authKind === 'bearer' ? req.headers.authorization?.slice(7).trim() : undefined;
    const credential = bearer ? { apiToken: bearer } : { sessionId: req.sessionId ?? '' };
    let accounts = new Set<string>();
    let readAt = 0;
    const notVisible = new Map<string, number>();
    const refresh = async () => {
      accounts = new Set((await listVisibleMailboxes(db.em.fork(), user)).map((b) => b.accountId));
      readAt = Date.now();
    };
    const seesAccount = async (accountId: string) => {
      const now = Date.now();
      if (now - readAt > ACCOUNTS_TTL_MS) await refresh();
      // A new mailbox (its first sync starts seconds after it is added) is looked up at once.
      else if (!accounts.has(accountId) && now - (notVisible.get(accountId) ?? 0) > NOT_VISIBLE_TTL_MS) await refresh();
      if (accounts.has(accountId)) return true;
      notVisible.set(accountId, Date.now());
      return false;
    };
    await refresh();

    // Events are filtered one after another so they leave in the order they arrived.
    let chain = Promise.resolve();
    const write = (name: string, data: object) => reply.raw.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
    const deliver = async (event: LiveEvent) => {
      if (event.type === 'notification') {
        if (event.userId === user.id) write('notification', { id: event.id });
      } else if (event.type === 'sync') {
        if (await seesAccount(event.accountId)) write('sync', { accountId: event.accountId, progress: event.progress, status: event.status });
      } else {
        const visibleAccounts: string[] = [];
        for (const id of event.accountIds) if (await seesAccount(id)) visibleAccounts.push(id);
        // Asked at each event, not cached: a client restricted a moment ago must not leak.
        const clientIds = event.clientIds.length ? await filterVisibleClientIds(db.em.fork(), user, event.clientIds) : [];
        if (clientIds.length || visibleAccounts.length) write('message', { id: event.id, accountIds: visibleAccounts, clientIds });
      }
    };
    const connection: Connection = {
      userId: user.id,
      send: (event) => {
        chain = chain.then(() => deliver(event)).catch((err) => req.log.warn({ err }, 'live event not delivered'));
      },
    };

    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // nginx buffers responses by default, which would hold events back.
      'x-accel-buffering': 'no',
    });
    reply.raw.write(`retry: 3000\n: connected\n\n`);
    connections.add(connection);
    const keepalive = setInterval(() => reply.raw.write(': keepalive\n\n'), KEEPALIVE_MS);
    const recheck = setInterval(() => {
      isCredentialLive(db.em.fork(), credential).then((live) => {
        if (live) return;
        end();
        reply.raw.end('event: end\ndata: {}\n\n');
      }, (err: unknown) => req.log.warn({ err }, 'live event stream: credential not rechecked'));
    }, RECHECK_MS);
    const end = () => {
      clearInterval(keepalive);
      clearInterval(recheck);
      connections.delete(connection);
    };
    req.raw.on('close', end);
    reply.raw.on('close', end);
  });
}
