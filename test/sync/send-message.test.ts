// Composing and sending over SMTP against a real SMTP peer (smtp-server): headers as nodemailer encodes
// them, Bcc only in the envelope, header injection refused, SMTP smuggling neutralised, errors classified.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { composeMail, sendMail, toCrlf, SmtpSendError, UnsafeHeaderError, type OutgoingMail, type SmtpSettings } from '../../src/sync/send-message.ts';
import { startSmtpSink } from '../support/smtp-sink.ts';

/** The SMTP sink listens on 127.0.0.1: the on-premises allowance (DOSSIER_ALLOW_PRIVATE_MAIL_HOSTS). */
const LOCAL = { hosts: { allowPrivate: true } };

const HOSTILE = new URL('../../../shared/corpus/hostile/', import.meta.url);
const sink = await startSmtpSink({ requireAuth: true });
t.teardown(() => sink.close());
const smtp: SmtpSettings = { host: sink.host, port: sink.port, secure: false, allowInsecure: true, username: sink.user, password: sink.password };

const mail = (over: Partial<OutgoingMail> = {}): OutgoingMail => ({
  from: { name: 'Ana Firm', address: 'ana@firm.example' },
  to: [{ name: 'Client', address: 'client@client.example' }],
  cc: [],
  bcc: [],
  subject: 'Re: Invoice 42',
  text: 'Thanks, received.',
  html: null,
  messageId: `m-${Math.random().toString(36).slice(2)}@firm.example`,
  inReplyTo: 'parent@client.example',
  references: ['root@client.example', 'parent@client.example'],
  date: new Date('2026-03-03T10:00:00Z'),
  attachments: [],
  ...over,
});

/** Header fields of a raw message, unfolded, as [name, value] in order. */
function headerFields(raw: Buffer): [string, string][] {
  const head = raw.toString('latin1').split('\r\n\r\n')[0]!;
  return head.replace(/\r\n[ \t]/g, ' ').split('\r\n').map((l) => {
    const i = l.indexOf(':');
    return [l.slice(0, i).toLowerCase(), l.slice(i + 1).trim()];
  });
}
const header = (raw: Buffer, name: string) => headerFields(raw).filter(([n]) => n === name).map(([, v]) => v);

t.test('a composed reply carries the threading headers and keeps Bcc out of the header', async (t) => {
  const composed = await composeMail(mail({ bcc: [{ address: 'hidden@firm.example' }], cc: [{ address: 'cc@client.example' }] }));
  t.same(header(composed.raw, 'message-id'), [`<${composed.raw.toString().match(/Message-ID: <([^>]+)>/)![1]}>`]);
  t.same(header(composed.raw, 'in-reply-to'), ['<parent@client.example>']);
  t.same(header(composed.raw, 'references'), ['<root@client.example> <parent@client.example>']);
  t.same(header(composed.raw, 'subject'), ['Re: Invoice 42']);
  t.same(header(composed.raw, 'bcc'), [], 'no Bcc header');
  t.same(composed.envelope.to.sort(), ['cc@client.example', 'client@client.example', 'hidden@firm.example']);
  t.notOk(/\r(?!\n)|(?<!\r)\n/.test(composed.raw.toString('latin1')), 'CRLF line endings only');
});

t.test('header values with line breaks or control characters are refused before composing', async (t) => {
  const cases: [string, Partial<OutgoingMail>][] = [
    ['subject CRLF', { subject: 'Invoice\r\nBcc: victim@example.net' }],
    ['subject bare CR', { subject: 'Invoice\rBcc: victim@example.net' }],
    ['to name', { to: [{ name: 'Support\r\nBcc: everyone@example.net', address: 'support@client.example' }] }],
    ['from name', { from: { name: 'Ana\nX-Injected: 1', address: 'ana@firm.example' } }],
    ['address with CRLF', { to: [{ address: 'a@b.example\r\nBcc: c@d.example' }] }],
    ['quoted local part', { cc: [{ address: '"x%0d%0aBcc:y@example.net"@client.example' }] }],
    ['message id', { inReplyTo: 'a@b>\r\nBcc: x@y' }],
    ['references', { references: ['<a@b> Bcc: x@y'] }],
    ['attachment name', { attachments: [{ filename: 'a\r\nContent-Type: text/html', contentType: 'text/plain', content: Buffer.from('x') }] }],
  ];
  for (const [label, over] of cases) await t.rejects(composeMail(mail(over)), UnsafeHeaderError, label);
});

t.test('quoting smtp-smuggling.eml: the peer receives one message, with the smuggled commands as text', async (t) => {
  sink.clear();
  const hostile = readFileSync(new URL('smtp-smuggling.eml', HOSTILE));
  const body = hostile.toString('utf8').split('\r\n\r\n').slice(1).join('\r\n\r\n');
  const m = mail({ text: `See below.\n\n${body}` });
  const composed = await composeMail(m);
  const result = await sendMail(smtp, composed, LOCAL);
  t.match(result.response, /^250/);
  // A smuggled second transaction would travel in the same session: once it closed, it would be recorded.
  await sink.settled();
  t.equal(sink.messages.length, 1, 'exactly one message');
  const got = sink.messages[0]!;
  t.same(got.to, ['client@client.example'], 'no smuggled recipient');
  t.equal(got.authUser, sink.user, 'authenticated with the account credentials');
  const raw = got.raw.toString('latin1');
  t.notOk(/\r(?!\n)|(?<!\r)\n/.test(raw), 'no bare CR or LF reached the peer');
  t.ok(raw.includes('RCPT TO:<victim@example.net>'), 'the smuggled command arrived as body text');
  t.ok(raw.includes('wire the money'), 'the rest of the quoted body arrived too');
  t.same(header(got.raw, 'subject'), ['Re: Invoice 42'], 'the smuggled Subject is not a header');
});

t.test('a 451 is a transient refusal, a 550 a permanent one with the server\'s words', async (t) => {
  sink.clear();
  sink.rejectNext(1, 451, { message: 'Greylisted, try later' });
  const e1 = await sendMail(smtp, await composeMail(mail()), LOCAL).catch((e: unknown) => e);
  t.ok(e1 instanceof SmtpSendError);
  t.match(e1, { responseCode: 451, permanent: false, ambiguous: false });
  t.match((e1 as Error).message, /Greylisted, try later/);
  sink.rejectNext(1, 550, { stage: 'rcpt', message: 'Mailbox unavailable' });
  const e2 = await sendMail(smtp, await composeMail(mail()), LOCAL).catch((e: unknown) => e);
  t.match(e2, { responseCode: 550, permanent: true, ambiguous: false });
  t.match((e2 as Error).message, /550.*Mailbox unavailable/);
  t.equal(sink.messages.length, 0);
});

t.test('wrong password and a closed port fail before any message is handed over', async (t) => {
  const bad = await sendMail({ ...smtp, password: 'wrong' }, await composeMail(mail()), LOCAL).catch((e: unknown) => e);
  t.match(bad, { stage: 'auth', permanent: true, ambiguous: false });
  const closed = await sendMail({ ...smtp, port: 1 }, await composeMail(mail()), LOCAL).catch((e: unknown) => e);
  t.match(closed, { stage: 'connect', permanent: false, ambiguous: false });
});

t.test('TLS is required unless the account allows plain text', async (t) => {
  // The sink offers no STARTTLS: a TLS-only account must refuse to send in the clear.
  const err = await sendMail({ ...smtp, allowInsecure: false }, await composeMail(mail()), LOCAL).catch((e: unknown) => e);
  t.ok(err instanceof SmtpSendError);
  t.equal((err as SmtpSendError).ambiguous, false);
  t.equal(sink.messages.length, 0, 'nothing sent in the clear');
});

t.test('toCrlf turns bare CR and LF into CRLF and leaves 8-bit bytes alone', async (t) => {
  const input = Buffer.concat([Buffer.from('a\nb\rc\r\nd'), Buffer.from([0xc3, 0xa9, 0x0a])]);
  t.same(toCrlf(input), Buffer.concat([Buffer.from('a\r\nb\r\nc\r\nd'), Buffer.from([0xc3, 0xa9, 0x0d, 0x0a])]));
});
