// Read state per user (issue 16): one row per (user, message) the user has read; no row means unread.
// Never edit once shipped.
import { Migration } from '@mikro-orm/migrations';

export class Migration20261208058000MessageRead extends Migration {
  override up(): void {
    this.addSql('create table "message_read" ("user_id" uuid not null, "message_id" uuid not null, "read_at" timestamptz not null, primary key ("user_id", "message_id"))');
    this.addSql('alter table "message_read" add constraint "message_read_user_id_foreign" foreign key ("user_id") references "app_user" ("id") on delete cascade');
    this.addSql('alter table "message_read" add constraint "message_read_message_id_foreign" foreign key ("message_id") references "message" ("id") on delete cascade');
    this.addSql('create index "message_read_message_id_index" on "message_read" ("message_id")');
  }

  override down(): void {
    this.addSql('drop table "message_read"');
  }
}
