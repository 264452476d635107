// Two-step sign-in (issue 12): TOTP enrolment, sign-in with a code or a single-use recovery code, codes
// that work once, turning it off, the sign-in limit covering codes, and the firm-wide requirement.
import t from 'tap';
import * as OTPAuth from 'otpauth';
import type { FastifyInstance } from 'fastify';
import { signIn, startTestApp, userSession, type Session } from '../support/app.ts';
import { createTestUser, TEST_PASSWORD } from '../support/factories.ts';
import { testConfig } from '../support/env.ts';
import { createOwnDatabase } from '../support/own-database.ts';

const ta = await startTestApp();
t.teardown(ta.close);
const { app } = ta;

let ip = 0;
const login = (a: FastifyInstance, body: Record<string, string>, remoteAddress = `10.40.${Math.floor(++ip / 200)}.${ip % 200 + 1}`) =>
  a.inject({ method: 'POST', url: '/api/auth/login', payload: body, remoteAddress });
/** The code of the next 30-second step: valid now (one step of drift is allowed) and newer than any used so far. */
const code = (secret: string, stepsAhead = 1) => OTPAuth.TOTP.generate({ secret: OTPAuth.Secret.fromBase32(secret), timestamp: Date.now() + stepsAhead * 30_000 });

async function enrol(s: Session): Promise<{ secret: string; recoveryCodes: string[] }> {
  const started = await s.request('POST', '/api/me/totp');
  if (started.statusCode !== 200) throw new Error(started.body);
  const { secret } = started.json();
  const confirmed = await s.request('POST', '/api/me/totp/confirm', { code: code(secret, 0) });
  if (confirmed.statusCode !== 200) throw new Error(confirmed.body);
  return { secret, recoveryCodes: confirmed.json().recoveryCodes };
}

t.test('enrolment: a secret and otpauth URL, confirmed by a code, gives ten recovery codes', async (t) => {
  const s = await userSession(ta);
  const started = await s.request('POST', '/api/me/totp');
  t.equal(started.statusCode, 200);
  const { secret, otpauthUrl } = started.json();
  t.match(secret, /^[A-Z2-7]{32}$/, '160-bit base32 secret');
  const url = new URL(otpauthUrl);
  t.equal(url.protocol, 'otpauth:');
  t.equal(url.host, 'totp');
  t.equal(url.searchParams.get('secret'), secret);
  t.equal(url.searchParams.get('issuer'), 'Dossier');
  t.match(decodeURIComponent(url.pathname), s.user.email);

  const wrong = await s.request('POST', '/api/me/totp/confirm', { code: '000000' === code(secret, 0) ? '111111' : '000000' });
  t.equal(wrong.statusCode, 422);
  t.equal(wrong.json().error.code, 'invalid_totp');
  t.equal((await s.request('GET', '/api/me')).json().user.totpEnabled, false, 'not on until confirmed');

  const confirmed = await s.request('POST', '/api/me/totp/confirm', { code: code(secret, 0) });
  t.equal(confirmed.statusCode, 200);
  const codes: string[] = confirmed.json().recoveryCodes;
  t.equal(codes.length, 10);
  t.equal(new Set(codes).size, 10, 'all different');
  t.equal((await s.request('GET', '/api/me')).json().user.totpEnabled, true);
  t.same((await s.request('GET', '/api/me/totp')).json(), { enabled: true, recoveryCodesLeft: 10 });
  t.equal((await s.request('POST', '/api/me/totp')).statusCode, 409, 'no second enrolment while on');

  const rows = await ta.db.em.fork().getConnection().execute<{ totp_secret: string; code_hash: string }[]>(
    'select u.totp_secret, r.code_hash from app_user u join recovery_code r on r.user_id = u.id where u.id = ?', [s.user.id]);
  t.equal(rows.length, 10);
  t.notOk(rows.some((r) => r.totp_secret.includes(secret)), 'the secret is stored encrypted');
  const stored = rows.map((r) => r.code_hash).join(' ');
  t.notOk(codes.some((c) => stored.includes(c) || stored.includes(c.replace(/-/g, ''))), 'recovery codes are stored hashed');
});

t.test('sign-in needs the code once enabled; a code works once; recovery codes work once', async (t) => {
  const { email } = await createTestUser(ta.db);
  const s = await signIn(app, email);
  const { secret, recoveryCodes } = await enrol({ ...s, user: null as never });

  const noCode = await login(app, { email, password: TEST_PASSWORD });
  t.equal(noCode.statusCode, 401);
  t.equal(noCode.json().error.code, 'totp_required');
  t.notOk(noCode.cookies.find((c) => c.name === 'dossier_session'), 'no session without the code');
  const wrongPassword = await login(app, { email, password: 'not the password', totp: code(secret) });
  t.equal(wrongPassword.json().error.code, 'invalid_credentials', 'a code does not stand in for the password');

  const bad = await login(app, { email, password: TEST_PASSWORD, totp: '12345' });
  t.equal(bad.statusCode, 401);
  t.equal(bad.json().error.code, 'invalid_totp');

  const next = code(secret);
  const ok = await login(app, { email, password: TEST_PASSWORD, totp: next });
  t.equal(ok.statusCode, 200, 'password + current code signs in');
  t.equal(ok.json().totpEnrolmentRequired, false);
  const replay = await login(app, { email, password: TEST_PASSWORD, totp: next });
  t.equal(replay.statusCode, 401, 'the same code is refused the second time');
  t.equal(replay.json().error.code, 'invalid_totp');

  const recovery = recoveryCodes[3]!;
  const viaRecovery = await login(app, { email, password: TEST_PASSWORD, totp: recovery.toUpperCase() });
  t.equal(viaRecovery.statusCode, 200, 'a recovery code signs in (case and dashes do not matter)');
  const again = await login(app, { email, password: TEST_PASSWORD, totp: recovery });
  t.equal(again.statusCode, 401, 'a recovery code is single use');
  const me = await signIn(app, email, TEST_PASSWORD).catch(() => null);
  t.equal(me, null, 'the plain sign-in helper cannot get in any more');
  const viaOther = await login(app, { email, password: TEST_PASSWORD, totp: recoveryCodes[4]!.replace(/-/g, '') });
  const cookie = viaOther.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
  t.same((await app.inject({ method: 'GET', url: '/api/me/totp', headers: { cookie } })).json(), { enabled: true, recoveryCodesLeft: 8 });
});

t.test('the sign-in limit counts code guesses too', async (t) => {
  const { email } = await createTestUser(ta.db);
  const s = await signIn(app, email);
  await enrol({ ...s, user: null as never });
  const codes: number[] = [];
  for (let i = 0; i < 6; i++) codes.push((await login(app, { email, password: TEST_PASSWORD, totp: String(100000 + i) }, '10.41.0.1')).statusCode);
  t.same(codes, [401, 401, 401, 401, 401, 429]);
});

t.test('turning it off needs the current password; then the password alone signs in', async (t) => {
  const { email } = await createTestUser(ta.db);
  const s = await signIn(app, email);
  const { secret } = await enrol({ ...s, user: null as never });
  const wrong = await s.request('DELETE', '/api/me/totp', { currentPassword: 'not the password' });
  t.equal(wrong.statusCode, 403);
  t.equal(wrong.json().error.code, 'wrong_password');
  t.equal((await login(app, { email, password: TEST_PASSWORD })).json().error.code, 'totp_required', 'still on');
  t.equal((await s.request('DELETE', '/api/me/totp', { currentPassword: TEST_PASSWORD })).statusCode, 204);
  t.equal((await login(app, { email, password: TEST_PASSWORD })).statusCode, 200);
  t.equal((await login(app, { email, password: TEST_PASSWORD, totp: code(secret) })).statusCode, 200, 'a stray code is ignored once off');
  const count = await ta.db.em.fork().getConnection().execute<{ n: number }[]>('select count(*)::int as n from recovery_code r join app_user u on u.id = r.user_id where u.email = ?', [email]);
  t.equal(count[0]!.n, 0, 'the recovery codes are gone');
});

t.test('requireTotp: a user without it gets a session that can only enrol, until they do', async (t) => {
  // A firm-wide switch: its own database, so no other test file signs in under it.
  const own = await createOwnDatabase();
  t.teardown(own.drop);
  const firm = await startTestApp({ config: testConfig({ DATABASE_URL: own.url }) });
  t.teardown(firm.close);
  const admin = await userSession(firm, 'admin');
  const staff = await userSession(firm, 'staff');
  t.same((await staff.request('GET', '/api/settings')).json(), { requireTotp: false });
  t.equal((await staff.request('PATCH', '/api/settings', { requireTotp: true })).statusCode, 403, 'staff cannot change it');
  const on = await admin.request('PATCH', '/api/settings', { requireTotp: true });
  t.equal(on.statusCode, 200);
  t.same(on.json(), { requireTotp: true });
  t.equal((await staff.request('GET', '/api/clients')).statusCode, 200, 'sessions from before keep working');

  const { email } = await createTestUser(firm.db);
  const first = await login(firm.app, { email, password: TEST_PASSWORD });
  t.equal(first.statusCode, 200);
  t.equal(first.json().totpEnrolmentRequired, true);
  const cookie = first.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
  const headers = { cookie, 'x-csrf-token': first.json().csrfToken as string };
  const limited = await firm.app.inject({ method: 'GET', url: '/api/clients', headers });
  t.equal(limited.statusCode, 403);
  t.equal(limited.json().error.code, 'totp_enrolment_required');
  t.equal((await firm.app.inject({ method: 'POST', url: '/api/tokens', payload: { name: 'dodge' }, headers })).statusCode, 403, 'no API token to get around it');
  const me = await firm.app.inject({ method: 'GET', url: '/api/me', headers });
  t.equal(me.json().totpEnrolmentRequired, true);
  const started = await firm.app.inject({ method: 'POST', url: '/api/me/totp', headers });
  t.equal(started.statusCode, 200);
  const confirmed = await firm.app.inject({ method: 'POST', url: '/api/me/totp/confirm', payload: { code: code(started.json().secret, 0) }, headers });
  t.equal(confirmed.statusCode, 200);
  t.equal((await firm.app.inject({ method: 'GET', url: '/api/clients', headers })).statusCode, 200, 'the same session is a full one after enrolment');
  t.equal((await firm.app.inject({ method: 'GET', url: '/api/me', headers })).json().totpEnrolmentRequired, false);

  t.equal((await admin.request('PATCH', '/api/settings', { requireTotp: false })).statusCode, 200);
  const { email: other } = await createTestUser(firm.db);
  t.equal((await login(firm.app, { email: other, password: TEST_PASSWORD })).json().totpEnrolmentRequired, false, 'off again: a plain session');
});
