// Every migration, in order. Never edit one that has shipped: add a new file and list it here.
import { Migration20261125000000Initial } from './20261125000000-initial.ts';
import { Migration20261126090000SyncEngine } from './20261126090000-sync-engine.ts';
import { Migration20261126100000OutboxSending } from './20261126100000-outbox-sending.ts';
import { Migration20261126120000AttachmentNameSearch } from './20261126120000-attachment-name-search.ts';
import { Migration20261126130000VisibilityProbeIndex } from './20261126130000-visibility-probe-index.ts';
import { Migration20261126140000FileRequests } from './20261126140000-file-requests.ts';
import { Migration20261126160000DiscussionsShares } from './20261126160000-discussions-shares.ts';
import { Migration20261126180000MessageSearchCap } from './20261126180000-message-search-cap.ts';
import { Migration20261126190000LocationOrder } from './20261126190000-location-order.ts';
import { Migration20261126200000FilingExclusion } from './20261126200000-filing-exclusion.ts';
import { Migration20261127090000MessageSearchTerms } from './20261127090000-message-search-terms.ts';
import { Migration20261127100000LocationFiled } from './20261127100000-location-filed.ts';
import { Migration20261127110000MessageLz4 } from './20261127110000-message-lz4.ts';
import { Migration20261207233000Tasks } from './20261207233000-tasks.ts';
import { Migration20261207234500MailAccountOauth } from './20261207234500-mail-account-oauth.ts';
import { Migration20261208000000TwoFactor } from './20261208000000-two-factor.ts';
import { Migration20261208051000FilingConsent } from './20261208051000-filing-consent.ts';
import { Migration20261208003000OutboxTokens } from './20261208003000-outbox-tokens.ts';
import { Migration20261208056000ClientOwner } from './20261208056000-client-owner.ts';
import { Migration20261208057000SentMailLogged } from './20261208057000-sent-mail-logged.ts';
import { Migration20261208057001ContactFiling } from './20261208057001-contact-filing.ts';
import { Migration20261208058000MessageRead } from './20261208058000-message-read.ts';

export const migrationsList = [
  { name: '20261125000000-initial', class: Migration20261125000000Initial },
  { name: '20261126090000-sync-engine', class: Migration20261126090000SyncEngine },
  { name: '20261126100000-outbox-sending', class: Migration20261126100000OutboxSending },
  { name: '20261126120000-attachment-name-search', class: Migration20261126120000AttachmentNameSearch },
  { name: '20261126130000-visibility-probe-index', class: Migration20261126130000VisibilityProbeIndex },
  { name: '20261126140000-file-requests', class: Migration20261126140000FileRequests },
  { name: '20261126160000-discussions-shares', class: Migration20261126160000DiscussionsShares },
  { name: '20261126180000-message-search-cap', class: Migration20261126180000MessageSearchCap },
  { name: '20261126190000-location-order', class: Migration20261126190000LocationOrder },
  { name: '20261126200000-filing-exclusion', class: Migration20261126200000FilingExclusion },
  { name: '20261127090000-message-search-terms', class: Migration20261127090000MessageSearchTerms },
  { name: '20261127100000-location-filed', class: Migration20261127100000LocationFiled },
  { name: '20261127110000-message-lz4', class: Migration20261127110000MessageLz4 },
  { name: '20261207233000-tasks', class: Migration20261207233000Tasks },
  { name: '20261207234500-mail-account-oauth', class: Migration20261207234500MailAccountOauth },
  { name: '20261208000000-two-factor', class: Migration20261208000000TwoFactor },
  { name: '20261208003000-outbox-tokens', class: Migration20261208003000OutboxTokens },
  { name: '20261208051000-filing-consent', class: Migration20261208051000FilingConsent },
  { name: '20261208056000-client-owner', class: Migration20261208056000ClientOwner },
  { name: '20261208057000-sent-mail-logged', class: Migration20261208057000SentMailLogged },
  { name: '20261208057001-contact-filing', class: Migration20261208057001ContactFiling },
  { name: '20261208058000-message-read', class: Migration20261208058000MessageRead },
];
