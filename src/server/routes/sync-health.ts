// GET /api/sync-health: how complete and fresh each visible account's copy of its mail is, from the
// stored counts (admins: every account; staff: their own and the public ones).
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { listSyncHealth } from '../../core/mail/sync-health.ts';
import { currentUser } from '../auth.ts';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const Folder = Type.Object({ path: Type.String(), serverCount: Type.Integer(), storedCount: Type.Integer(), missing: Type.Integer(), lastSyncAt: Nullable(Type.String()) });
const Item = Type.Object({
  accountId: Type.String(), name: Type.String(), status: Type.String(), lastSyncAt: Nullable(Type.String()), lastError: Nullable(Type.String()), folders: Type.Array(Folder),
});

export async function syncHealthRoutes(app: FastifyInstance) {
  app.get('/sync-health', { schema: { tags: ['mail-accounts'], response: { 200: Type.Object({ items: Type.Array(Item) }) } } }, async (req) => {
    return { items: await listSyncHealth(req.em, currentUser(req)) };
  });
}
