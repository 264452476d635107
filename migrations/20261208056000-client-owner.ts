// Client owners (the responsible staff member), each user's choice of notice for new client mail, and the
// pending marker of notifications still to go out in an email digest (issue 15). Never edit once shipped.
import { Migration } from '@mikro-orm/migrations';

export class Migration20261208056000ClientOwner extends Migration {
  override up(): void {
    this.addSql('alter table "client" add column "owner_id" uuid null');
    this.addSql('alter table "client" add constraint "client_owner_id_foreign" foreign key ("owner_id") references "app_user" ("id") on delete set null');
    this.addSql('create index "client_owner_id_index" on "client" ("owner_id")');
    this.addSql(`alter table "app_user" add column "client_mail_notice" text not null default 'bell', add column "client_mail_digest_at" timestamptz null`);
    this.addSql(`alter table "app_user" add constraint "app_user_client_mail_notice_check" check ("client_mail_notice" in ('off', 'bell', 'email'))`);
    this.addSql('alter table "notification" add column "email_pending" boolean not null default false');
    // The digest reads a user's pending notifications; the scan, the users that have any.
    this.addSql('create index "notification_email_pending_index" on "notification" ("user_id", "created_at") where "email_pending"');
  }

  override down(): void {
    this.addSql('drop index "notification_email_pending_index"');
    this.addSql('alter table "notification" drop column "email_pending"');
    this.addSql('alter table "app_user" drop column "client_mail_notice", drop column "client_mail_digest_at"');
    this.addSql('alter table "client" drop column "owner_id"');
  }
}
