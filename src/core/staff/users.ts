// Staff users: creation (CLI, first-admin bootstrap, admin API), credentials check, profile updates.
import type { EntityManager } from '@mikro-orm/core';
import { ConflictError, InvalidInputError, NotFoundError } from '../platform/errors.ts';
import { getDummyHash, hashPassword, verifyPassword } from '../platform/passwords.ts';
import { User, type Language, type Role } from './user.entity.ts';

export const MIN_PASSWORD_LENGTH = 10;
export type UserView = { id: string; email: string; name: string; role: Role; language: Language; signature: string; active: boolean; createdAt: string };

export const viewUser = (u: User): UserView => ({
  id: u.id, email: u.email, name: u.name, role: u.role, language: u.language, signature: u.signature, active: u.active, createdAt: u.createdAt.toISOString(),
});

export async function createUser(em: EntityManager, input: { email: string; name: string; password: string; role: Role; language?: Language }): Promise<User> {
  const email = input.email.trim().toLowerCase();
  if (input.password.length < MIN_PASSWORD_LENGTH) throw new InvalidInputError('password_too_short', `Password must be at least ${MIN_PASSWORD_LENGTH} characters`, 'password');
  if (await em.count(User, { email })) throw new ConflictError('email_taken', 'A user with this email already exists', 'email');
  return em.create(User, { email, name: input.name.trim(), role: input.role, language: input.language ?? 'en', passwordHash: await hashPassword(input.password) } as never);
}

/** Returns the active user whose password matches, or null; takes the same time when the email is unknown. */
export async function checkCredentials(em: EntityManager, email: string, password: string): Promise<User | null> {
  const user = await em.findOne(User, { email: email.trim().toLowerCase() });
  if (!user || !user.active) {
    await verifyPassword(await getDummyHash(), password);
    return null;
  }
  return (await verifyPassword(user.passwordHash, password)) ? user : null;
}

export async function getUser(em: EntityManager, id: string): Promise<User> {
  const user = await em.findOne(User, { id });
  if (!user) throw new NotFoundError('User');
  return user;
}

export const listUsers = (em: EntityManager) => em.find(User, {}, { orderBy: { name: 'asc' } });

export async function updateUser(em: EntityManager, user: User, patch: { name?: string; language?: Language; signature?: string; role?: Role; active?: boolean; password?: string }): Promise<User> {
  if (patch.password !== undefined) {
    if (patch.password.length < MIN_PASSWORD_LENGTH) throw new InvalidInputError('password_too_short', `Password must be at least ${MIN_PASSWORD_LENGTH} characters`, 'password');
    user.passwordHash = await hashPassword(patch.password);
  }
  if (patch.name !== undefined) user.name = patch.name.trim();
  if (patch.language !== undefined) user.language = patch.language;
  if (patch.signature !== undefined) user.signature = patch.signature;
  if (patch.role !== undefined) user.role = patch.role;
  if (patch.active !== undefined) user.active = patch.active;
  return user;
}

/** First administrator from DOSSIER_ADMIN_EMAIL/PASSWORD: only when no user exists yet. */
export async function ensureFirstAdmin(em: EntityManager, email: string | null, password: string | null): Promise<User | null> {
  if (!email || !password || (await em.count(User, {})) > 0) return null;
  const user = await createUser(em, { email, password, name: 'Administrator', role: 'admin' });
  await em.flush();
  return user;
}
