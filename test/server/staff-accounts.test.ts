// Staff accounts (issue 12): own profile changes, password changes that need the current password and
// end other sessions, deactivation that revokes sessions and API tokens for good, strong passwords only.
import t from 'tap';
import { signIn, startTestApp, userSession } from '../support/app.ts';
import { createTestUser, TEST_PASSWORD } from '../support/factories.ts';
import { uniqEmail } from '../support/env.ts';

const ta = await startTestApp();
t.teardown(ta.close);
const { app } = ta;
const NEW_PASSWORD = 'quince ledger otter 58 harbour';

t.test('anyone can rename themselves; admins can rename others; staff cannot', async (t) => {
  const staff = await userSession(ta, 'staff', 'Old Name');
  const renamed = await staff.request('PATCH', '/api/me', { name: '  New Name ' });
  t.equal(renamed.statusCode, 200);
  t.equal(renamed.json().user.name, 'New Name');
  const admin = await userSession(ta, 'admin');
  const byAdmin = await admin.request('PATCH', `/api/users/${staff.user.id}`, { name: 'Named By Admin' });
  t.equal(byAdmin.statusCode, 200);
  t.equal((await staff.request('GET', '/api/me')).json().user.name, 'Named By Admin');
  const other = await userSession(ta, 'staff');
  t.equal((await other.request('PATCH', `/api/users/${staff.user.id}`, { name: 'Hijack' })).statusCode, 403);
});

t.test('a password change needs the current password and ends every other session', async (t) => {
  const { user, email } = await createTestUser(ta.db);
  const here = await signIn(app, email);
  const elsewhere = await signIn(app, email);
  const missing = await here.request('PATCH', '/api/me', { password: NEW_PASSWORD });
  t.equal(missing.statusCode, 403);
  t.equal(missing.json().error.code, 'wrong_password');
  const wrong = await here.request('PATCH', '/api/me', { password: NEW_PASSWORD, currentPassword: 'not my password at all' });
  t.equal(wrong.statusCode, 403);
  t.equal(wrong.json().error.code, 'wrong_password');
  t.equal((await elsewhere.request('GET', '/api/me')).statusCode, 200, 'a refused change signs nobody out');

  const changed = await here.request('PATCH', '/api/me', { password: NEW_PASSWORD, currentPassword: TEST_PASSWORD });
  t.equal(changed.statusCode, 200);
  t.equal((await here.request('GET', '/api/me')).statusCode, 200, 'the session that changed it stays signed in');
  t.equal((await elsewhere.request('GET', '/api/me')).statusCode, 401, 'the other session is ended');
  const oldLogin = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password: TEST_PASSWORD }, remoteAddress: '10.12.0.1' });
  t.equal(oldLogin.statusCode, 401, 'the old password no longer works');
  t.ok(await signIn(app, email, NEW_PASSWORD), 'the new one does');
  t.equal(user.email, email);
});

t.test('weak passwords are refused with 422 weak_password and the library hint, wherever a password is set', async (t) => {
  const admin = await userSession(ta, 'admin');
  const staff = await userSession(ta, 'staff');
  for (const weak of ['short pw', 'password1234', 'aaaaaaaaaaaaaaaa', 'qwertyuiopasdf']) {
    const me = await staff.request('PATCH', '/api/me', { password: weak, currentPassword: TEST_PASSWORD });
    t.equal(me.statusCode, 422, `me: ${weak}`);
    t.equal(me.json().error.code, 'weak_password');
    t.equal(me.json().error.field, 'password');
    t.ok(me.json().error.message.length > 20, 'says why');
    const create = await admin.request('POST', '/api/users', { email: uniqEmail('weak'), name: 'Weak', password: weak, role: 'staff' });
    t.equal(create.statusCode, 422, `create: ${weak}`);
    t.equal(create.json().error.code, 'weak_password');
    const patch = await admin.request('PATCH', `/api/users/${staff.user.id}`, { password: weak });
    t.equal(patch.statusCode, 422, `admin patch: ${weak}`);
  }
  const common = await admin.request('POST', '/api/users', { email: uniqEmail('weak'), name: 'Weak', password: 'password1234', role: 'staff' });
  t.match(common.json().error.message, /commonly used password/, "the library's hint is passed on");
  const email = uniqEmail('mariagarcia');
  const ownName = await admin.request('POST', '/api/users', { email, name: 'Maria Garcia', password: 'mariagarcia2024', role: 'staff' });
  t.equal(ownName.statusCode, 422, "a password made of the user's own name is weak");
  t.equal((await staff.request('GET', '/api/me')).statusCode, 200, 'a refused change signs nobody out');
  const ok = await admin.request('POST', '/api/users', { email: uniqEmail('strong'), name: 'Strong', password: NEW_PASSWORD, role: 'staff' });
  t.equal(ok.statusCode, 201);
});

t.test('deactivation ends sessions and revokes API tokens for good', async (t) => {
  const admin = await userSession(ta, 'admin');
  const { user, email } = await createTestUser(ta.db);
  const s = await signIn(app, email);
  const token = (await s.request('POST', '/api/tokens', { name: 'script' })).json().token as string;
  const bearer = { authorization: `Bearer ${token}` };
  t.equal((await app.inject({ method: 'GET', url: '/api/me', headers: bearer })).statusCode, 200);

  t.equal((await admin.request('PATCH', `/api/users/${user.id}`, { active: false })).statusCode, 200);
  t.equal((await s.request('GET', '/api/me')).statusCode, 401);
  t.equal((await app.inject({ method: 'GET', url: '/api/me', headers: bearer })).statusCode, 401);

  t.equal((await admin.request('PATCH', `/api/users/${user.id}`, { active: true })).statusCode, 200);
  t.equal((await s.request('GET', '/api/me')).statusCode, 401, 'the old session stays ended after reactivation');
  t.equal((await app.inject({ method: 'GET', url: '/api/me', headers: bearer })).statusCode, 401, 'the old token stays revoked');
  const fresh = await signIn(app, email);
  t.same((await fresh.request('GET', '/api/tokens')).json().items, [], 'no token is left');
});

t.test('an admin resetting a password signs that user out everywhere', async (t) => {
  const admin = await userSession(ta, 'admin');
  const { user, email } = await createTestUser(ta.db);
  const s = await signIn(app, email);
  t.equal((await admin.request('PATCH', `/api/users/${user.id}`, { password: NEW_PASSWORD })).statusCode, 200);
  t.equal((await s.request('GET', '/api/me')).statusCode, 401);
  t.equal((await admin.request('GET', '/api/me')).statusCode, 200, "the admin's own session is untouched");
});
