// Staff users: creation (CLI, first-admin bootstrap, admin API), credentials check, profile updates.
// Every password that is set passes assertStrongPassword; a new password or a deactivation ends sessions.
import type { Em } from '../platform/db.ts';
import { ConflictError, ForbiddenError, NotFoundError, RuleError } from '../platform/errors.ts';
import { getDummyHash, hashPassword, verifyPassword } from '../platform/passwords.ts';
import { weakPasswordReason } from '../platform/password-strength.ts';
import { endSessions, revokeApiTokens } from './sessions.ts';
import { User, type ClientMailNotice, type Language, type Role } from './user.entity.ts';

export type UserView = { id: string; email: string; name: string; role: Role; language: Language; signature: string; active: boolean; totpEnabled: boolean; clientMailNotice: ClientMailNotice; createdAt: string };

export const viewUser = (u: User): UserView => ({
  id: u.id, email: u.email, name: u.name, role: u.role, language: u.language, signature: u.signature, active: u.active, totpEnabled: !!u.totpEnabledAt, clientMailNotice: u.clientMailNotice, createdAt: u.createdAt.toISOString(),
});

export async function createUser(em: Em, input: { email: string; name: string; password: string; role: Role; language?: Language }): Promise<User> {
  const email = input.email.trim().toLowerCase();
  await assertStrongPassword(input.password, [email, input.name]);
  if (await em.count(User, { email })) throw new ConflictError('email_taken', 'A user with this email already exists', 'email');
  return em.create(User, { email, name: input.name.trim(), role: input.role, language: input.language ?? 'en', passwordHash: await hashPassword(input.password) });
}

/** Returns the active user whose password matches, or null; takes the same time when the email is unknown. */
export async function checkCredentials(em: Em, email: string, password: string): Promise<User | null> {
  const user = await em.findOne(User, { email: email.trim().toLowerCase() });
  if (!user || !user.active) {
    await verifyPassword(await getDummyHash(), password);
    return null;
  }
  return (await verifyPassword(user.passwordHash, password)) ? user : null;
}

export async function getUser(em: Em, id: string): Promise<User> {
  const user = await em.findOne(User, { id });
  if (!user) throw new NotFoundError('User');
  return user;
}

export const listUsers = (em: Em) => em.find(User, {}, { orderBy: { name: 'asc' } });

/** 422 weak_password with the strength library's hint; userInputs (email, name) count as easy guesses. */
export async function assertStrongPassword(password: string, userInputs: string[] = []): Promise<void> {
  const reason = await weakPasswordReason(password, userInputs);
  if (reason) throw new RuleError('weak_password', reason, 'password');
}

export type UserPatch = { name?: string; language?: Language; signature?: string; role?: Role; active?: boolean; password?: string; clientMailNotice?: ClientMailNotice };

/**
 * Applies a profile or admin change. A new password ends every session of the user except keepSessionId
 * (the one that changed it); deactivation ends every session and revokes every API token for good, so
 * reactivating a user does not bring old credentials back.
 */
export async function updateUser(em: Em, user: User, patch: UserPatch, opts: { keepSessionId?: string } = {}): Promise<User> {
  if (patch.password !== undefined) {
    await assertStrongPassword(patch.password, [user.email, patch.name ?? user.name]);
    user.passwordHash = await hashPassword(patch.password);
    await endSessions(em, user.id, { except: opts.keepSessionId });
  }
  if (patch.name !== undefined) user.name = patch.name.trim();
  if (patch.language !== undefined) user.language = patch.language;
  if (patch.signature !== undefined) user.signature = patch.signature;
  if (patch.clientMailNotice !== undefined) user.clientMailNotice = patch.clientMailNotice;
  if (patch.role !== undefined) user.role = patch.role;
  if (patch.active !== undefined) {
    if (!patch.active && user.active) {
      await endSessions(em, user.id);
      await revokeApiTokens(em, user.id);
    }
    user.active = patch.active;
  }
  return user;
}

/** The signed-in user's own change: a new password needs the current one (403 wrong_password). */
export async function updateOwnProfile(em: Em, user: User, patch: Omit<UserPatch, 'role' | 'active'> & { currentPassword?: string }, sessionId: string | undefined): Promise<User> {
  const { currentPassword, ...change } = patch;
  if (change.password !== undefined) await assertCurrentPassword(user, currentPassword);
  return updateUser(em, user, change, { keepSessionId: sessionId });
}

export async function assertCurrentPassword(user: User, currentPassword: string | undefined): Promise<void> {
  if (currentPassword === undefined || !(await verifyPassword(user.passwordHash, currentPassword))) {
    throw new ForbiddenError('The current password is not correct', 'wrong_password', 'currentPassword');
  }
}

/** How many staff users exist (the start-up banner says how to create the first). */
export async function countUsers(em: Em): Promise<number> {
  return em.count(User, {});
}

/** First administrator from DOSSIER_ADMIN_EMAIL/PASSWORD: only when no user exists yet. */
export async function ensureFirstAdmin(em: Em, email: string | null, password: string | null): Promise<User | null> {
  if (!email || !password || (await em.count(User, {})) > 0) return null;
  const user = await createUser(em, { email, password, name: 'Administrator', role: 'admin' });
  await em.flush();
  return user;
}
