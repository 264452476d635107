// Reconciliation and sync alerts (issue 14): per folder, what the last reconciliation (server UIDs against
// stored locations) found missing and could not fetch, and when it ran; per account, the open sync
// incidents (needs_reauth, stalled, missing) already notified, so each is notified once. Never edit once shipped.
import { Migration } from '@mikro-orm/migrations';

export class Migration20261208054000SyncReconcile extends Migration {
  override up(): void {
    this.addSql('alter table "mailbox" add column "missing_messages" integer not null default 0, add column "reconciled_at" timestamptz null');
    this.addSql(`alter table "mail_account" add column "sync_incidents" text[] not null default '{}'`);
  }

  override down(): void {
    this.addSql('alter table "mailbox" drop column "missing_messages", drop column "reconciled_at"');
    this.addSql('alter table "mail_account" drop column "sync_incidents"');
  }
}
