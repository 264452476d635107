// Private-mail consent (issue 12): filing_consent (owner, address, client → pending | approved | declined) and
// private_message (kept private by the owner of a private mailbox). Existing filings of private mail stand
// for themselves: the owner is taken to consent to the (address, client) pairs already in a client's log, so
// an upgrade changes nothing for relationships in use. Never edit once shipped.
import { Migration } from '@mikro-orm/migrations';

export class Migration20261208051000FilingConsent extends Migration {
  override up(): void {
    this.addSql('create table "filing_consent" ("id" uuid not null, "owner_id" uuid not null, "address" text not null, "client_id" uuid not null, "status" text not null, "asked" boolean not null default false, "requested_by_id" uuid null, "notified_at" timestamptz null, "decided_at" timestamptz null, "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"))');
    this.addSql(`alter table "filing_consent" add constraint "filing_consent_status_check" check ("status" in ('pending', 'approved', 'declined'))`);
    this.addSql('alter table "filing_consent" add constraint "filing_consent_owner_id_address_client_id_unique" unique ("owner_id", "address", "client_id")');
    this.addSql('alter table "filing_consent" add constraint "filing_consent_owner_id_foreign" foreign key ("owner_id") references "app_user" ("id") on delete cascade');
    this.addSql('alter table "filing_consent" add constraint "filing_consent_client_id_foreign" foreign key ("client_id") references "client" ("id") on delete cascade');
    this.addSql('alter table "filing_consent" add constraint "filing_consent_requested_by_id_foreign" foreign key ("requested_by_id") references "app_user" ("id") on delete set null');
    this.addSql('create index "filing_consent_address_client_index" on "filing_consent" ("address", "client_id")');
    this.addSql('create index "filing_consent_owner_id_index" on "filing_consent" ("owner_id")');
    // Every sync batch looks for requests to announce: this stays empty between them.
    this.addSql(`create index "filing_consent_unannounced_index" on "filing_consent" ("created_at") where "status" = 'pending' and "notified_at" is null`);
    this.addSql('create table "private_message" ("message_id" uuid not null, "marked_by_id" uuid null, "created_at" timestamptz not null, primary key ("message_id"))');
    this.addSql('alter table "private_message" add constraint "private_message_message_id_foreign" foreign key ("message_id") references "message" ("id") on delete cascade');
    this.addSql('alter table "private_message" add constraint "private_message_marked_by_id_foreign" foreign key ("marked_by_id") references "app_user" ("id") on delete set null');
    this.addSql(`insert into "filing_consent" ("id", "owner_id", "address", "client_id", "status", "asked", "created_at", "updated_at")
      select gen_random_uuid(), x.owner_id, x.address, x.client_id, 'approved', false, now(), now() from (
        select distinct a.owner_id, ma.address, c.client_id
        from "communication" c
        join "message_address" ma on ma.message_id = c.message_id and ma.role in ('from', 'to', 'cc', 'reply_to')
        join "contact_email" ce on ce.address = ma.address
        join "client_contact" cc on cc.contact_id = ce.contact_id and cc.client_id = c.client_id
        join "message_location" l on l.message_id = c.message_id
        join "mailbox" mb on mb.id = l.mailbox_id
        join "mail_account" a on a.id = mb.account_id and a.visibility = 'private'
        where c.filed_by = 'auto') x
      on conflict do nothing`);
  }

  override down(): void {
    this.addSql('drop table "private_message"');
    this.addSql('drop table "filing_consent"');
  }
}
