// Lists test "has a live location in one of these mailboxes" once per message they walk; with the
// mailbox in the index that probe reads no table rows (index-only). Never edit once shipped.
import { Migration } from '@mikro-orm/migrations';

export class Migration20261126130000VisibilityProbeIndex extends Migration {
  override up(): void {
    this.addSql('create index if not exists "message_location_live_message_index" on "message_location" ("message_id", "mailbox_id") where "removed_at" is null');
  }
}
