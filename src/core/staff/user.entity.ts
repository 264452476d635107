// Staff users, their browser sessions and personal API tokens. Secrets are stored only as hashes
// (argon2 for passwords, sha256 for random high-entropy session/API tokens).
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';

export const ROLES = ['admin', 'staff'] as const;
export type Role = (typeof ROLES)[number];
export const LANGUAGES = ['en', 'es', 'nl'] as const;
export type Language = (typeof LANGUAGES)[number];
/** How a client owner hears of new mail filed to their clients: not at all, the bell, or the bell plus an email digest. */
export const CLIENT_MAIL_NOTICES = ['off', 'bell', 'email'] as const;
export type ClientMailNotice = (typeof CLIENT_MAIL_NOTICES)[number];
export const SESSION_SCOPES = ['full', 'totp_enrolment'] as const;
export type SessionScope = (typeof SESSION_SCOPES)[number];

export const User = defineEntity({
  name: 'User',
  tableName: 'app_user',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    email: p.string().unique(),
    name: p.string(),
    role: p.enum(ROLES),
    passwordHash: p.string().hidden(),
    language: p.enum(LANGUAGES).default('en'),
    signature: p.text().default(''),
    /** Also send in-app notifications to the user's address (off by default). */
    notifyByEmail: p.boolean().default(false),
    clientMailNotice: p.enum(CLIENT_MAIL_NOTICES).default('bell'),
    /** When the last client-mail digest went out (one at most every 15 minutes). */
    clientMailDigestAt: p.datetime().nullable(),
    active: p.boolean().default(true),
    /** TOTP secret (base32), sealed with the secret key; set at enrolment, in use once totpEnabledAt is set. */
    totpSecret: p.text().nullable().hidden(),
    totpEnabledAt: p.datetime().nullable(),
    /** The last RFC 6238 time step a code was accepted for: a code works once (RFC 6238 §5.2). */
    totpLastStep: p.integer().nullable().hidden(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});
export type User = InferEntity<typeof User>;

export const Session = defineEntity({
  name: 'Session',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    tokenHash: p.string().unique(),
    user: () => p.manyToOne(User).deleteRule('cascade'),
    createdAt: p.datetime().onCreate(() => new Date()),
    expiresAt: p.datetime(),
    lastSeenAt: p.datetime().onCreate(() => new Date()),
    ip: p.string().nullable(),
    userAgent: p.text().nullable(),
    /** 'totp_enrolment': the firm requires two-factor and the user has none yet; this session may only enrol. */
    scope: p.enum(SESSION_SCOPES).default('full'),
  },
});
export type Session = InferEntity<typeof Session>;

/** Single-use codes for signing in without the authenticator; only their sha256 is kept. */
export const RecoveryCode = defineEntity({
  name: 'RecoveryCode',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    user: () => p.manyToOne(User).deleteRule('cascade').index(),
    codeHash: p.string(),
    usedAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export type RecoveryCode = InferEntity<typeof RecoveryCode>;

export const ApiToken = defineEntity({
  name: 'ApiToken',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    user: () => p.manyToOne(User).deleteRule('cascade'),
    name: p.string(),
    tokenHash: p.string().unique(),
    /** First characters of the token, so a user can tell tokens apart without the secret. */
    prefix: p.string(),
    createdAt: p.datetime().onCreate(() => new Date()),
    lastUsedAt: p.datetime().nullable(),
  },
});
export type ApiToken = InferEntity<typeof ApiToken>;
