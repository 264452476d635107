// Message bodies and search vectors are compressed with lz4 instead of pglz: the sync inserts every new
// message's text and vector in the batch's transaction, and pglz made those inserts take twice as long
// (1.0–1.6 ms a row against 0.7 measured in bench conditions). Applies to rows written from now on;
// stored rows stay readable as they are. PostgreSQL built without lz4 (PGlite) keeps pglz. Never edit
// once shipped.
import { Migration } from '@mikro-orm/migrations';

export class Migration20261127110000MessageLz4 extends Migration {
  override up(): void {
    this.addSql(`do $$ begin
      alter table "message" alter column "text" set compression lz4, alter column "html" set compression lz4, alter column "search" set compression lz4;
    exception when feature_not_supported then
      raise notice 'lz4 is not available in this PostgreSQL: message columns keep pglz';
    end $$`);
  }

  override down(): void {
    this.addSql('alter table "message" alter column "text" set compression default, alter column "html" set compression default, alter column "search" set compression default');
  }
}
