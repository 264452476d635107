// The unfiled queue reads only locations of unfiled mail: each location carries whether its message is
// filed to a client, kept by triggers so writers (filing, unfiling, the sync pipeline) need not know,
// with an index on a mailbox's unfiled live locations newest-first. Without it the queue walked every
// Sent folder to its end (sent mail is nearly all filed) to prove it held nothing unfiled. Never edit
// once shipped.
//
// The flag may lag behind a new filing (readers still check for a communication row) but must never
// claim "filed" for unfiled mail, which would hide it from the queue: unfiling locks the messages it
// unfiles and a new location locks its message, so neither can miss the other's rows.
import { Migration } from '@mikro-orm/migrations';

export class Migration20261127100000LocationFiled extends Migration {
  override up(): void {
    this.addSql('alter table "message_location" add column "filed" boolean not null default false');
    this.addSql('update "message_location" l set "filed" = true where exists (select 1 from "communication" c where c."message_id" = l."message_id")');
    // One trigger copies both from the message (it replaces message_location_sent_at): a plpgsql call per
    // location is what the sync pays for this.
    this.addSql(`create or replace function dossier_location_from_message() returns trigger language plpgsql as $$
      begin
        select m.sent_at into new.sent_at from message m where m.id = new.message_id for share;
        new.filed := exists (select 1 from communication c where c.message_id = new.message_id);
        return new;
      end $$`);
    this.addSql('drop trigger "message_location_sent_at" on "message_location"');
    this.addSql('drop function dossier_location_sent_at()');
    this.addSql('create trigger "message_location_from_message" before insert or update of "message_id" on "message_location" for each row execute function dossier_location_from_message()');
    // Set-based: retroactive filing inserts thousands of records in one statement.
    this.addSql(`create or replace function dossier_communication_filed() returns trigger language plpgsql as $$
      begin
        update message_location l set filed = true
          where l.message_id in (select f.message_id from filed_rows f where f.message_id is not null) and not l.filed;
        return null;
      end $$`);
    this.addSql('create trigger "communication_filed" after insert on "communication" referencing new table as filed_rows for each statement execute function dossier_communication_filed()');
    this.addSql(`create or replace function dossier_communication_unfiled() returns trigger language plpgsql as $$
      begin
        -- Waits for transactions adding locations of these messages, so the update below sees them.
        perform 1 from message m where m.id in (select u.message_id from unfiled_rows u) order by m.id for no key update;
        update message_location l set filed = false
          where l.message_id in (select u.message_id from unfiled_rows u) and l.filed
            and not exists (select 1 from communication c where c.message_id = l.message_id);
        return null;
      end $$`);
    this.addSql('create trigger "communication_unfiled" after delete on "communication" referencing old table as unfiled_rows for each statement execute function dossier_communication_unfiled()');
    // A record moved to another message (nothing does this today) counts as an unfiling and a filing.
    this.addSql(`create or replace function dossier_communication_moved() returns trigger language plpgsql as $$
      begin
        perform 1 from message m where m.id in (old.message_id, new.message_id) order by m.id for no key update;
        update message_location l set filed = exists (select 1 from communication c where c.message_id = l.message_id)
          where l.message_id in (old.message_id, new.message_id);
        return null;
      end $$`);
    this.addSql('create trigger "communication_moved" after update of "message_id" on "communication" for each row when (old."message_id" is distinct from new."message_id") execute function dossier_communication_moved()');
    this.addSql('create index "message_location_box_unfiled_index" on "message_location" ("mailbox_id", "sent_at" desc, "message_id" desc) where "removed_at" is null and not "filed"');
  }
}
