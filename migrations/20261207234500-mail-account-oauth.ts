// Mail accounts that sign in with OAuth2 (Microsoft 365, Google) and receive-only accounts (no SMTP):
// `auth` says how an account signs in, `provider` which OAuth provider issued its tokens (tokens live in
// the encrypted `secret` like passwords); the SMTP columns become optional. `oauth_flow` holds a
// started authorization (state, PKCE verifier encrypted) until its callback. Never edit once shipped.
import { Migration } from '@mikro-orm/migrations';

export class Migration20261207234500MailAccountOauth extends Migration {
  override up(): void {
    this.addSql(`alter table "mail_account"
      add column "auth" text not null default 'password', add column "provider" text null,
      alter column "smtp_host" drop not null, alter column "smtp_port" drop not null,
      alter column "smtp_secure" drop not null, alter column "smtp_username" drop not null`);
    this.addSql(`alter table "mail_account" add constraint "mail_account_auth_check" check ("auth" in ('password', 'oauth2', 'oauth2-app'))`);
    this.addSql(`alter table "mail_account" add constraint "mail_account_provider_check" check ("provider" in ('microsoft', 'google'))`);
    this.addSql(`create table "oauth_flow" (
      "id" uuid not null, "state_hash" varchar(64) not null, "user_id" uuid not null, "session_hash" varchar(64) null,
      "provider" text not null, "visibility" text not null, "name" text null, "mailbox" text null, "account_id" uuid null,
      "secret" text not null, "created_at" timestamptz not null, primary key ("id"))`);
    this.addSql('alter table "oauth_flow" add constraint "oauth_flow_state_hash_unique" unique ("state_hash")');
    this.addSql('create index "oauth_flow_created_at_index" on "oauth_flow" ("created_at")');
    this.addSql('alter table "oauth_flow" add constraint "oauth_flow_user_id_foreign" foreign key ("user_id") references "app_user" ("id") on update cascade on delete cascade');
    this.addSql('alter table "oauth_flow" add constraint "oauth_flow_account_id_foreign" foreign key ("account_id") references "mail_account" ("id") on update cascade on delete cascade');
    this.addSql(`alter table "oauth_flow" add constraint "oauth_flow_provider_check" check ("provider" in ('microsoft', 'google'))`);
    this.addSql(`alter table "oauth_flow" add constraint "oauth_flow_visibility_check" check ("visibility" in ('private', 'public'))`);
  }

  override down(): void {
    this.addSql('drop table if exists "oauth_flow" cascade');
    this.addSql('alter table "mail_account" drop constraint "mail_account_auth_check", drop constraint "mail_account_provider_check", drop column "auth", drop column "provider"');
  }
}
