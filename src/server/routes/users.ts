// Staff user administration (admins only), and the list of active staff every user may read (owner and
// assignee pickers).
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { createUser, getUser, listUsers, updateUser, viewUser } from '../../core/staff/users.ts';
import { recordAudit } from '../../core/staff/audit.ts';
import { currentUser } from '../auth.ts';
import { IdParams, UserCreate, UserPatch, UserView, Uuid } from '../schemas.ts';
import { STATUS } from '../errors.ts';

export async function userRoutes(app: FastifyInstance) {
  const admin = { auth: 'admin' as const };

  app.get('/users', { config: admin, schema: { tags: ['users'], response: { 200: Type.Object({ items: Type.Array(UserView) }) } } }, async (req) => {
    return { items: (await listUsers(req.em)).map(viewUser) };
  });

  app.get('/staff', { schema: { tags: ['users'], response: { 200: Type.Object({ items: Type.Array(Type.Object({ id: Uuid, name: Type.String() })) }) } } }, async (req) => {
    return { items: (await listUsers(req.em)).filter((u) => u.active).map((u) => ({ id: u.id, name: u.name })) };
  });

  app.post<{ Body: Static<typeof UserCreate> }>('/users', { config: admin, schema: { tags: ['users'], body: UserCreate, response: { 201: UserView } } }, async (req, reply) => {
    const user = await createUser(req.em, req.body);
    recordAudit(req.em, { actorId: currentUser(req).id, action: 'user.create', entityType: 'user', entityId: user.id, details: { email: user.email, role: user.role } });
    await req.em.flush();
    return reply.status(STATUS.created).send(viewUser(user));
  });

  app.patch<{ Params: Static<typeof IdParams>; Body: Static<typeof UserPatch> }>('/users/:id', {
    config: admin, schema: { tags: ['users'], params: IdParams, body: UserPatch, response: { 200: UserView } },
  }, async (req) => {
    // An admin resetting someone's password signs that user out everywhere; their own reset keeps this session.
    const user = await updateUser(req.em, await getUser(req.em, req.params.id), req.body, { keepSessionId: req.sessionId ?? undefined });
    recordAudit(req.em, { actorId: currentUser(req).id, action: 'user.update', entityType: 'user', entityId: user.id, details: { fields: Object.keys(req.body).filter((k) => k !== 'password') } });
    await req.em.flush();
    return viewUser(user);
  });
}
