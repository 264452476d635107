// Staff users, their browser sessions and personal API tokens. Secrets are stored only as hashes
// (argon2 for passwords, sha256 for random high-entropy session/API tokens).
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';

export const ROLES = ['admin', 'staff'] as const;
export type Role = (typeof ROLES)[number];
export const LANGUAGES = ['en', 'es', 'nl'] as const;
export type Language = (typeof LANGUAGES)[number];

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
    active: p.boolean().default(true),
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
  },
});
export type Session = InferEntity<typeof Session>;

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
