// The calendar feed, GET /calendar/<token>.ics: no session (calendar apps cannot sign in), the secret URL is
// the credential. Outside /api like share links; an unknown or replaced token gets a bare 404.
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import { findCalendarFeedOwner, listFeedTasks } from '../../core/log/tasks.ts';
import { renderCalendarFeed } from '../calendar-feed.ts';
import { HttpError, STATUS } from '../errors.ts';
import { CalendarParams } from '../schemas/tasks.ts';

/** Per IP: calendar apps poll every few minutes; this is far too few requests to guess a token. */
const FEED_LIMIT = { max: 60, timeWindow: '1 minute' };

export async function calendarFeedRoutes(app: FastifyInstance) {
  app.get<{ Params: Static<typeof CalendarParams> }>('/calendar/:file', {
    onRequest: app.rateLimit({ ...FEED_LIMIT, keyGenerator: (req) => `calendar:${req.ip}` }),
    config: { auth: 'public' },
    schema: { hide: true, params: CalendarParams },
  }, async (req, reply) => {
    const token = req.params.file.replace(/\.ics$/u, '');
    const owner = await findCalendarFeedOwner(req.em, token);
    if (!owner) throw new HttpError(STATUS.notFound, 'not_found', 'No such calendar');
    const body = renderCalendarFeed(await listFeedTasks(req.em, owner), {
      ownerName: owner.name, publicUrl: app.deps.config.publicUrl, host: new URL(app.deps.config.publicUrl).hostname,
    });
    return reply
      .header('content-type', 'text/calendar; charset=utf-8')
      .header('content-disposition', 'inline; filename="dossier-tasks.ics"')
      .header('cache-control', 'private, no-cache')
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .send(body);
  });
}
