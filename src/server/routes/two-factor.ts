// Two-step sign-in for the signed-in user (enrol, confirm, turn off) and the firm's switch that makes it
// required. Enrolment is open to a session limited to it; guesses at codes are rate-limited per user.
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import { confirmTotpEnrolment, countRecoveryCodesLeft, disableTotp, getSecuritySettings, startTotpEnrolment, updateSecuritySettings, widenSession } from '../../core/staff/two-factor.ts';
import { currentUser } from '../auth.ts';
import { STATUS } from '../errors.ts';
import { ErrorResponse, SecuritySettings, SecuritySettingsPatch, TotpConfirm, TotpDisable, TotpStart } from '../schemas.ts';
import { Type } from 'typebox';

export async function twoFactorRoutes(app: FastifyInstance) {
  const key = () => app.deps.config.secretKey!;
  const perUser = app.rateLimit({
    max: 5, timeWindow: '1 minute',
    keyGenerator: (req) => `totp:${req.user?.id ?? req.ip}`,
    errorResponseBuilder: (_req, ctx) => ({ statusCode: 429, error: 'rate_limited', message: `Too many attempts; try again in ${Math.ceil(ctx.ttl / 1000)} seconds` }),
  });

  app.post('/me/totp', {
    config: { duringEnrolment: true },
    schema: { tags: ['auth'], response: { 200: TotpStart, 409: ErrorResponse } },
  }, async (req) => {
    const started = startTotpEnrolment(currentUser(req), key());
    await req.em.flush();
    return started;
  });

  app.post<{ Body: Static<typeof TotpConfirm> }>('/me/totp/confirm', {
    config: { duringEnrolment: true }, preHandler: perUser,
    schema: { tags: ['auth'], body: TotpConfirm, response: { 200: Type.Object({ recoveryCodes: Type.Array(Type.String()) }), 422: ErrorResponse } },
  }, async (req) => {
    const recoveryCodes = await confirmTotpEnrolment(req.em, currentUser(req), key(), req.body.code);
    if (req.sessionScope === 'totp_enrolment' && req.sessionId) await widenSession(req.em, req.sessionId);
    await req.em.flush();
    return { recoveryCodes };
  });

  app.get('/me/totp', {
    schema: { tags: ['auth'], response: { 200: Type.Object({ enabled: Type.Boolean(), recoveryCodesLeft: Type.Integer() }) } },
  }, async (req) => {
    const user = currentUser(req);
    return { enabled: !!user.totpEnabledAt, recoveryCodesLeft: user.totpEnabledAt ? await countRecoveryCodesLeft(req.em, user.id) : 0 };
  });

  app.delete<{ Body: Static<typeof TotpDisable> }>('/me/totp', {
    preHandler: perUser,
    schema: { tags: ['auth'], body: TotpDisable, response: { 204: Type.Null(), 403: ErrorResponse } },
  }, async (req, reply) => {
    await disableTotp(req.em, currentUser(req), req.body.currentPassword);
    await req.em.flush();
    return reply.status(STATUS.noContent).send();
  });

  app.get('/settings', { schema: { tags: ['settings'], response: { 200: SecuritySettings } } }, async (req) => getSecuritySettings(req.em));

  app.patch<{ Body: Static<typeof SecuritySettingsPatch> }>('/settings', {
    config: { auth: 'admin' }, schema: { tags: ['settings'], body: SecuritySettingsPatch, response: { 200: SecuritySettings } },
  }, async (req) => {
    const settings = await updateSecuritySettings(req.em, currentUser(req), req.body);
    await req.em.flush();
    return settings;
  });
}
