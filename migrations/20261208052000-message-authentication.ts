// Sender verification (issue 12): every synced message records whether its From is authenticated (DKIM and
// ARC checked by the sync, trusted Authentication-Results), as JSON; null for mail stored before. Never edit once shipped.
import { Migration } from '@mikro-orm/migrations';

export class Migration20261208052000MessageAuthentication extends Migration {
  override up(): void {
    this.addSql('alter table "message" add column "authentication" jsonb null');
  }

  override down(): void {
    this.addSql('alter table "message" drop column "authentication"');
  }
}
