// File requests answered by email: requests, their recipients (reply token, sent Message-ID), checklist
// items, received documents, the timeline, staff notifications and firm-wide settings. Never edit once shipped.
import { Migration } from '@mikro-orm/migrations';

export class Migration20261126140000FileRequests extends Migration {
  override up(): void {
    this.addSql(`create table "file_request" (
      "id" uuid not null, "client_id" uuid not null, "account_id" uuid null, "created_by_id" uuid null,
      "subject" text not null, "description" text not null default '', "message" text not null default '',
      "status" text not null default 'open', "due_date" text null, "document_ids" jsonb not null default '[]',
      "reminder_count" int not null default 1, "reminder_interval_seconds" int not null default 259200,
      "reminders_sent" int not null default 0, "next_reminder_at" timestamptz null, "overdue_notified_at" timestamptz null,
      "sent_at" timestamptz null, "fulfilled_at" timestamptz null, "cancelled_at" timestamptz null,
      "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"))`);
    this.addSql(`alter table "file_request" add constraint "file_request_status_check" check ("status" in ('open', 'partially_fulfilled', 'fulfilled', 'cancelled'))`);
    this.addSql(`alter table "file_request" add constraint "file_request_due_date_check" check ("due_date" ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$')`);
    this.addSql('alter table "file_request" add constraint "file_request_client_id_foreign" foreign key ("client_id") references "client" ("id") on delete cascade');
    this.addSql('alter table "file_request" add constraint "file_request_account_id_foreign" foreign key ("account_id") references "mail_account" ("id") on delete set null');
    this.addSql('alter table "file_request" add constraint "file_request_created_by_id_foreign" foreign key ("created_by_id") references "app_user" ("id") on delete set null');
    this.addSql('create index "file_request_client_id_created_at_index" on "file_request" ("client_id", "created_at")');
    this.addSql('create index "file_request_created_at_index" on "file_request" ("created_at")');
    // The reminder scan looks only at open requests with a due reminder.
    this.addSql(`create index "file_request_next_reminder_at_index" on "file_request" ("next_reminder_at") where "status" in ('open', 'partially_fulfilled')`);

    this.addSql(`create table "file_request_recipient" (
      "id" uuid not null, "file_request_id" uuid not null, "contact_email_id" uuid null, "address" text not null, "name" text null,
      "language" text not null, "token" text not null, "message_id_header" text null, "outbox_id" uuid null,
      "created_at" timestamptz not null, primary key ("id"))`);
    this.addSql('alter table "file_request_recipient" add constraint "file_request_recipient_token_unique" unique ("token")');
    this.addSql('alter table "file_request_recipient" add constraint "file_request_recipient_file_request_id_foreign" foreign key ("file_request_id") references "file_request" ("id") on delete cascade');
    this.addSql('alter table "file_request_recipient" add constraint "file_request_recipient_contact_email_id_foreign" foreign key ("contact_email_id") references "contact_email" ("id") on delete set null');
    this.addSql('create index "file_request_recipient_file_request_id_index" on "file_request_recipient" ("file_request_id")');
    this.addSql('create index "file_request_recipient_address_index" on "file_request_recipient" ("address")');
    this.addSql('create index "file_request_recipient_message_id_header_index" on "file_request_recipient" ("message_id_header")');

    this.addSql(`create table "file_request_item" (
      "id" uuid not null, "file_request_id" uuid not null, "position" int not null, "label" text not null,
      "fulfilled" boolean not null default false, "fulfilled_at" timestamptz null, "created_at" timestamptz not null, primary key ("id"))`);
    this.addSql('alter table "file_request_item" add constraint "file_request_item_file_request_id_foreign" foreign key ("file_request_id") references "file_request" ("id") on delete cascade');
    this.addSql('create index "file_request_item_file_request_id_index" on "file_request_item" ("file_request_id")');

    this.addSql(`create table "file_request_document" (
      "file_request_id" uuid not null, "document_id" uuid not null, "item_id" uuid null, "message_id" uuid null,
      "created_at" timestamptz not null, primary key ("file_request_id", "document_id"))`);
    this.addSql('alter table "file_request_document" add constraint "file_request_document_file_request_id_foreign" foreign key ("file_request_id") references "file_request" ("id") on delete cascade');
    this.addSql('alter table "file_request_document" add constraint "file_request_document_document_id_foreign" foreign key ("document_id") references "document" ("id") on delete cascade');
    this.addSql('alter table "file_request_document" add constraint "file_request_document_item_id_foreign" foreign key ("item_id") references "file_request_item" ("id") on delete set null');
    this.addSql('alter table "file_request_document" add constraint "file_request_document_message_id_foreign" foreign key ("message_id") references "message" ("id") on delete set null');
    this.addSql('create index "file_request_document_document_id_index" on "file_request_document" ("document_id")');

    this.addSql(`create table "file_request_event" (
      "id" uuid not null, "file_request_id" uuid not null, "kind" text not null, "at" timestamptz not null,
      "actor_id" uuid null, "address" text null, "message_id" uuid null, "outbox_id" uuid null,
      "document_ids" jsonb not null default '[]', "details" jsonb not null default '{}', primary key ("id"))`);
    this.addSql(`alter table "file_request_event" add constraint "file_request_event_kind_check" check ("kind" in ('sent', 'resent', 'reminded', 'replied', 'document_received', 'held_for_review', 'accepted', 'item_updated', 'acknowledged', 'overdue', 'cancelled', 'fulfilled'))`);
    this.addSql('alter table "file_request_event" add constraint "file_request_event_file_request_id_foreign" foreign key ("file_request_id") references "file_request" ("id") on delete cascade');
    this.addSql('alter table "file_request_event" add constraint "file_request_event_actor_id_foreign" foreign key ("actor_id") references "app_user" ("id") on delete set null');
    this.addSql('alter table "file_request_event" add constraint "file_request_event_message_id_foreign" foreign key ("message_id") references "message" ("id") on delete set null');
    this.addSql('create index "file_request_event_file_request_id_at_index" on "file_request_event" ("file_request_id", "at")');
    // One reply is recorded once per request whatever re-runs the hook.
    this.addSql(`create unique index "file_request_event_reply_unique" on "file_request_event" ("file_request_id", "message_id", "kind") where "message_id" is not null and "kind" in ('replied', 'held_for_review')`);

    this.addSql(`create table "notification" (
      "id" uuid not null, "user_id" uuid not null, "kind" text not null, "title" text not null, "body" text not null default '',
      "client_id" uuid null, "file_request_id" uuid null, "message_id" uuid null, "read_at" timestamptz null,
      "created_at" timestamptz not null, primary key ("id"))`);
    this.addSql('alter table "notification" add constraint "notification_user_id_foreign" foreign key ("user_id") references "app_user" ("id") on delete cascade');
    this.addSql('alter table "notification" add constraint "notification_client_id_foreign" foreign key ("client_id") references "client" ("id") on delete cascade');
    this.addSql('alter table "notification" add constraint "notification_file_request_id_foreign" foreign key ("file_request_id") references "file_request" ("id") on delete cascade');
    this.addSql('alter table "notification" add constraint "notification_message_id_foreign" foreign key ("message_id") references "message" ("id") on delete set null');
    this.addSql('create index "notification_user_id_created_at_index" on "notification" ("user_id", "created_at")');

    this.addSql(`create table "firm_setting" ("key" text not null, "value" jsonb not null, "updated_by_id" uuid null, "updated_at" timestamptz not null, primary key ("key"))`);
    this.addSql('alter table "firm_setting" add constraint "firm_setting_updated_by_id_foreign" foreign key ("updated_by_id") references "app_user" ("id") on delete set null');
  }
}
