// Mail servers on internal addresses (issue 12): refused when an account is saved (422 host_not_allowed) and
// again when the worker connects (a name may be re-pointed after the save: DNS rebinding), unless the
// installation allows them (DOSSIER_ALLOW_PRIVATE_MAIL_HOSTS, which every other test sets for 127.0.0.1).
// Errors repeat a server's words only when they are an IMAP/SMTP status line.
import t from 'tap';
import net from 'node:net';
import { isAllowedMailAddress, resolveMailHost, STRICT_MAIL_HOSTS } from '../../src/core/mail/mail-hosts.ts';
import { checkImapLogin, classifyImapError, openImap } from '../../src/sync/imap.ts';
import { composeMail, sendMail, SmtpSendError } from '../../src/sync/send-message.ts';
import { startTestApp, userSession } from '../support/app.ts';
import { testConfig } from '../support/env.ts';
import { createTestImapAccount } from '../support/factories.ts';
import { startSmtpSink } from '../support/smtp-sink.ts';
import { runSync, startSyncEnv } from '../support/sync.ts';

const PRIVATE = { allowPrivate: true };

t.test('address classes: public unicast only, internal ranges with the allowance, metadata never', async (t) => {
  const cases: [string, boolean, boolean][] = [
    ['8.8.8.8', true, true], ['2001:4860:4860::8888', true, true],
    ['127.0.0.1', false, true], ['::1', false, true], ['::ffff:127.0.0.1', false, true],
    ['10.1.2.3', false, true], ['172.16.5.4', false, true], ['192.168.0.10', false, true],
    ['fc00::1', false, true], ['fd12:3456::1', false, true], ['fe80::1', false, true], ['169.254.10.10', false, true],
    ['169.254.169.254', false, false], ['fd00:ec2::254', false, false], ['100.100.100.200', false, false], ['168.63.129.16', false, false],
    ['0.0.0.0', false, false], ['224.0.0.1', false, false], ['255.255.255.255', false, false],
  ];
  for (const [address, strict, allowed] of cases) {
    t.equal(isAllowedMailAddress(address, STRICT_MAIL_HOSTS), strict, `${address} by default`);
    t.equal(isAllowedMailAddress(address, PRIVATE), allowed, `${address} with the allowance`);
  }
  await t.rejects(resolveMailHost('localhost', STRICT_MAIL_HOSTS), { code: 'host_not_allowed' }, 'a name is judged by what it resolves to');
  t.equal(await resolveMailHost('[::1]', PRIVATE), '::1');
});

t.test('saving an account: 422 host_not_allowed naming the field, before any login is tried', async (t) => {
  const ta = await startTestApp({ config: testConfig({ DOSSIER_ALLOW_PRIVATE_MAIL_HOSTS: 'false' }) });
  t.teardown(ta.close);
  const s = await userSession(ta);
  const server = (host: string) => ({ host, port: 993, secure: true, username: 'u', password: 'some password' });
  const body = (imap: string, smtp: string) => ({ name: 'Probe', email: 'probe@firm.example', visibility: 'private', imap: server(imap), smtp: { ...server(smtp), port: 465 } });
  for (const [imap, smtp, field] of [
    ['127.0.0.1', 'smtp.gmail.com', 'imap.host'], ['localhost', 'smtp.gmail.com', 'imap.host'], ['169.254.169.254', 'smtp.gmail.com', 'imap.host'],
    ['[::1]', 'smtp.gmail.com', 'imap.host'], ['8.8.8.8', '10.0.0.25', 'smtp.host'], ['8.8.8.8', '192.168.1.1', 'smtp.host'],
  ] as const) {
    const res = await s.request('POST', '/api/mail-accounts', body(imap, smtp));
    t.equal(res.statusCode, 422, `${imap} / ${smtp}`);
    t.equal(res.json().error.code, 'host_not_allowed');
    t.equal(res.json().error.field, field);
  }
  // Before the credential check: no worker is attached here, so a check would have timed out instead.
  t.equal((await s.request('GET', '/api/mail-accounts')).json().items.filter((a: { name: string }) => a.name === 'Probe').length, 0, 'nothing saved');
});

t.test('connect time: the worker refuses an internal address even for an account saved earlier', async (t) => {
  // The account was saved while the address was allowed (or the name resolved elsewhere); now it is not.
  const allowed = await startSyncEnv();
  t.teardown(allowed.close);
  const mail = await allowed.dovecot.addUser();
  const account = await createTestImapAccount(allowed, mail);
  t.equal((await runSync(allowed, account.id)).outcome, 'done', 'with the allowance it syncs');

  const strict = await startSyncEnv({ config: testConfig({ DOSSIER_ALLOW_PRIVATE_MAIL_HOSTS: 'false', DOSSIER_SECRET_KEY: allowed.config.secretKey!.toString('hex') }) });
  t.teardown(strict.close);
  const outcome = await runSync(strict, account.id);
  t.equal(outcome.outcome, 'error');
  t.match(outcome.outcome === 'error' ? outcome.message : '', /private or internal network/);

  const settings = { host: mail.host, port: mail.port, secure: false, allowInsecure: true, username: mail.user, password: mail.password };
  const check = await checkImapLogin(settings, false);
  t.match(check, { ok: false, code: 'imap_unreachable' });
  t.match(check.ok ? '' : check.message, /private or internal network/, 'the credential check says why');
  await t.rejects(openImap(settings), /private or internal/, 'openImap refuses by default');

  const sink = await startSmtpSink();
  t.teardown(() => sink.close());
  const smtp = { host: sink.host, port: sink.port, secure: false, allowInsecure: true, username: sink.user, password: sink.password };
  const composed = await composeMail({ from: { name: 'A', address: 'a@firm.example' }, to: [{ address: 'b@client.example' }], cc: [], bcc: [], subject: 'x', text: 'x', html: null, messageId: 'x1@firm.example', inReplyTo: null, references: [], replyTo: null, date: new Date(), attachments: [] });
  const refused = await sendMail(smtp, composed).catch((e: unknown) => e);
  t.ok(refused instanceof SmtpSendError);
  t.match((refused as Error).message, /private or internal network/);
  t.equal(sink.messages.length, 0, 'nothing was sent');
});

t.test('a peer that is not a mail server is never quoted', async (t) => {
  // An internal web service answering on the IMAP port: its page must not come back to the user.
  const server = net.createServer((socket) => {
    socket.end('HTTP/1.1 400 Bad Request\r\nServer: internal-admin/1.0\r\nX-Secret: hunter2\r\n\r\n<html>internal</html>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  const result = await checkImapLogin({ host: '127.0.0.1', port, secure: false, allowInsecure: true, username: 'u', password: 'p' }, false, PRIVATE);
  t.equal(result.ok, false);
  const message = result.ok ? '' : result.message;
  t.notMatch(message, /hunter2|internal-admin|HTTP\/1\.1|<html>/, `not quoted: ${message}`);
  t.notMatch(message, /\n/, 'one line');

  t.match(classifyImapError({ authenticationFailed: true, responseText: 'Authentication failed.\r\nsecond line' }).message, /^The server refused the login: Authentication failed\.$/, 'an IMAP status text, one line');
  t.notMatch(classifyImapError({ response: 'SSH-2.0-OpenSSH_9.6 internal box' }).message, /OpenSSH/, 'a raw non-IMAP line is not repeated');
});
