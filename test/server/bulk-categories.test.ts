// Bulk contact settings set notification categories too (issue 15): single categories on or off, the others
// kept; the same dry run (nothing saved) and per-client report as the other switches.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { startTestApp, userSession } from '../support/app.ts';
import { uniq, uniqEmail } from '../support/env.ts';

const ta = await startTestApp();
t.teardown(ta.close);

t.test('notifyCategories: enable/disable single categories, dry run first, report per client', async (t) => {
  const s = await userSession(ta);
  const a = (await s.request('POST', '/api/clients', { name: uniq('Cat A') })).json();
  const b = (await s.request('POST', '/api/clients', { name: uniq('Cat B') })).json();
  const contactA = (await s.request('POST', '/api/contacts', { name: 'A', emails: [{ address: uniqEmail('a'), notifyCategories: ['documents', 'messages'] }], clientIds: [a.id] })).json();
  const contactB = (await s.request('POST', '/api/contacts', { name: 'B', emails: [{ address: uniqEmail('b'), notifyCategories: ['reminders'] }], clientIds: [b.id] })).json();
  const categoriesOf = async (contactId: string) => (await s.request('GET', `/api/contacts/${contactId}`)).json().emails[0].notifyCategories;
  const missing = randomUUID();
  const body = { clientIds: [a.id, b.id, missing], notifyCategories: { reminders: 'enable', messages: 'disable' } };

  const dry = await s.request('POST', '/api/clients/bulk/contact-settings', { ...body, dryRun: true });
  t.equal(dry.statusCode, 200);
  t.match(dry.json(), { changed: 1, unchanged: 1, dryRun: true, clients: [{ clientId: a.id, changed: 1, unchanged: 0 }, { clientId: b.id, changed: 0, unchanged: 1 }], errors: [{ clientId: missing, code: 'not_found' }] });
  t.same(await categoriesOf(contactA.id), ['documents', 'messages'], 'the dry run saved nothing');

  const real = (await s.request('POST', '/api/clients/bulk/contact-settings', body)).json();
  t.match(real, { changed: 1, unchanged: 1, dryRun: false });
  t.same(await categoriesOf(contactA.id), ['documents', 'reminders'], 'reminders on, messages off, documents kept');
  t.same(await categoriesOf(contactB.id), ['reminders'], 'already had reminders; messages stays off');
  const again = (await s.request('POST', '/api/clients/bulk/contact-settings', body)).json();
  t.match(again, { changed: 0, unchanged: 2 }, 'a second run changes nothing');

  const bad = await s.request('POST', '/api/clients/bulk/contact-settings', { clientIds: [a.id], notifyCategories: { sms: 'enable' } });
  t.equal(bad.statusCode, 400, 'an unknown category is refused');
});
