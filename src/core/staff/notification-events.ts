// Publishes a live 'notification' event for every notification row, after the transaction that created it
// commits (never before: the browser fetches the bell when told, and must find the row). Registered once per
// process on the ORM's event manager, so every code path that creates notifications is covered.
import type { ChangeSet, EventSubscriber, FlushEventArgs, TransactionEventArgs, UnitOfWork } from '@mikro-orm/core';
import type { Db } from '../platform/db.ts';
import type { LiveEvents } from '../platform/live-events.ts';

type Created = { userId: string; id: string };

function createdNotifications(uow: UnitOfWork | undefined): Created[] {
  if (!uow) return [];
  return [...uow.getChangeSets()]
    .filter((c: ChangeSet<any>) => c.type === 'create' && c.meta.className === 'Notification')
    .map((c: ChangeSet<any>) => {
      const user = c.entity.user as { id?: string } | string;
      return { id: String(c.entity.id), userId: typeof user === 'string' ? user : String(user?.id) };
    });
}

export function publishNotificationCommits(db: Db, events: LiveEvents): void {
  // Flushes inside an explicit transaction: held until that transaction commits (keyed by its context).
  const pending = new Map<unknown, Created[]>();
  const subscriber: EventSubscriber = {
    afterFlush(args: FlushEventArgs) {
      if (!args.em.isInTransaction()) return; // a plain flush committed already: afterTransactionCommit has it
      const created = createdNotifications(args.uow);
      if (!created.length) return;
      const ctx = args.em.getTransactionContext();
      pending.set(ctx, [...(pending.get(ctx) ?? []), ...created]);
    },
    afterTransactionCommit(args: TransactionEventArgs) {
      const held = pending.get(args.transaction) ?? [];
      pending.delete(args.transaction);
      for (const n of [...held, ...createdNotifications(args.uow)]) events.publish({ type: 'notification', userId: n.userId, id: n.id });
    },
    afterTransactionRollback(args: TransactionEventArgs) {
      pending.delete(args.transaction);
    },
  };
  db.em.getEventManager().registerSubscriber(subscriber);
}
