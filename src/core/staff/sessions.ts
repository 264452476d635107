// Browser sessions and personal API tokens. The client holds a random token; we keep its sha256, so a
// database leak gives no usable credentials.
import { kysely, type Em } from '../platform/db.ts';
import { NotFoundError } from '../platform/errors.ts';
import { newToken, sha256Hex } from '../platform/secrets.ts';
import { ApiToken, Session, User, type SessionScope } from './user.entity.ts';

export const SESSION_TTL_MS = 14 * 24 * 3600 * 1000;
/** Sliding expiry is refreshed at most this often, to keep reads from writing on every request. */
const TOUCH_EVERY_MS = 5 * 60 * 1000;

export function createSession(em: Em, user: User, meta: { ip?: string; userAgent?: string }, scope: SessionScope = 'full'): string {
  const token = newToken('dss');
  em.create(Session, { tokenHash: sha256Hex(token), user, expiresAt: new Date(Date.now() + SESSION_TTL_MS), ip: meta.ip ?? null, userAgent: meta.userAgent?.slice(0, 500) ?? null, scope });
  return token;
}

export async function getSessionUser(em: Em, token: string): Promise<{ user: User; session: Session } | null> {
  const session = await em.findOne(Session, { tokenHash: sha256Hex(token) }, { populate: ['user'] });
  if (!session || session.expiresAt.getTime() < Date.now() || !session.user.active) return null;
  if (Date.now() - session.lastSeenAt.getTime() > TOUCH_EVERY_MS) {
    session.lastSeenAt = new Date();
    session.expiresAt = new Date(Date.now() + SESSION_TTL_MS);
    await em.flush();
  }
  return { user: session.user, session };
}

export async function deleteSession(em: Em, token: string): Promise<void> {
  await em.nativeDelete(Session, { tokenHash: sha256Hex(token) });
}

/** Signs the user out everywhere (but in `except`, the session that asked). */
export async function endSessions(em: Em, userId: string, opts: { except?: string } = {}): Promise<void> {
  let q = kysely(em).deleteFrom('session').where('user_id', '=', userId);
  if (opts.except) q = q.where('id', '!=', opts.except);
  await q.execute();
}

/** Deletes the user's API tokens: a deactivated user's scripts stop for good, not until reactivation. */
export async function revokeApiTokens(em: Em, userId: string): Promise<void> {
  await kysely(em).deleteFrom('api_token').where('user_id', '=', userId).execute();
}

export function createApiToken(em: Em, user: User, name: string): { token: string; apiToken: ApiToken } {
  const token = newToken('dsr');
  const apiToken = em.create(ApiToken, { user, name: name.trim(), tokenHash: sha256Hex(token), prefix: token.slice(0, 10) });
  return { token, apiToken };
}

export async function getTokenUser(em: Em, token: string): Promise<User | null> {
  const apiToken = await em.findOne(ApiToken, { tokenHash: sha256Hex(token) }, { populate: ['user'] });
  if (!apiToken || !apiToken.user.active) return null;
  apiToken.lastUsedAt = new Date();
  await em.flush();
  return apiToken.user;
}

/**
 * Whether a credential accepted earlier still stands: a long-lived request (the live event stream) asks again
 * now and then, so signing out, a password change elsewhere, an expired session or deactivation ends it.
 */
export async function isCredentialLive(em: Em, credential: { sessionId: string } | { apiToken: string }): Promise<boolean> {
  const db = kysely(em);
  const row = 'sessionId' in credential
    ? await db.selectFrom('session as s').innerJoin('app_user as u', 'u.id', 's.user_id').select('s.id')
      .where('s.id', '=', credential.sessionId).where('s.expires_at', '>', new Date()).where('u.active', '=', true).executeTakeFirst()
    : await db.selectFrom('api_token as t').innerJoin('app_user as u', 'u.id', 't.user_id').select('t.id')
      .where('t.token_hash', '=', sha256Hex(credential.apiToken)).where('u.active', '=', true).executeTakeFirst();
  return row !== undefined;
}

export const listApiTokens = (em: Em, userId: string) => em.find(ApiToken, { user: userId }, { orderBy: { createdAt: 'desc' } });

export async function deleteApiToken(em: Em, userId: string, id: string): Promise<void> {
  const n = await em.nativeDelete(ApiToken, { id, user: userId });
  if (!n) throw new NotFoundError('Token');
}
