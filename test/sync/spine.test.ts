// The spine, end to end on the real services: a client with a contact address, two messages delivered to
// Dovecot (one from that address, one not), the worker syncs → the client's log holds exactly the one,
// the unfiled queue the other; a colleague sees the filed one and not my unfiled private mail.
import t from 'tap';
import { userSession, type TestApp } from '../support/app.ts';
import { startAppWithWorker } from '../support/app-worker.ts';
import type { Dovecot } from '../support/dovecot.ts';
import { uniq, uniqEmail } from '../support/env.ts';
import { createTestMail } from '../support/factories.ts';

let ta: TestApp;
let dovecot: Dovecot;
let close: () => Promise<void>;
t.before(async () => {
  ({ ta, dovecot, close } = await startAppWithWorker('spine-test'));
});
t.teardown(() => close());

const until = async (fn: () => Promise<boolean>, ms: number) => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
};

t.test('mail from a client contact is filed to the client; other mail waits in the unfiled queue', async (t) => {
  const me = await userSession(ta, 'staff', 'Ana');
  const colleague = await userSession(ta, 'staff', 'Bram');
  const contactAddress = uniqEmail('client');

  const client = await me.request('POST', '/api/clients', { name: uniq('Garcia SL'), taxId: uniq('B') });
  t.equal(client.statusCode, 201, client.body);
  const clientId = client.json().id as string;
  const contact = await me.request('POST', '/api/contacts', { name: 'Lucía García', emails: [{ address: contactAddress }], clientIds: [clientId] });
  t.equal(contact.statusCode, 201, contact.body);

  const mail = await dovecot.addUser();
  const fromClient = `Declaración trimestral ${uniq('q')}`;
  const fromStranger = `Newsletter ${uniq('n')}`;
  await dovecot.deliver(mail.user, createTestMail({ subject: fromClient, from: contactAddress, to: mail.email }));
  await dovecot.deliver(mail.user, createTestMail({ subject: fromStranger, from: uniqEmail('stranger'), to: mail.email }));

  const account = await me.request('POST', '/api/mail-accounts', {
    name: 'Ana', email: mail.email, visibility: 'private',
    imap: { host: mail.host, port: mail.port, secure: false, allowInsecure: true, username: mail.user, password: mail.password },
  });
  t.equal(account.statusCode, 201, account.body);
  const accountId = account.json().id as string;

  const messages = async (query: string) => (await me.request('GET', `/api/messages?accountId=${accountId}&${query}`)).json().items as { id: string; subject: string; clients: { id: string }[] }[];
  t.ok(await until(async () => (await messages('')).length === 2, 30_000), 'both messages synced');

  const log = (await me.request('GET', `/api/clients/${clientId}/communications`)).json().items as { kind: string; subject: string; initiatedBy: string; messageId: string }[];
  t.same(log.map((r) => [r.kind, r.subject, r.initiatedBy]), [['email', fromClient, 'client']], "the client's log has exactly the client's message");
  const unfiled = await messages('filed=false');
  t.same(unfiled.map((m) => m.subject), [fromStranger], 'the other waits in the unfiled queue');
  const filed = await messages('filed=true');
  t.same(filed.map((m) => m.clients.map((c) => c.id)), [[clientId]]);

  t.equal((await colleague.request('GET', `/api/messages/${log[0]!.messageId}`)).statusCode, 200, 'client history is the firm’s: a colleague sees the filed message');
  t.equal((await colleague.request('GET', `/api/messages/${unfiled[0]!.id}`)).statusCode, 404, 'but not my unfiled private mail');

  const account2 = (await me.request('GET', `/api/mail-accounts/${accountId}`)).json();
  const inbox = account2.folders.find((f: { path: string }) => f.path === 'INBOX');
  t.same([inbox.serverMessages, inbox.storedMessages, inbox.failedMessages], [2, 2, 0], 'the folder status proves completeness');
});
