// Follow-up tasks with due times, each user's calendar-feed secret (hashed), and notifications that point
// at a task. Never edit once shipped.
import { Migration } from '@mikro-orm/migrations';

export class Migration20261207233000Tasks extends Migration {
  override up(): void {
    this.addSql(`create table "task" (
      "id" uuid not null, "title" text not null, "notes" text not null default '', "due_at" timestamptz null,
      "status" text not null default 'open', "assignee_id" uuid not null, "created_by_id" uuid null, "client_id" uuid null,
      "communication_id" uuid null, "message_id" uuid null, "notified_due_at" timestamptz null, "done_at" timestamptz null,
      "revision" int not null default 0, "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"))`);
    this.addSql(`alter table "task" add constraint "task_status_check" check ("status" in ('open', 'done'))`);
    this.addSql('alter table "task" add constraint "task_assignee_id_foreign" foreign key ("assignee_id") references "app_user" ("id") on delete cascade');
    this.addSql('alter table "task" add constraint "task_created_by_id_foreign" foreign key ("created_by_id") references "app_user" ("id") on delete set null');
    this.addSql('alter table "task" add constraint "task_client_id_foreign" foreign key ("client_id") references "client" ("id") on delete cascade');
    this.addSql('alter table "task" add constraint "task_communication_id_foreign" foreign key ("communication_id") references "communication" ("id") on delete set null');
    this.addSql('alter table "task" add constraint "task_message_id_foreign" foreign key ("message_id") references "message" ("id") on delete set null');
    this.addSql('create index "task_assignee_id_status_due_at_index" on "task" ("assignee_id", "status", "due_at")');
    this.addSql('create index "task_client_id_index" on "task" ("client_id")');
    // The due scan reads open tasks that are due and not yet notified for their due time.
    this.addSql(`create index "task_due_unnotified_index" on "task" ("due_at") where "status" = 'open' and "due_at" is not null`);

    this.addSql(`create table "calendar_feed" ("user_id" uuid not null, "token_hash" varchar(255) not null, "created_at" timestamptz not null, primary key ("user_id"))`);
    this.addSql('alter table "calendar_feed" add constraint "calendar_feed_token_hash_unique" unique ("token_hash")');
    this.addSql('alter table "calendar_feed" add constraint "calendar_feed_user_id_foreign" foreign key ("user_id") references "app_user" ("id") on delete cascade');

    this.addSql('alter table "notification" add column "task_id" uuid null');
    this.addSql('alter table "notification" add constraint "notification_task_id_foreign" foreign key ("task_id") references "task" ("id") on delete cascade');
  }
}
