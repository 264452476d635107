// Authentication comes before body parsing and validation (issue 12): every route that is not public
// answers an unauthenticated request with a malformed body and bad path parameters with 401, never a 400
// that would tell a stranger about the route's input. The routes come from the OpenAPI document, so a new
// route is covered without being listed here; public ones say so there with `security: []`.
import t from 'tap';
import { startTestApp, userSession } from '../support/app.ts';

const ta = await startTestApp();
t.teardown(ta.close);
const { app } = ta;

type Operation = { security?: unknown[] };
const doc = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json() as { paths: Record<string, Record<string, Operation>> };
const methods = ['get', 'post', 'put', 'patch', 'delete'];
const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
  Object.entries(ops).filter(([method]) => methods.includes(method)).map(([method, op]) => ({ path, method: method.toUpperCase(), op })));
const isPublic = (op: Operation) => Array.isArray(op.security) && op.security.length === 0;
// Path parameters that fail validation (not UUIDs, not numbers), so a 400 would show if validation ran first.
const url = (path: string) => path.replace(/\{[^}]+\}/g, 'not-a-valid-id!') + '?limit=not-a-number';

t.ok(operations.length > 50, `the document lists the routes (${operations.length})`);
t.same(operations.filter((o) => isPublic(o.op)).map((o) => `${o.method} ${o.path}`).sort(),
  ['GET /api/attachments/{id}', 'GET /api/health', 'POST /api/auth/login', 'POST /api/auth/logout'].sort(),
  'only these are public (the attachment route checks its own signed links or session)');

t.test('every non-public route: 401 before any 400 for a stranger', async (t) => {
  for (const { path, method, op } of operations) {
    if (isPublic(op)) continue;
    const withBody = method !== 'GET' && method !== 'DELETE';
    const res = await app.inject({
      method: method as 'GET', url: url(path),
      ...(withBody ? { payload: '{"broken": ', headers: { 'content-type': 'application/json' } } : {}),
    });
    t.equal(res.statusCode, 401, `${method} ${path}: ${res.statusCode} ${res.statusCode === 401 ? '' : res.body.slice(0, 120)}`);
  }
});

t.test('a signed-in staff member gets 403 before 400 on admin routes', async (t) => {
  const staff = await userSession(ta, 'staff');
  const res = await staff.request('POST', '/api/users', '{"broken": ', { 'content-type': 'application/json' });
  t.equal(res.statusCode, 403);
  const patch = await staff.request('PATCH', '/api/users/not-a-uuid', { nonsense: true });
  t.equal(patch.statusCode, 403);
  const admin = await userSession(ta, 'admin');
  t.equal((await admin.request('PATCH', '/api/users/not-a-uuid', { name: 'x' })).statusCode, 400, 'validation still answers the caller who may use the route');
});
