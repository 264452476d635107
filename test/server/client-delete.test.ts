// Deleting a client takes its whole log and documents with it: administrators only (issue 12).
import t from 'tap';
import { startTestApp, userSession } from '../support/app.ts';
import { createTestClient } from '../support/factories.ts';

const ta = await startTestApp();
t.teardown(ta.close);

t.test('staff get 403 and the client stays; an administrator deletes it', async (t) => {
  const client = await createTestClient(ta.db);
  const staff = await userSession(ta, 'staff');
  const denied = await staff.request('DELETE', `/api/clients/${client.id}`);
  t.equal(denied.statusCode, 403);
  t.equal(denied.json().error.code, 'forbidden');
  t.equal((await staff.request('GET', `/api/clients/${client.id}`)).statusCode, 200, 'the client is still there');
  const admin = await userSession(ta, 'admin');
  t.equal((await admin.request('DELETE', `/api/clients/${client.id}`)).statusCode, 204);
  t.equal((await staff.request('GET', `/api/clients/${client.id}`)).statusCode, 404);
});
