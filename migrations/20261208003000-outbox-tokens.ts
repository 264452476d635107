// Outbox rows keep no share link or request token in clear text (issue 12): a share mail's body is sealed
// with the secret key (`sealed`), and a file-request mail names the recipient whose reply token goes into
// Reply-To when it is sent (`reply_token_of`). Rows still waiting to be sent are rewritten here; rows already
// sent keep what they have. Never edit once shipped.
import { Migration } from '@mikro-orm/migrations';

export class Migration20261208003000OutboxTokens extends Migration {
  override up(): void {
    this.addSql('alter table "outbox" add column "sealed" boolean not null default false, add column "reply_token_of" uuid null');
    this.addSql(`update "outbox" o set "reply_token_of" = r."id", "reply_to" = null
      from "file_request_recipient" r
      where o."status" <> 'sent' and o."reply_to" is not null and o."reply_to" like '%+r-' || r."token" || '@%'`);
  }

  override down(): void {
    this.addSql('alter table "outbox" drop column "sealed", drop column "reply_token_of"');
  }
}
