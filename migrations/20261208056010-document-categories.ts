// The firm's managed list of document categories (issue 15): staff add and rename, admins delete. A document
// keeps its category as text (existing free-text categories stay as they are); the list seeds from them.
// Never edit once shipped.
import { Migration } from '@mikro-orm/migrations';

export class Migration20261208056010DocumentCategories extends Migration {
  override up(): void {
    this.addSql(`create table "document_category" ("id" uuid not null, "name" varchar(255) not null, "active" boolean not null default true,
      "created_at" timestamptz not null, primary key ("id"))`);
    this.addSql('alter table "document_category" add constraint "document_category_name_unique" unique ("name")');
    this.addSql(`insert into "document_category" ("id", "name", "active", "created_at")
      select gen_random_uuid(), c, true, now() from (select distinct "category" as c from "document" where "category" is not null) d`);
  }

  override down(): void {
    this.addSql('drop table "document_category"');
  }
}
