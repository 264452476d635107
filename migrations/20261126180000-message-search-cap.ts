// The message search vector indexes the first 20,000 characters of the body text instead of 200,000:
// computing and GIN-indexing it was most of the cost of storing a message (about 6 ms per row in the
// sync benchmark), and the opening of a mail is where the words people search for are. Never edit once shipped.
import { Migration } from '@mikro-orm/migrations';

export class Migration20261126180000MessageSearchCap extends Migration {
  override up(): void {
    // A generated column's expression cannot be altered before PostgreSQL 17: drop (with its index) and add.
    this.addSql('alter table "message" drop column "search"');
    this.addSql(`alter table "message" add column "search" tsvector generated always as (to_tsvector('simple'::regconfig, dossier_unaccent(coalesce("subject", '') || ' ' || coalesce("from_name", '') || ' ' || coalesce("from_address", '') || ' ' || left(coalesce("text", ''), 20000)))) stored`);
    this.addSql('create index "message_search_index" on "message" using gin ("search")');
  }
}
