// A request from the API to a sync worker: verify IMAP credentials or list an account's folders, and
// its answer. The API never opens IMAP (ARCHITECTURE rule 2), so it writes a row, enqueues
// 'check-imap' and waits for the worker to fill `result`. The secret is encrypted like an account's.
// A login check covers IMAP, SMTP or both (whatever is being added or changed).
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import { MailAccount } from './mail-account.entity.ts';

export const IMAP_CHECK_KINDS = ['login', 'folders'] as const;
export type ImapCheckKind = (typeof IMAP_CHECK_KINDS)[number];

export type SmtpCheckCode = 'smtp_auth_failed' | 'smtp_unreachable' | 'smtp_tls_failed';
export type SmtpCheckResult = { ok: true } | { ok: false; code: SmtpCheckCode; message: string };
export type MailCheckCode = 'imap_auth_failed' | 'imap_unreachable' | SmtpCheckCode;
/** What a worker found: logins that worked (and the folders, when asked), or the first server's refusal. */
export type ImapCheckResult =
  | { ok: true; folders?: ServerFolder[] }
  | { ok: false; code: MailCheckCode; message: string };

export type ServerFolder = { path: string; name: string; specialUse: string | null; delimiter: string };

export const ImapCheck = defineEntity({
  name: 'ImapCheck',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    kind: p.enum(IMAP_CHECK_KINDS),
    /** Set for 'folders' of a saved account (settings come from the account). */
    account: () => p.manyToOne(MailAccount).nullable().deleteRule('cascade'),
    /** Encrypted JSON {imap?, smtp?} of the settings to try (new or changed credentials); null for a saved account. */
    secret: p.text().nullable().hidden(),
    status: p.enum(['pending', 'done'] as const).default('pending'),
    result: p.json<ImapCheckResult>().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()).index(),
  },
});
export type ImapCheck = InferEntity<typeof ImapCheck>;
