// Restricted clients (issue 12): a client marked restricted is visible only to its team and to admins.
// The team is a plain (client, user) table; both sides cascade. Never edit once shipped.
import { Migration } from '@mikro-orm/migrations';

export class Migration20261208053000RestrictedClients extends Migration {
  override up(): void {
    this.addSql('alter table "client" add column "restricted" boolean not null default false');
    this.addSql(`create table "client_team" ("client_id" uuid not null, "user_id" uuid not null, "created_at" timestamptz not null, primary key ("client_id", "user_id"))`);
    this.addSql('alter table "client_team" add constraint "client_team_client_id_foreign" foreign key ("client_id") references "client" ("id") on delete cascade');
    this.addSql('alter table "client_team" add constraint "client_team_user_id_foreign" foreign key ("user_id") references "app_user" ("id") on delete cascade');
    this.addSql('create index "client_team_user_id_index" on "client_team" ("user_id")');
  }

  override down(): void {
    this.addSql('drop table "client_team"');
    this.addSql('alter table "client" drop column "restricted"');
  }
}
