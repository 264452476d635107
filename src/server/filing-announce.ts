// Runs a filing action in one transaction and announces the filing approvals it created (issue 12): the
// owners' bell notifications commit with the action, their email copies are enqueued after the commit.
import type { FastifyInstance } from 'fastify';
import type { Em } from '../core/platform/db.ts';
import { announceFilingApprovals } from '../core/collaboration/filing-approvals.ts';
import { enqueueSend } from '../core/outbox/outbox.ts';

export async function fileAndAnnounce<T>(app: FastifyInstance, em: Em, work: (em: Em) => Promise<T>): Promise<T> {
  let outboxIds: string[] = [];
  const result = await em.transactional(async (tx) => {
    const r = await work(tx);
    outboxIds = await announceFilingApprovals(tx, { publicUrl: app.deps.config.publicUrl });
    return r;
  });
  for (const id of outboxIds) await enqueueSend(app.deps.queue, id);
  return result;
}
