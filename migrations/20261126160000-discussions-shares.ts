// Discussions with a client's contacts (one mail thread, comments from the app and from replies), document
// shares with per-recipient signed links (only token hashes stored) and their downloads, the notification
// link column and the per-user "notify me by email" switch. Never edit once shipped.
import { Migration } from '@mikro-orm/migrations';

export class Migration20261126160000DiscussionsShares extends Migration {
  override up(): void {
    this.addSql(`create table "discussion" (
      "id" uuid not null, "client_id" uuid not null, "account_id" uuid null, "created_by_id" uuid null,
      "subject" text not null, "language" text not null, "root_message_id_header" text not null,
      "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"))`);
    this.addSql('alter table "discussion" add constraint "discussion_client_id_foreign" foreign key ("client_id") references "client" ("id") on delete cascade');
    this.addSql('alter table "discussion" add constraint "discussion_account_id_foreign" foreign key ("account_id") references "mail_account" ("id") on delete set null');
    this.addSql('alter table "discussion" add constraint "discussion_created_by_id_foreign" foreign key ("created_by_id") references "app_user" ("id") on delete set null');
    this.addSql('create index "discussion_client_id_created_at_index" on "discussion" ("client_id", "created_at")');
    this.addSql('create unique index "discussion_root_message_id_header_unique" on "discussion" ("root_message_id_header")');

    this.addSql(`create table "discussion_participant" (
      "id" uuid not null, "discussion_id" uuid not null, "contact_email_id" uuid null, "address" text not null, "name" text null,
      "created_at" timestamptz not null, primary key ("id"))`);
    this.addSql('alter table "discussion_participant" add constraint "discussion_participant_discussion_id_foreign" foreign key ("discussion_id") references "discussion" ("id") on delete cascade');
    this.addSql('alter table "discussion_participant" add constraint "discussion_participant_contact_email_id_foreign" foreign key ("contact_email_id") references "contact_email" ("id") on delete set null');
    this.addSql('create unique index "discussion_participant_discussion_id_address_unique" on "discussion_participant" ("discussion_id", "address")');

    this.addSql(`create table "discussion_comment" (
      "id" uuid not null, "discussion_id" uuid not null, "status" text not null default 'posted',
      "author_user_id" uuid null, "author_address" text null, "author_name" text null, "body" text not null,
      "message_id" uuid null, "message_id_header" text null, "outbox_id" uuid null,
      "created_at" timestamptz not null, primary key ("id"))`);
    this.addSql(`alter table "discussion_comment" add constraint "discussion_comment_status_check" check ("status" in ('posted', 'held'))`);
    this.addSql('alter table "discussion_comment" add constraint "discussion_comment_discussion_id_foreign" foreign key ("discussion_id") references "discussion" ("id") on delete cascade');
    this.addSql('alter table "discussion_comment" add constraint "discussion_comment_author_user_id_foreign" foreign key ("author_user_id") references "app_user" ("id") on delete set null');
    this.addSql('alter table "discussion_comment" add constraint "discussion_comment_message_id_foreign" foreign key ("message_id") references "message" ("id") on delete set null');
    this.addSql('create index "discussion_comment_discussion_id_created_at_index" on "discussion_comment" ("discussion_id", "created_at")');
    this.addSql('create index "discussion_comment_message_id_header_index" on "discussion_comment" ("message_id_header")');
    // One stored message becomes at most one comment, whatever re-runs the hook.
    this.addSql('create unique index "discussion_comment_message_unique" on "discussion_comment" ("discussion_id", "message_id") where "message_id" is not null');

    this.addSql(`create table "share" (
      "id" uuid not null, "client_id" uuid not null, "account_id" uuid null, "created_by_id" uuid null, "message" text not null default '',
      "expires_at" timestamptz not null, "revoked_at" timestamptz null, "revoked_by_id" uuid null,
      "created_at" timestamptz not null, primary key ("id"))`);
    this.addSql('alter table "share" add constraint "share_client_id_foreign" foreign key ("client_id") references "client" ("id") on delete cascade');
    this.addSql('alter table "share" add constraint "share_account_id_foreign" foreign key ("account_id") references "mail_account" ("id") on delete set null');
    this.addSql('alter table "share" add constraint "share_created_by_id_foreign" foreign key ("created_by_id") references "app_user" ("id") on delete set null');
    this.addSql('alter table "share" add constraint "share_revoked_by_id_foreign" foreign key ("revoked_by_id") references "app_user" ("id") on delete set null');
    this.addSql('create index "share_client_id_created_at_index" on "share" ("client_id", "created_at")');

    this.addSql(`create table "share_recipient" (
      "id" uuid not null, "share_id" uuid not null, "contact_email_id" uuid null, "address" text not null, "name" text null,
      "language" text not null, "outbox_id" uuid null, "created_at" timestamptz not null, primary key ("id"))`);
    this.addSql('alter table "share_recipient" add constraint "share_recipient_share_id_foreign" foreign key ("share_id") references "share" ("id") on delete cascade');
    this.addSql('alter table "share_recipient" add constraint "share_recipient_contact_email_id_foreign" foreign key ("contact_email_id") references "contact_email" ("id") on delete set null');
    this.addSql('create index "share_recipient_share_id_index" on "share_recipient" ("share_id")');

    // One link per (recipient, document): the token itself is never stored, only its SHA-256.
    this.addSql(`create table "share_link" (
      "id" uuid not null, "share_recipient_id" uuid not null, "document_id" uuid not null, "token_hash" text not null,
      "created_at" timestamptz not null, primary key ("id"))`);
    this.addSql('alter table "share_link" add constraint "share_link_share_recipient_id_foreign" foreign key ("share_recipient_id") references "share_recipient" ("id") on delete cascade');
    this.addSql('alter table "share_link" add constraint "share_link_document_id_foreign" foreign key ("document_id") references "document" ("id") on delete cascade');
    this.addSql('alter table "share_link" add constraint "share_link_token_hash_unique" unique ("token_hash")');
    this.addSql('create index "share_link_document_id_index" on "share_link" ("document_id")');

    this.addSql(`create table "share_download" (
      "id" uuid not null, "share_link_id" uuid not null, "at" timestamptz not null, "ip" text null, "user_agent" text null, primary key ("id"))`);
    this.addSql('alter table "share_download" add constraint "share_download_share_link_id_foreign" foreign key ("share_link_id") references "share_link" ("id") on delete cascade');
    this.addSql('create index "share_download_share_link_id_at_index" on "share_download" ("share_link_id", "at")');

    this.addSql('alter table "notification" add column "link" text null');
    this.addSql('alter table "app_user" add column "notify_by_email" boolean not null default false');
  }
}
