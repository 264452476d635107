// A connected mailbox account (IMAP in, SMTP out) and its synced folders with their sync cursors.
// Passwords and OAuth2 tokens live only in `secret` (AES-256-GCM, see secrets.ts) and are never serialised.
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import { User } from '../staff/user.entity.ts';

export const VISIBILITIES = ['private', 'public'] as const;
export type Visibility = (typeof VISIBILITIES)[number];
export const ACCOUNT_STATUSES = ['syncing', 'idle', 'error', 'needs_reauth'] as const;
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];
export const FOLDER_ROLES = ['inbox', 'sent', 'other'] as const;
export type FolderRole = (typeof FOLDER_ROLES)[number];
/** Whether a sent reply is APPENDed to Sent: 'auto' skips servers known to save sent mail themselves. */
export const SENT_COPY_MODES = ['auto', 'always', 'never'] as const;
export type SentCopyMode = (typeof SENT_COPY_MODES)[number];
/** How an account signs in: a password, a user's OAuth2 grant, or an app-only (client credentials) grant. */
export const ACCOUNT_AUTHS = ['password', 'oauth2', 'oauth2-app'] as const;
export type AccountAuth = (typeof ACCOUNT_AUTHS)[number];
export const OAUTH_PROVIDERS = ['microsoft', 'google'] as const;
export type OAuthProviderId = (typeof OAUTH_PROVIDERS)[number];

export const MailAccount = defineEntity({
  name: 'MailAccount',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    owner: () => p.manyToOne(User).deleteRule('cascade'),
    name: p.string(),
    email: p.string().index(),
    visibility: p.enum(VISIBILITIES),
    imapHost: p.string(),
    imapPort: p.integer(),
    /** Implicit TLS (port 993). When false, STARTTLS is required unless imapAllowInsecure. */
    imapSecure: p.boolean(),
    imapAllowInsecure: p.boolean().default(false),
    imapUsername: p.string(),
    /** SMTP is optional: a receive-only account (an archive, or mail sent elsewhere) has none. */
    smtpHost: p.string().nullable(),
    smtpPort: p.integer().nullable(),
    smtpSecure: p.boolean().nullable(),
    smtpAllowInsecure: p.boolean().default(false),
    smtpUsername: p.string().nullable(),
    auth: p.enum(ACCOUNT_AUTHS).default('password'),
    provider: p.enum(OAUTH_PROVIDERS).nullable(),
    /** Encrypted JSON: {imapPassword, smtpPassword} for password accounts; the OAuth2 tokens otherwise. */
    secret: p.text().hidden().lazy(),
    sentCopy: p.enum(SENT_COPY_MODES).default('auto'),
    /** Extra folders the user picked besides INBOX and \Sent. */
    extraFolders: p.array().default([]),
    status: p.enum(ACCOUNT_STATUSES).default('idle'),
    lastSyncAt: p.datetime().nullable(),
    lastError: p.text().nullable(),
    /** Consecutive authentication failures; at the limit the account goes to needs_reauth and stops retrying. */
    authFailures: p.integer().default(0),
    /** Lease: one runner per account across every worker (see sync/account-lease.ts). */
    leaseOwner: p.string().nullable(),
    leaseUntil: p.datetime().nullable(),
    /** Watcher lease: one IDLE connection per account across every worker (see sync/idle.ts). */
    watchOwner: p.string().nullable(),
    watchUntil: p.datetime().nullable(),
    /** Sync incidents already notified and not yet over (needs_reauth, stalled, missing): each is notified once. */
    syncIncidents: p.array().default([]),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});
export type MailAccount = InferEntity<typeof MailAccount>;

export const Mailbox = defineEntity({
  name: 'Mailbox',
  uniques: [{ properties: ['account', 'path'] }],
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    account: () => p.manyToOne(MailAccount).deleteRule('cascade'),
    path: p.text(),
    role: p.enum(FOLDER_ROLES),
    /** Stored as bigint text: UIDVALIDITY and MODSEQ are unsigned 32/63-bit numbers (RFC 3501, RFC 7162). */
    uidValidity: p.bigint('string').nullable(),
    /** Highest UID fully stored for uidValidity; only ever moves forward within one UIDVALIDITY. */
    lastUid: p.bigint('number').default(0),
    highestModseq: p.bigint('string').nullable(),
    serverMessages: p.integer().default(0),
    storedMessages: p.integer().default(0),
    failedMessages: p.integer().default(0),
    /** Initial-sync progress: messages fetched so far of the total to fetch in this run. */
    progressDone: p.integer().default(0),
    progressTotal: p.integer().default(0),
    syncedAt: p.datetime().nullable(),
    lastError: p.text().nullable(),
    /** Poison-mail guard: the first UID of the batch being attempted and how often it was tried, so a
     *  message that keeps failing (or crashing the worker) is recorded as failed instead of retried forever. */
    retryUid: p.bigint('number').nullable(),
    retryCount: p.integer().default(0),
    /** What the last reconciliation found on the server, not stored, and could not fetch; when it ran. */
    missingMessages: p.integer().default(0),
    reconciledAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export type Mailbox = InferEntity<typeof Mailbox>;
