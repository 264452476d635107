// Attachment names become searchable by their words: the 'simple' parser reads "Declaración.pdf" as one
// file token, so "declaracion" never matched it. Adds the GIN index the search needs. Never edit once shipped.
import { Migration } from '@mikro-orm/migrations';

export class Migration20261126120000AttachmentNameSearch extends Migration {
  override up(): void {
    this.addSql('alter table "attachment" drop column if exists "search"');
    // The whole name (so "informe.pdf" still matches as typed) plus its words split at punctuation.
    this.addSql(`alter table "attachment" add column "search" tsvector generated always as (to_tsvector('simple'::regconfig, dossier_unaccent(coalesce("filename", '') || ' ' || regexp_replace(coalesce("filename", ''), '[[:punct:]]+', ' ', 'g')))) stored`);
    this.addSql('create index "attachment_search_index" on "attachment" using gin ("search")');
  }
}
