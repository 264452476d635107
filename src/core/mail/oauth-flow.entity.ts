// A started OAuth2 authorization (RFC 6749 §4.1) waiting for its callback: who started it and in which
// session, what to create or reconnect, and the PKCE verifier (RFC 7636), encrypted like account secrets.
// The `state` sent to the provider is stored only as its sha256; a row is used once and expires.
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import { User } from '../staff/user.entity.ts';
import { MailAccount, OAUTH_PROVIDERS, VISIBILITIES } from './mail-account.entity.ts';

export const OAuthFlow = defineEntity({
  name: 'OAuthFlow',
  tableName: 'oauth_flow',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    stateHash: p.string().length(64).unique(),
    user: () => p.manyToOne(User).deleteRule('cascade'),
    /** sha256 of the session cookie that started it (the callback must come in the same session). */
    sessionHash: p.string().length(64).nullable(),
    provider: p.enum(OAUTH_PROVIDERS),
    visibility: p.enum(VISIBILITIES),
    name: p.text().nullable(),
    /** A shared mailbox to open with the user's token (Microsoft delegated access), else null. */
    mailbox: p.text().nullable(),
    /** Set when reconnecting an existing account. */
    account: () => p.manyToOne(MailAccount).nullable().deleteRule('cascade'),
    /** Encrypted JSON {codeVerifier, nonce}. */
    secret: p.text().hidden(),
    createdAt: p.datetime().onCreate(() => new Date()).index(),
  },
});
export type OAuthFlow = InferEntity<typeof OAuthFlow>;
