// Two-factor sign-in (issue 12): the user's TOTP secret (AES-256-GCM, like mailbox passwords) and the last
// time step used (a code is accepted once), single-use recovery codes stored as sha256, and a session scope
// so a user the firm requires to enrol gets a session that can do nothing but enrol. Never edit once shipped.
import { Migration } from '@mikro-orm/migrations';

export class Migration20261208000000TwoFactor extends Migration {
  override up(): void {
    this.addSql('alter table "app_user" add column "totp_secret" text null, add column "totp_enabled_at" timestamptz null, add column "totp_last_step" integer null');
    this.addSql('create table "recovery_code" ("id" uuid not null, "user_id" uuid not null, "code_hash" varchar(255) not null, "used_at" timestamptz null, "created_at" timestamptz not null, primary key ("id"))');
    this.addSql('alter table "recovery_code" add constraint "recovery_code_user_id_foreign" foreign key ("user_id") references "app_user" ("id") on delete cascade');
    this.addSql('create index "recovery_code_user_id_index" on "recovery_code" ("user_id")');
    this.addSql(`alter table "session" add column "scope" text not null default 'full'`);
    this.addSql(`alter table "session" add constraint "session_scope_check" check ("scope" in ('full', 'totp_enrolment'))`);
  }

  override down(): void {
    this.addSql('alter table "session" drop column "scope"');
    this.addSql('drop table "recovery_code"');
    this.addSql('alter table "app_user" drop column "totp_secret", drop column "totp_enabled_at", drop column "totp_last_step"');
  }
}
