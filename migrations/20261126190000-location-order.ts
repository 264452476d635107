// Lists of a mailbox (a folder, "my mailboxes", the unfiled queue) read message_location newest-first
// from an index instead of walking every message: each location carries its message's sent_at, kept
// by triggers so writers (the sync pipeline, the ORM) need not know. Never edit once shipped.
import { Migration } from '@mikro-orm/migrations';

export class Migration20261126190000LocationOrder extends Migration {
  override up(): void {
    this.addSql('alter table "message_location" add column "sent_at" timestamptz null');
    this.addSql('update "message_location" l set "sent_at" = m."sent_at" from "message" m where m."id" = l."message_id"');
    // A location row is always written after its message (foreign key), so the message's date is there to copy.
    this.addSql(`create or replace function dossier_location_sent_at() returns trigger language plpgsql as $$
      begin
        select m.sent_at into new.sent_at from message m where m.id = new.message_id;
        return new;
      end $$`);
    this.addSql('create trigger "message_location_sent_at" before insert or update of "message_id" on "message_location" for each row execute function dossier_location_sent_at()');
    // Re-parsing may correct a message's date: its locations follow.
    this.addSql(`create or replace function dossier_message_sent_at_moved() returns trigger language plpgsql as $$
      begin
        update message_location set sent_at = new.sent_at where message_id = new.id;
        return null;
      end $$`);
    this.addSql('create trigger "message_sent_at_moved" after update of "sent_at" on "message" for each row when (old."sent_at" is distinct from new."sent_at") execute function dossier_message_sent_at_moved()');
    this.addSql('create index "message_location_box_order_index" on "message_location" ("mailbox_id", "sent_at" desc, "message_id" desc) where "removed_at" is null');
  }
}
