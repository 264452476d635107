// The firm-wide log (issue 15) pages newest-first over every client by (occurred_at, id): without an index in
// that order, page two onwards sorts the whole table. A reason or an area ("every Annual tax return record this
// year") is usually a small share of the log: walked by its own index in the same order. Never edit once shipped.
import { Migration } from '@mikro-orm/migrations';

export class Migration20261208057002FirmLogIndexes extends Migration {
  override up(): void {
    this.addSql('create index "communication_occurred_id_index" on "communication" ("occurred_at" desc, "id" desc)');
    this.addSql('create index "communication_reason_occurred_index" on "communication" ("reason_id", "occurred_at" desc, "id" desc) where "reason_id" is not null');
    this.addSql('create index "communication_area_occurred_index" on "communication" ("area_id", "occurred_at" desc, "id" desc) where "area_id" is not null');
  }

  override down(): void {
    this.addSql('drop index "communication_occurred_id_index"');
    this.addSql('drop index "communication_reason_occurred_index"');
    this.addSql('drop index "communication_area_occurred_index"');
  }
}
