// What a live 'message' event says about stored or refiled mail: the accounts whose mailboxes hold each
// message (live locations) and the clients it is filed to. Read after the commit, so it matches what the
// browser will then fetch; the events route decides who may hear it (mail/visibility's rule).
import { kysely, type Em } from '../platform/db.ts';
import type { LiveEvent } from '../platform/live-events.ts';

export async function describeMessageEvents(em: Em, messageIds: string[]): Promise<Extract<LiveEvent, { type: 'message' }>[]> {
  const ids = [...new Set(messageIds)];
  if (!ids.length) return [];
  const [accounts, clients] = await Promise.all([
    kysely(em).selectFrom('message_location as l').innerJoin('mailbox as mb', 'mb.id', 'l.mailbox_id')
      .select(['l.message_id', 'mb.account_id']).distinct()
      .where('l.message_id', 'in', ids).where('l.removed_at', 'is', null).execute(),
    kysely(em).selectFrom('communication').select(['message_id', 'client_id']).distinct().where('message_id', 'in', ids).execute(),
  ]);
  return ids.map((id) => ({
    type: 'message' as const, id,
    accountIds: accounts.filter((a) => a.message_id === id).map((a) => a.account_id),
    clientIds: clients.filter((c) => c.message_id === id).map((c) => c.client_id),
  }));
}
