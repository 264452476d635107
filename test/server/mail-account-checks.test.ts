// Adding or changing a password account checks SMTP too (connect, EHLO, TLS as configured, AUTH; no mail),
// receive-only accounts, and a stored password never travelling to a host it was not entered for.
import t from 'tap';
import net from 'node:net';
import { userSession, type TestApp } from '../support/app.ts';
import { startAppWithWorker } from '../support/app-worker.ts';
import type { Dovecot, MailUser } from '../support/dovecot.ts';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';

let ta: TestApp;
let dovecot: Dovecot;
let close: () => Promise<void>;
let sink: SmtpSink;
t.before(async () => {
  ({ ta, dovecot, close } = await startAppWithWorker('smtp-check'));
  sink = await startSmtpSink({ requireAuth: true });
});
t.teardown(async () => {
  await sink.close();
  await close();
});

type Smtp = { host: string; port: number; secure: boolean; allowInsecure?: boolean; username: string; password: string } | null | undefined;
const body = (mail: MailUser, smtp: Smtp) => ({
  name: `Box ${mail.user}`, email: mail.email, visibility: 'private',
  imap: { host: mail.host, port: mail.port, secure: false, allowInsecure: true, username: mail.user, password: mail.password },
  ...(smtp === undefined ? {} : { smtp }),
});
const sinkSmtp = (over: Partial<NonNullable<Smtp>> = {}) => ({ host: sink.host, port: sink.port, secure: false, allowInsecure: true, username: sink.user, password: sink.password, ...over });

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

t.test('SMTP is checked on add: a working login adds the account and sends no mail', async (t) => {
  const s = await userSession(ta);
  const mail = await dovecot.addUser();
  const before = sink.messages.length;
  const res = await s.request('POST', '/api/mail-accounts', body(mail, sinkSmtp()));
  t.equal(res.statusCode, 201, res.body);
  t.match(res.json().smtp, { host: sink.host, port: sink.port, secure: false, allowInsecure: true, username: sink.user });
  t.equal(sink.messages.length, before, 'the check sent no mail');
});

t.test('each SMTP failure has its code, the server\'s reply and a hint in the user\'s language', async (t) => {
  const s = await userSession(ta);
  const mail = await dovecot.addUser();

  const auth = await s.request('POST', '/api/mail-accounts', body(mail, sinkSmtp({ password: 'wrong-password' })));
  t.equal(auth.statusCode, 422, auth.body);
  t.match(auth.json().error, { code: 'smtp_auth_failed', field: 'smtp.password' });
  t.match(auth.json().error.message, /refused the user name or password.*535 Authentication credentials invalid/s, 'hint, then the server\'s words');

  const down = await s.request('POST', '/api/mail-accounts', body(mail, sinkSmtp({ port: await closedPort() })));
  t.equal(down.statusCode, 422, down.body);
  t.match(down.json().error, { code: 'smtp_unreachable', field: 'smtp.host' });
  t.match(down.json().error.message, /cannot be reached.*ECONNREFUSED/s);

  // STARTTLS required (the default without allowInsecure) by a server that does not offer it.
  const starttls = await s.request('POST', '/api/mail-accounts', body(mail, sinkSmtp({ allowInsecure: false })));
  t.equal(starttls.statusCode, 422, starttls.body);
  t.match(starttls.json().error, { code: 'smtp_tls_failed', field: 'smtp.secure' });
  t.match(starttls.json().error.message, /STARTTLS/);
  // Implicit TLS against a plain-text server.
  const tls = await s.request('POST', '/api/mail-accounts', body(mail, sinkSmtp({ secure: true, allowInsecure: false })));
  t.equal(tls.statusCode, 422, tls.body);
  t.equal(tls.json().error.code, 'smtp_tls_failed');

  // In the user's language.
  const es = await userSession(ta);
  t.equal((await es.request('PATCH', '/api/me', { language: 'es' })).statusCode, 200);
  const spanish = await es.request('POST', '/api/mail-accounts', body(mail, sinkSmtp({ password: 'wrong-password' })));
  t.equal(spanish.json().error.code, 'smtp_auth_failed');
  t.match(spanish.json().error.message, /rechazó el usuario o la contraseña.*535/s);

  t.notOk((await s.request('GET', '/api/mail-accounts')).json().items.some((a: { email: string }) => a.email === mail.email), 'nothing was saved');
});

t.test('receive-only accounts: no SMTP, and sending from them is refused clearly', async (t) => {
  const s = await userSession(ta);
  const mail = await dovecot.addUser();
  const res = await s.request('POST', '/api/mail-accounts', body(mail, undefined));
  t.equal(res.statusCode, 201, res.body);
  t.equal(res.json().smtp, null);
  const id = res.json().id;
  const send = await s.request('POST', '/api/outbox', { accountId: id, to: [{ address: 'client@client.example' }], subject: 'Hello', text: 'Hi' });
  t.equal(send.statusCode, 422, send.body);
  t.match(send.json().error, { code: 'account_receive_only', field: 'accountId' });
  t.match(send.json().error.message, /receive-only/);

  const mail2 = await dovecot.addUser();
  const explicit = await s.request('POST', '/api/mail-accounts', body(mail2, null));
  t.equal(explicit.statusCode, 201, explicit.body);
  t.equal(explicit.json().smtp, null);
  // Adding SMTP later needs all of it, and it is checked.
  const partial = await s.request('PATCH', `/api/mail-accounts/${explicit.json().id}`, { smtp: { host: sink.host, password: 'x' } });
  t.equal(partial.statusCode, 400, partial.body);
  const wrong = await s.request('PATCH', `/api/mail-accounts/${explicit.json().id}`, { smtp: sinkSmtp({ password: 'nope' }) });
  t.equal(wrong.json().error?.code, 'smtp_auth_failed', wrong.body);
  const added = await s.request('PATCH', `/api/mail-accounts/${explicit.json().id}`, { smtp: sinkSmtp() });
  t.equal(added.statusCode, 200, added.body);
  t.match(added.json().smtp, { host: sink.host, port: sink.port });
  // And removing it again.
  const removed = await s.request('PATCH', `/api/mail-accounts/${explicit.json().id}`, { smtp: null });
  t.equal(removed.statusCode, 200, removed.body);
  t.equal(removed.json().smtp, null);
});

t.test('changing host, port, user name or security needs the password again; the new host gets no login', async (t) => {
  const s = await userSession(ta);
  const mail = await dovecot.addUser();
  const res = await s.request('POST', '/api/mail-accounts', body(mail, sinkSmtp()));
  t.equal(res.statusCode, 201, res.body);
  const id = res.json().id;
  // The "new host": a proxy in front of the same Dovecot, counting every connection it gets.
  const imapProxy = await startTcpProxy({ host: mail.host, port: mail.port });
  const smtpProxy = await startTcpProxy({ host: sink.host, port: sink.port });
  t.teardown(() => {
    void imapProxy.close();
    void smtpProxy.close();
  });

  for (const imap of [{ host: 'localhost', port: imapProxy.port }, { port: imapProxy.port }, { username: `${mail.user}-x` }, { secure: true }, { allowInsecure: false }]) {
    const r = await s.request('PATCH', `/api/mail-accounts/${id}`, { imap });
    t.equal(r.statusCode, 422, JSON.stringify(imap));
    t.same(r.json().error.code, 'password_required');
    t.same(r.json().error.field, 'imap.password');
  }
  for (const smtp of [{ port: smtpProxy.port }, { host: 'localhost' }, { username: 'someone-else' }, { secure: true }]) {
    const r = await s.request('PATCH', `/api/mail-accounts/${id}`, { smtp });
    t.equal(r.statusCode, 422, JSON.stringify(smtp));
    t.match(r.json().error, { code: 'password_required', field: 'smtp.password' });
  }
  t.equal(imapProxy.connections, 0, 'the new IMAP host saw no connection at all');
  t.equal(smtpProxy.connections, 0, 'the new SMTP host saw no connection at all');
  const view = (await s.request('GET', `/api/mail-accounts/${id}`)).json();
  t.match(view, { imap: { port: mail.port }, smtp: { port: sink.port } }, 'nothing changed');

  // With the password, the same change goes through (and the proxies do see the check's logins).
  const imapOk = await s.request('PATCH', `/api/mail-accounts/${id}`, { imap: { port: imapProxy.port, password: mail.password } });
  t.equal(imapOk.statusCode, 200, imapOk.body);
  t.ok(imapProxy.connections >= 1);
  const smtpOk = await s.request('PATCH', `/api/mail-accounts/${id}`, { smtp: { port: smtpProxy.port, password: sink.password } });
  t.equal(smtpOk.statusCode, 200, smtpOk.body);
  t.ok(smtpProxy.connections >= 1);
  // A name change alone needs no password.
  t.equal((await s.request('PATCH', `/api/mail-accounts/${id}`, { name: 'Renamed' })).statusCode, 200);
});
