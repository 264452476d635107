// The message search vector is built by the application (core/mail/search-terms.ts: in the sync's parse
// threads, on every core) instead of by a generated column: to_tsvector ran at ~5 MB/s inside each
// batch's serial commit and was the largest cost of storing mail. DROP EXPRESSION keeps every stored
// vector; words match as before (rows indexed earlier keep PostgreSQL's reading of addresses and
// hyphenated words until they are re-indexed). Never edit once shipped.
import { Migration } from '@mikro-orm/migrations';

export class Migration20261127090000MessageSearchTerms extends Migration {
  override up(): void {
    this.addSql('alter table "message" alter column "search" drop expression');
  }
}
