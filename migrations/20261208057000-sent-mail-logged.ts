// Mail Dossier sends is stored as a message as soon as the SMTP server takes it (issue 15): the outbox row
// points at that message, so its Sent copy (when one syncs later) joins it by Message-ID and the sending
// account's viewers see it before that (or forever, when the account has no Sent folder). Never edit once shipped.
import { Migration } from '@mikro-orm/migrations';

export class Migration20261208057000SentMailLogged extends Migration {
  override up(): void {
    this.addSql('alter table "outbox" add column "sent_message_id" uuid null');
    this.addSql('alter table "outbox" add constraint "outbox_sent_message_id_foreign" foreign key ("sent_message_id") references "message" ("id") on delete set null');
    this.addSql('create index "outbox_sent_message_id_index" on "outbox" ("sent_message_id")');
  }

  override down(): void {
    this.addSql('alter table "outbox" drop column "sent_message_id"');
  }
}
