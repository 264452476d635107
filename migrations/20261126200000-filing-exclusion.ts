// Sticky unfiling: a (client, message) pair staff removed from the log is not filed again automatically.
import { Migration } from '@mikro-orm/migrations';

export class Migration20261126200000FilingExclusion extends Migration {
  override up(): void {
    this.addSql('create table "filing_exclusion" ("client_id" uuid not null, "message_id" uuid not null, "created_by_id" uuid null, "created_at" timestamptz not null, primary key ("client_id", "message_id"))');
    this.addSql('alter table "filing_exclusion" add constraint "filing_exclusion_client_id_foreign" foreign key ("client_id") references "client" ("id") on update cascade on delete cascade');
    this.addSql('alter table "filing_exclusion" add constraint "filing_exclusion_message_id_foreign" foreign key ("message_id") references "message" ("id") on update cascade on delete cascade');
    this.addSql('alter table "filing_exclusion" add constraint "filing_exclusion_created_by_id_foreign" foreign key ("created_by_id") references "app_user" ("id") on delete set null');
    this.addSql('create index "filing_exclusion_message_id_index" on "filing_exclusion" ("message_id")');
  }
}
