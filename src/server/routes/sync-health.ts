// GET /api/sync-health: how complete and fresh each visible account's copy of its mail is, from the
// stored counts (admins: every account; staff: their own and the public ones).
import type { FastifyInstance } from 'fastify';
import { listSyncHealth } from '../../core/mail/sync-health.ts';
import { currentUser } from '../auth.ts';
import { SyncHealthList } from '../schemas/sync-health.ts';

export async function syncHealthRoutes(app: FastifyInstance) {
  app.get('/sync-health', { schema: { tags: ['mail-accounts'], response: { 200: SyncHealthList } } }, async (req) => {
    return { items: await listSyncHealth(req.em, currentUser(req)) };
  });
}
