// Two-step sign-in: TOTP (RFC 6238, via otpauth — the only import of it) and single-use recovery codes,
// plus the firm's "everyone must use it" switch. The TOTP secret is sealed with the secret key like mailbox
// passwords; recovery codes are kept only as keyed hashes, so a database copy alone can use neither.
import { createHmac, randomInt, randomUUID } from 'node:crypto';
import * as OTPAuth from 'otpauth';
import { kysely, type Em } from '../platform/db.ts';
import { ConflictError, ForbiddenError, RuleError } from '../platform/errors.ts';
import { decryptSecret, encryptSecret } from '../platform/secrets.ts';
import { recordAudit } from './audit.ts';
import { FirmSetting } from './notification.entity.ts';
import { assertCurrentPassword } from './users.ts';
import type { User } from './user.entity.ts';

const ISSUER = 'Dossier';
const PERIOD = 30;
export const RECOVERY_CODE_COUNT = 10;
const SECURITY_SETTINGS_KEY = 'security';

export type SecuritySettings = { requireTotp: boolean };

const totpOf = (user: User, secretBase32: string) =>
  new OTPAuth.TOTP({ issuer: ISSUER, label: user.email, algorithm: 'SHA1', digits: 6, period: PERIOD, secret: OTPAuth.Secret.fromBase32(secretBase32) });

/** Step 1 of enrolment: a new secret for the authenticator app (shown once, as text and as a QR code). */
export function startTotpEnrolment(user: User, key: Buffer): { secret: string; otpauthUrl: string } {
  if (user.totpEnabledAt) throw new ConflictError('totp_enabled', 'Two-step sign-in is already on; turn it off first');
  const secret = new OTPAuth.Secret({ size: 20 }).base32;
  user.totpSecret = encryptSecret(key, secret);
  return { secret, otpauthUrl: totpOf(user, secret).toString() };
}

/** Step 2: the first code from the app proves it holds the secret; returns the recovery codes (shown once). */
export async function confirmTotpEnrolment(em: Em, user: User, key: Buffer, code: string): Promise<string[]> {
  if (user.totpEnabledAt) throw new ConflictError('totp_enabled', 'Two-step sign-in is already on');
  if (!user.totpSecret) throw new RuleError('totp_not_started', 'Start the set-up first (POST /api/me/totp)');
  if (!(await acceptTotpCode(em, user, key, code))) throw new RuleError('invalid_totp', 'The code is not correct; check the time on your phone and try the next one', 'code');
  user.totpEnabledAt = new Date();
  recordAudit(em, { actorId: user.id, action: 'user.totp_enabled', entityType: 'user', entityId: user.id });
  return replaceRecoveryCodes(em, user, key);
}

export async function disableTotp(em: Em, user: User, currentPassword: string): Promise<void> {
  await assertCurrentPassword(user, currentPassword);
  user.totpSecret = null;
  user.totpEnabledAt = null;
  user.totpLastStep = null;
  await kysely(em).deleteFrom('recovery_code').where('user_id', '=', user.id).execute();
  recordAudit(em, { actorId: user.id, action: 'user.totp_disabled', entityType: 'user', entityId: user.id });
}

/** At sign-in: a current code from the app, or an unused recovery code (then used up). */
export async function checkSecondFactor(em: Em, user: User, key: Buffer, input: string): Promise<'totp' | 'recovery' | null> {
  const cleaned = input.replace(/[\s-]/g, '');
  if (/^\d{6}$/.test(cleaned)) return (await acceptTotpCode(em, user, key, cleaned)) ? 'totp' : null;
  // Conditional update: two sign-ins racing with one recovery code can't both use it.
  const used = await kysely(em).updateTable('recovery_code').set({ used_at: new Date() })
    .where('user_id', '=', user.id).where('code_hash', '=', recoveryHash(key, cleaned)).where('used_at', 'is', null)
    .executeTakeFirst();
  if (used.numUpdatedRows !== 1n) return null;
  recordAudit(em, { actorId: user.id, action: 'user.recovery_code_used', entityType: 'user', entityId: user.id });
  return 'recovery';
}

export async function countRecoveryCodesLeft(em: Em, userId: string): Promise<number> {
  const row = await kysely(em).selectFrom('recovery_code').select((eb) => eb.fn.countAll<string>().as('n'))
    .where('user_id', '=', userId).where('used_at', 'is', null).executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * A code of the current, previous or next 30-second step (clock drift, RFC 6238 §5.2) that is newer than
 * the last one accepted: a code seen over someone's shoulder can't be used a second time.
 */
async function acceptTotpCode(em: Em, user: User, key: Buffer, code: string): Promise<boolean> {
  if (!user.totpSecret) return false;
  const delta = totpOf(user, decryptSecret(key, user.totpSecret)).validate({ token: code.replace(/\s/g, ''), window: 1 });
  if (delta === null) return false;
  const step = OTPAuth.TOTP.counter({ period: PERIOD }) + delta;
  // Conditional update, so two requests racing with the same code can't both pass.
  const moved = await kysely(em).updateTable('app_user').set({ totp_last_step: step })
    .where('id', '=', user.id)
    .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
    .executeTakeFirst();
  if (moved.numUpdatedRows !== 1n) return false;
  user.totpLastStep = step;
  return true;
}

// Crockford-style alphabet without look-alikes (0/O, 1/I/L): codes are typed from paper.
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const newRecoveryCode = () => {
  const chars = Array.from({ length: 12 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
  return `${chars.slice(0, 4)}-${chars.slice(4, 8)}-${chars.slice(8)}`;
};
/** Keyed (HMAC with the secret key): 60-bit codes under a plain hash could be brute-forced from a database copy. */
const recoveryHash = (key: Buffer, code: string) =>
  createHmac('sha256', key).update('dossier recovery code\0').update(code.replace(/[\s-]/g, '').toLowerCase()).digest('hex');

async function replaceRecoveryCodes(em: Em, user: User, key: Buffer): Promise<string[]> {
  await kysely(em).deleteFrom('recovery_code').where('user_id', '=', user.id).execute();
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
  await kysely(em).insertInto('recovery_code').values(codes.map((code) => ({
    id: randomUUID(), user_id: user.id, code_hash: recoveryHash(key, code), created_at: new Date(),
  }))).execute();
  return codes;
}

export async function getSecuritySettings(em: Em): Promise<SecuritySettings> {
  const row = await em.findOne(FirmSetting, { key: SECURITY_SETTINGS_KEY });
  return { requireTotp: false, ...((row?.value ?? {}) as Partial<SecuritySettings>) };
}

export async function updateSecuritySettings(em: Em, user: User, patch: Partial<SecuritySettings>): Promise<SecuritySettings> {
  if (user.role !== 'admin') throw new ForbiddenError('Only an administrator can change the firm settings');
  const next = { ...(await getSecuritySettings(em)), ...patch };
  const row = await em.findOne(FirmSetting, { key: SECURITY_SETTINGS_KEY });
  if (row) {
    row.value = next;
    row.updatedBy = user;
  } else em.create(FirmSetting, { key: SECURITY_SETTINGS_KEY, value: next, updatedBy: user, updatedAt: new Date() });
  recordAudit(em, { actorId: user.id, action: 'settings.security', entityType: 'firm_setting', details: next });
  return next;
}

/** Whether a user signing in now must enrol before doing anything else. */
export async function mustEnrolTotp(em: Em, user: User): Promise<boolean> {
  return !user.totpEnabledAt && (await getSecuritySettings(em)).requireTotp;
}

/** After enrolment the session that was limited to it becomes a normal one. */
export async function widenSession(em: Em, sessionId: string): Promise<void> {
  await kysely(em).updateTable('session').set({ scope: 'full' }).where('id', '=', sessionId).execute();
}
