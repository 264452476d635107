// Staff authentication through the real server: sessions, CSRF, rate limit, API tokens, roles, validation.
import t from 'tap';
import { signIn, startTestApp, userSession } from '../support/app.ts';
import { uniqEmail } from '../support/env.ts';
import { createTestUser, TEST_PASSWORD } from '../support/factories.ts';

const ta = await startTestApp();
t.teardown(ta.close);
const { app } = ta;

t.test('wrong password is refused with 401 and sets no session', async (t) => {
  const { email } = await createTestUser(ta.db);
  const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password: 'not the password' }, remoteAddress: '10.9.9.1' });
  t.equal(res.statusCode, 401);
  t.equal(res.json().error.code, 'invalid_credentials');
  t.notOk(res.cookies.find((c) => c.name === 'dossier_session'), 'no session cookie');
  const unknown = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: uniqEmail(), password: 'whatever' }, remoteAddress: '10.9.9.1' });
  t.equal(unknown.statusCode, 401, 'unknown email gets the same answer');
});

t.test('login sets an HttpOnly SameSite session cookie that signs /api/me in; logout ends it', async (t) => {
  const { email } = await createTestUser(ta.db);
  const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password: TEST_PASSWORD }, remoteAddress: '10.9.9.2' });
  t.equal(res.statusCode, 200);
  const cookie = res.cookies.find((c) => c.name === 'dossier_session')!;
  t.ok(cookie.httpOnly, 'HttpOnly');
  t.equal(cookie.sameSite, 'Lax');
  t.notOk(res.body.includes('passwordHash') || res.body.includes('argon2'), 'no password hash in the response');
  const s = await signIn(app, email);
  const me = await s.request('GET', '/api/me');
  t.equal(me.statusCode, 200);
  t.equal(me.json().user.email, email);
  t.equal((await s.request('POST', '/api/auth/logout')).statusCode, 204);
  t.equal((await s.request('GET', '/api/me')).statusCode, 401, 'session is gone after logout');
});

t.test('the 6th rapid login attempt from one address is rate-limited', async (t) => {
  const { email } = await createTestUser(ta.db);
  const codes: number[] = [];
  for (let i = 0; i < 6; i++) {
    const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password: 'wrong password' }, remoteAddress: '10.77.0.1' });
    codes.push(res.statusCode);
  }
  t.same(codes, [401, 401, 401, 401, 401, 429]);
  const limited = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password: TEST_PASSWORD }, remoteAddress: '10.77.0.1' });
  t.equal(limited.statusCode, 429, 'even the right password waits');
  t.equal(limited.json().error.code, 'rate_limited');
});

t.test('a cookie-authenticated write without the CSRF token is refused', async (t) => {
  const s = await userSession(ta);
  const res = await app.inject({ method: 'POST', url: '/api/tokens', payload: { name: 'x' }, headers: { cookie: s.cookie } });
  t.equal(res.statusCode, 403);
  t.equal(res.json().error.code, 'csrf_invalid');
  const bad = await app.inject({ method: 'POST', url: '/api/tokens', payload: { name: 'x' }, headers: { cookie: s.cookie, 'x-csrf-token': 'forged' } });
  t.equal(bad.statusCode, 403);
  const ok = await s.request('POST', '/api/tokens', { name: 'with token' });
  t.equal(ok.statusCode, 201);
});

t.test('bearer tokens authenticate without CSRF; a deleted token stops working', async (t) => {
  const s = await userSession(ta);
  const created = await s.request('POST', '/api/tokens', { name: 'script' });
  t.equal(created.statusCode, 201);
  const { id, token } = created.json();
  const auth = { authorization: `Bearer ${token}` };
  const me = await app.inject({ method: 'GET', url: '/api/me', headers: auth });
  t.equal(me.json().user.id, s.user.id);
  const write = await app.inject({ method: 'POST', url: '/api/tokens', payload: { name: 'second' }, headers: auth });
  t.equal(write.statusCode, 201, 'bearer write needs no CSRF token');
  const list = await app.inject({ method: 'GET', url: '/api/tokens', headers: auth });
  t.notOk(list.body.includes(token), 'the secret is never listed again');
  t.equal((await s.request('DELETE', `/api/tokens/${id}`)).statusCode, 204);
  const after = await app.inject({ method: 'GET', url: '/api/me', headers: auth });
  t.equal(after.statusCode, 401);
});

t.test('staff cannot manage users; admins can', async (t) => {
  const staff = await userSession(ta, 'staff');
  const payload = { email: uniqEmail('new'), name: 'New', password: 'long enough pw', role: 'staff' };
  const denied = await staff.request('POST', '/api/users', payload);
  t.equal(denied.statusCode, 403);
  t.equal((await staff.request('GET', '/api/users')).statusCode, 403);
  const admin = await userSession(ta, 'admin');
  const created = await admin.request('POST', '/api/users', payload);
  t.equal(created.statusCode, 201);
  t.equal(created.json().role, 'staff');
  t.notOk('passwordHash' in created.json());
  const dup = await admin.request('POST', '/api/users', payload);
  t.equal(dup.statusCode, 409);
  t.equal(dup.json().error.field, 'email');
  const demoted = await admin.request('PATCH', `/api/users/${staff.user.id}`, { active: false });
  t.equal(demoted.statusCode, 200);
  t.equal((await staff.request('GET', '/api/me')).statusCode, 401, 'a deactivated user is signed out');
});

t.test('bad input gets a 400 naming the field, never a 500', async (t) => {
  const admin = await userSession(ta, 'admin');
  const cases: [unknown, string][] = [
    [{ email: 'not-an-email', name: 'A', password: 'long enough pw', role: 'staff' }, 'email'],
    [{ email: uniqEmail(), name: 'A', password: 'long enough pw', role: 'owner' }, 'role'],
    [{ email: uniqEmail(), password: 'long enough pw', role: 'staff' }, 'name'],
    [{ email: uniqEmail(), name: 'A', password: 'long enough pw', role: 'staff', extra: 1 }, 'extra'],
  ];
  for (const [body, field] of cases) {
    const res = await admin.request('POST', '/api/users', body);
    t.equal(res.statusCode, 400, `${field}: 400`);
    t.equal(res.json().error.field, field, `names ${field}`);
  }
  const broken = await admin.request('POST', '/api/users', '{"email":', { 'content-type': 'application/json' });
  t.equal(broken.statusCode, 400);
  t.equal(broken.json().error.code, 'invalid_json');
  const badId = await admin.request('PATCH', '/api/users/not-a-uuid', { name: 'x' });
  t.equal(badId.statusCode, 400);
  t.equal(badId.json().error.field, 'params.id');
  const missing = await admin.request('PATCH', '/api/users/00000000-0000-4000-8000-000000000000', { name: 'x' });
  t.equal(missing.statusCode, 404);
});

t.test('the OpenAPI document describes the routes', async (t) => {
  const res = await app.inject({ method: 'GET', url: '/api/openapi.json' });
  t.equal(res.statusCode, 200);
  const doc = res.json();
  t.ok(doc.paths['/api/auth/login'], 'login is documented');
  t.ok(doc.paths['/api/users'].post.requestBody, 'request bodies come from the route schemas');
  t.equal((await app.inject({ method: 'GET', url: '/api/docs' })).statusCode < 400, true);
});

t.test('security headers are set', async (t) => {
  const res = await app.inject({ method: 'GET', url: '/api/health' });
  t.equal(res.headers['x-content-type-options'], 'nosniff');
  t.match(String(res.headers['content-security-policy']), /default-src 'self'/);
});

t.test('the login limit is per account: a colleague on the same network can still sign in', async (t) => {
  const a = await createTestUser(ta.db);
  const b = await createTestUser(ta.db);
  for (let i = 0; i < 6; i++) await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: a.email, password: 'wrong password' }, remoteAddress: '10.78.0.1' });
  const other = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: b.email, password: TEST_PASSWORD }, remoteAddress: '10.78.0.1' });
  t.equal(other.statusCode, 200);
});
