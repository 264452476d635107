// Which client an object addressed by id belongs to, so that every route naming a client, document,
// log record, discussion, file request, share or task checks the one client rule (mail/visibility.ts
// visibleClient) before anything else runs. It decides nothing itself; a missing object is left to the route.
import { kysely, type Em } from '../platform/db.ts';
import { NotFoundError } from '../platform/errors.ts';
import { assertClientVisible, type Viewer } from '../mail/visibility.ts';

export const CLIENT_SCOPES = ['client', 'document', 'communication', 'discussion', 'file_request', 'share', 'task'] as const;
export type ClientScope = (typeof CLIENT_SCOPES)[number];

const LABEL: Record<ClientScope, string> = {
  client: 'Client', document: 'Document', communication: 'Communication', discussion: 'Discussion', file_request: 'File request', share: 'Share', task: 'Task',
};

/** The client of the object (undefined: no such object; null: it has no client, e.g. a personal task). */
export async function clientOfObject(em: Em, scope: ClientScope, id: string): Promise<string | null | undefined> {
  const k = kysely(em);
  switch (scope) {
    case 'client': return (await k.selectFrom('client').select('id').where('id', '=', id).executeTakeFirst())?.id;
    case 'document': return (await k.selectFrom('document').select('client_id').where('id', '=', id).executeTakeFirst())?.client_id;
    case 'communication': return (await k.selectFrom('communication').select('client_id').where('id', '=', id).executeTakeFirst())?.client_id;
    case 'discussion': return (await k.selectFrom('discussion').select('client_id').where('id', '=', id).executeTakeFirst())?.client_id;
    case 'file_request': return (await k.selectFrom('file_request').select('client_id').where('id', '=', id).executeTakeFirst())?.client_id;
    case 'share': return (await k.selectFrom('share').select('client_id').where('id', '=', id).executeTakeFirst())?.client_id;
    case 'task': {
      const row = await k.selectFrom('task').select('client_id').where('id', '=', id).executeTakeFirst();
      return row ? row.client_id : undefined;
    }
  }
}

/**
 * Throws NotFoundError (named after the object, as for an unknown id) when the object belongs to a client
 * the viewer may not see. Unknown objects and objects without a client pass: the route answers for them.
 */
export async function assertObjectClientVisible(em: Em, viewer: Viewer, scope: ClientScope, id: string): Promise<void> {
  const clientId = await clientOfObject(em, scope, id);
  if (!clientId) return;
  try {
    await assertClientVisible(em, viewer, clientId);
  } catch (err) {
    if (err instanceof NotFoundError) throw new NotFoundError(LABEL[scope]);
    throw err;
  }
}
