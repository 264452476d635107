// Sign in / out and the signed-in user's own profile. Login is rate-limited per client IP.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { checkCredentials, updateOwnProfile, viewUser } from '../../core/staff/users.ts';
import { createSession, deleteSession, SESSION_TTL_MS } from '../../core/staff/sessions.ts';
import { recordAudit } from '../../core/staff/audit.ts';
import { checkSecondFactor, mustEnrolTotp } from '../../core/staff/two-factor.ts';
import { ErrorResponse, LoginBody, MePatch, SessionResponse } from '../schemas.ts';
import { Type, type Static } from 'typebox';
import { currentUser, SESSION_COOKIE } from '../auth.ts';
import { HttpError, STATUS } from '../errors.ts';

/** Five tries a minute per (client address, account): stops guessing a password, while colleagues behind
 *  one office NAT don't lock each other out. (@fastify/rate-limit runs one limiter per request, so a
 *  second per-address limit can't be stacked here; argon2's cost already makes spraying slow.) */
export const LOGIN_LIMIT = { max: 5, timeWindow: '1 minute' };
const limited = (what: string) => (_req: unknown, ctx: { ttl: number }) => ({ statusCode: 429, error: 'rate_limited', message: `Too many ${what}; try again in ${Math.ceil(ctx.ttl / 1000)} seconds` });

export async function authRoutes(app: FastifyInstance) {
  const csrfToken = (reply: FastifyReply) => reply.generateCsrf();

  app.post<{ Body: Static<typeof LoginBody> }>('/auth/login', {
    // After body parsing, so the key can include the account.
    preHandler: app.rateLimit({
      ...LOGIN_LIMIT,
      keyGenerator: (req) => `login:${req.ip}|${String((req.body as { email?: unknown } | undefined)?.email ?? '').trim().toLowerCase()}`,
      errorResponseBuilder: limited('sign-in attempts'),
    }),
    config: { auth: 'public' },
    schema: { tags: ['auth'], body: LoginBody, response: { 200: SessionResponse, 401: ErrorResponse, 429: ErrorResponse } },
  }, async (req, reply) => {
    const user = await checkCredentials(req.em, req.body.email, req.body.password);
    if (!user) throw new HttpError(STATUS.unauthorized, 'invalid_credentials', 'Email or password is incorrect');
    // The second step counts against the same sign-in limit as the password (one limiter per route).
    let secondFactor: string | null = null;
    if (user.totpEnabledAt) {
      if (!req.body.totp) throw new HttpError(STATUS.unauthorized, 'totp_required', 'Enter the code from your authenticator app', 'totp');
      secondFactor = await checkSecondFactor(req.em, user, app.deps.config.secretKey!, req.body.totp);
      if (!secondFactor) throw new HttpError(STATUS.unauthorized, 'invalid_totp', 'The code is not correct or was already used', 'totp');
    }
    const enrolOnly = await mustEnrolTotp(req.em, user);
    const token = createSession(req.em, user, { ip: req.ip, userAgent: req.headers['user-agent'] }, enrolOnly ? 'totp_enrolment' : 'full');
    recordAudit(req.em, { actorId: user.id, action: 'user.login', entityType: 'user', entityId: user.id, details: { ip: req.ip, secondFactor } });
    await req.em.flush();
    reply.setCookie(SESSION_COOKIE, token, {
      httpOnly: true, sameSite: 'lax', secure: app.deps.config.cookieSecure, path: '/', maxAge: SESSION_TTL_MS / 1000,
    });
    return { user: viewUser(user), csrfToken: csrfToken(reply), totpEnrolmentRequired: enrolOnly };
  });

  app.post('/auth/logout', {
    config: { auth: 'public' },
    schema: { tags: ['auth'], response: { 204: Type.Null() } },
  }, async (req, reply) => {
    const token = req.cookies[SESSION_COOKIE];
    if (token) await deleteSession(req.em, token);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.status(STATUS.noContent).send();
  });

  app.get('/me', { config: { duringEnrolment: true }, schema: { tags: ['auth'], response: { 200: SessionResponse } } }, async (req, reply) => {
    return { user: viewUser(currentUser(req)), csrfToken: csrfToken(reply), totpEnrolmentRequired: req.sessionScope === 'totp_enrolment' };
  });

  app.patch<{ Body: Static<typeof MePatch> }>('/me', { schema: { tags: ['auth'], body: MePatch, response: { 200: SessionResponse } } }, async (req, reply) => {
    const user = await updateOwnProfile(req.em, currentUser(req), req.body, req.sessionId ?? undefined);
    if (req.body.password !== undefined) recordAudit(req.em, { actorId: user.id, action: 'user.password_change', entityType: 'user', entityId: user.id });
    await req.em.flush();
    return { user: viewUser(user), csrfToken: csrfToken(reply), totpEnrolmentRequired: false };
  });
}
