// Contacts in several clients (issue 15): a contact files its mail to all its clients (as before), to one
// primary client, or asks staff; asked-about mail waits in message_awaiting_client until someone files
// it. Never edit once shipped.
import { Migration } from '@mikro-orm/migrations';

export class Migration20261208057001ContactFiling extends Migration {
  override up(): void {
    this.addSql(`alter table "contact" add column "filing" text not null default 'all', add column "primary_client_id" uuid null`);
    this.addSql('alter table "contact" add constraint "contact_primary_client_id_foreign" foreign key ("primary_client_id") references "client" ("id") on delete set null');
    this.addSql(`create table "message_awaiting_client" ("message_id" uuid not null, "client_ids" text[] not null default '{}', "created_at" timestamptz not null, primary key ("message_id"))`);
    this.addSql('alter table "message_awaiting_client" add constraint "message_awaiting_client_message_id_foreign" foreign key ("message_id") references "message" ("id") on delete cascade');
  }

  override down(): void {
    this.addSql('drop table "message_awaiting_client"');
    this.addSql('alter table "contact" drop column "filing", drop column "primary_client_id"');
  }
}
