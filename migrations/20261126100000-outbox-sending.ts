// Outbox additions for sending: the From display name fixed at queue time, the forwarded message,
// a per-row attempt lease (never two attempts at once) and what became of the Sent copy. Never edit once shipped.
import { Migration } from '@mikro-orm/migrations';

export class Migration20261126100000OutboxSending extends Migration {
  override up(): void {
    this.addSql('alter table "outbox" add column "from_name" text null, add column "forward_message_id" uuid null, add column "lease_until" timestamptz null, add column "sent_copy" text null');
    this.addSql('alter table "outbox" add constraint "outbox_sent_copy_check" check ("sent_copy" in (\'appended\', \'already_there\', \'skipped\', \'failed\'))');
    this.addSql('alter table "outbox" add constraint "outbox_forward_message_id_foreign" foreign key ("forward_message_id") references "message" ("id") on delete set null');
    // GET /api/outbox lists the caller's rows newest first.
    this.addSql('create index "outbox_created_by_id_created_at_index" on "outbox" ("created_by_id", "created_at")');
  }
}
