// Sync engine additions: the watcher lease (one IDLE connection per account across workers), the
// poison-mail retry counter per folder, and the table through which the API asks a worker to check
// IMAP credentials or list folders (the API never opens IMAP itself). Never edit once shipped.
import { Migration } from '@mikro-orm/migrations';

export class Migration20261126090000SyncEngine extends Migration {
  override up(): void {
    this.addSql('alter table "mail_account" add column "watch_owner" varchar(255) null, add column "watch_until" timestamptz null');
    this.addSql('alter table "mailbox" add column "retry_uid" bigint null, add column "retry_count" int not null default 0');
    this.addSql('create table "imap_check" ("id" uuid not null, "kind" text not null, "account_id" uuid null, "secret" text null, "status" text not null default \'pending\', "result" jsonb null, "created_at" timestamptz not null, primary key ("id"))');
    this.addSql('alter table "imap_check" add constraint "imap_check_kind_check" check ("kind" in (\'login\', \'folders\'))');
    this.addSql('alter table "imap_check" add constraint "imap_check_status_check" check ("status" in (\'pending\', \'done\'))');
    this.addSql('alter table "imap_check" add constraint "imap_check_account_id_foreign" foreign key ("account_id") references "mail_account" ("id") on delete cascade');
    this.addSql('create index "imap_check_created_at_index" on "imap_check" ("created_at")');
  }
}
