// Who is calling: a session cookie (browser) or a bearer API token (scripts). Every route is signed-in
// by default; `config: {auth: 'public' | 'admin'}` opts out or up. Cookie-authenticated writes need the
// CSRF token (synchroniser pattern, @fastify/csrf-protection); bearer requests can't be forged cross-site.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SessionScope, User } from '../core/staff/user.entity.ts';
import { getSessionUser, getTokenUser } from '../core/staff/sessions.ts';
import { ForbiddenError } from '../core/platform/errors.ts';
import { unauthorized } from './errors.ts';

export const SESSION_COOKIE = 'dossier_session';
export type AuthLevel = 'public' | 'user' | 'admin';

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: AuthLevel;
    /** Open to a session limited to two-step enrolment (the firm requires it and the user has none yet). */
    duringEnrolment?: boolean;
  }
  interface FastifyRequest {
    user: User | null;
    authKind: 'cookie' | 'bearer' | null;
    /** The session row behind a cookie request (kept when its user changes the password). */
    sessionId: string | null;
    /** 'totp_enrolment' when the session may do nothing but enrol in two-step sign-in. */
    sessionScope: SessionScope | null;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** API routes are signed-in unless they say otherwise; the web app's files and the API docs are public. */
const defaultLevel = (url: string): AuthLevel => (url.startsWith('/api/') && !url.startsWith('/api/docs') ? 'user' : 'public');

export function registerAuth(app: FastifyInstance) {
  app.decorateRequest('user', null);
  app.decorateRequest('authKind', null);
  app.decorateRequest('sessionId', null);
  app.decorateRequest('sessionScope', null);

  // Public routes say so in the OpenAPI document (`security: []`), so the document shows who may call what
  // and the auth-order test can find every route that must refuse a stranger.
  app.addHook('onRoute', (route) => {
    if (route.config?.auth === 'public') route.schema = { ...route.schema, security: [] };
  });

  // onRequest: before the body is parsed or anything validated, so a stranger gets 401 (and a staff member
  // on an admin route 403) without learning anything about the route's input (400 comes after).
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const level: AuthLevel = req.routeOptions.config.auth ?? defaultLevel(req.routeOptions.url ?? '');
    const header = req.headers.authorization;
    if (header?.startsWith('Bearer ')) {
      req.user = await getTokenUser(req.em, header.slice(7).trim());
      if (req.user) req.authKind = 'bearer';
      else if (level !== 'public') throw unauthorized('Invalid or revoked API token');
    } else {
      const token = req.cookies[SESSION_COOKIE];
      const found = token ? await getSessionUser(req.em, token) : null;
      if (found) {
        req.user = found.user;
        req.authKind = 'cookie';
        req.sessionId = found.session.id;
        req.sessionScope = found.session.scope;
      }
    }
    if (level === 'public') return;
    if (!req.user) throw unauthorized();
    if (req.sessionScope === 'totp_enrolment' && !req.routeOptions.config.duringEnrolment) {
      throw new ForbiddenError('Set up two-step sign-in first: the firm requires it', 'totp_enrolment_required');
    }
    if (level === 'admin' && req.user.role !== 'admin') throw new ForbiddenError('Only administrators can do this');
    if (req.authKind === 'cookie' && !SAFE_METHODS.has(req.method)) {
      await new Promise<void>((resolve, reject) => {
        app.csrfProtection(req, reply, (err?: Error) => (err ? reject(err) : resolve()));
      });
    }
  });
}

/** The signed-in user; routes behind the default auth level can rely on it. */
export function currentUser(req: FastifyRequest): User {
  if (!req.user) throw unauthorized();
  return req.user;
}
