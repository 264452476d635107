// Sender verification end to end (issue 12): mail DKIM-signed in the test with a key published through the
// test's DNS (a resolver serving TXT records from a map: the outside world, not our code) is delivered to
// Dovecot and synced. A reply that matches a file request by its sender alone fulfils it only when the sender
// is verified (signed, or a trusted Authentication-Results header); otherwise it is held `sender_not_verified`.
// The message view shows the verdict.
import t from 'tap';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { dkimSign } from 'mailauth';
import { createCachedResolver, fromDomainOf, parseAuthResults, signedPart, verifySender, type DnsResolver } from '../../src/sync/sender-auth.ts';
import type { Session } from '../support/app.ts';
import { uniq } from '../support/env.ts';
import { createFirm, startFirmStack, type Firm } from '../support/firm.ts';
import { createTestClientWithContacts, createTestPdf } from '../support/factories.ts';
import { syncUntil } from '../support/sync.ts';

const TRUSTED = 'mx.trusted-firm.example';
const CLIENT_DOMAIN = 'test.example';
const SELECTOR = uniq('sel').toLowerCase();

// The client's domain publishes a DKIM key and a strict DMARC policy, as real senders do.
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
const dns = new Map<string, string[][]>([
  [`${SELECTOR}._domainkey.${CLIENT_DOMAIN}`, [[`v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`]]],
  [`_dmarc.${CLIENT_DOMAIN}`, [['v=DMARC1; p=reject']]],
]);
const lookups: string[] = [];
const resolver: DnsResolver = async (name, rrtype) => {
  lookups.push(`${rrtype} ${name}`);
  const records = rrtype === 'TXT' ? dns.get(name.toLowerCase()) : undefined;
  if (records) return records;
  throw Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
};

const { ta, dovecot, sink, close } = await startFirmStack({ env: { DOSSIER_TRUSTED_AUTHSERV_IDS: `other.example, ${TRUSTED.toUpperCase()}` }, dnsResolver: resolver });
t.teardown(close);
t.jobs = 2;


async function getJson(s: Session, url: string) {
  const res = await s.request('GET', url);
  if (res.statusCode !== 200) throw new Error(`GET ${url}: ${res.statusCode} ${res.body}`);
  return res.json();
}

/** A plain reply with a PDF from `from` to the firm's own address: no token, no In-Reply-To, no References. */
function plainReply(opts: { from: string; to: string; subject: string; extraHeaders?: string[] }): Buffer {
  const b = `b-${randomUUID()}`;
  return Buffer.from([
    ...(opts.extraHeaders ?? []),
    `From: ${opts.from}`, `To: ${opts.to}`, `Subject: ${opts.subject}`, `Date: ${new Date().toUTCString()}`,
    `Message-ID: <${randomUUID()}@${CLIENT_DOMAIN}>`, 'MIME-Version: 1.0', `Content-Type: multipart/mixed; boundary="${b}"`, '',
    `--${b}`, 'Content-Type: text/plain; charset=utf-8', '', 'The statement you asked for.', '',
    `--${b}`, 'Content-Type: application/pdf; name="statement.pdf"', 'Content-Disposition: attachment; filename="statement.pdf"',
    'Content-Transfer-Encoding: base64', '', createTestPdf().toString('base64').replace(/.{76}/g, '$&\r\n'), '', `--${b}--`, '',
  ].join('\r\n'));
}

async function sign(raw: Buffer, domain = CLIENT_DOMAIN, key = signingKey, selector = SELECTOR): Promise<Buffer> {
  // mailauth signs what signatureData lists (its typings also ask for the fields at the top).
  const one = { signingDomain: domain, selector, privateKey: key };
  const signed = await dkimSign(raw, { ...one, signatureData: [one] });
  if (!signed.signatures) throw new Error('not signed');
  if (signed.errors.length) throw new Error(`signing failed: ${JSON.stringify(signed.errors)}`);
  return Buffer.concat([Buffer.from(signed.signatures), raw]);
}

/** A firm, a client with one contact, and an open request to it. */
async function setup(subject: string) {
  const firm = await createFirm(ta, dovecot, sink, { prefix: 'sv' });
  const { client, contacts: [contact] } = await createTestClientWithContacts(ta, [{ language: 'en', name: 'Jo Client' }]);
  const res = await firm.s.request('POST', '/api/file-requests', {
    clientId: client.id, accountId: firm.accountId, recipients: [contact!.address], subject, reminders: { count: 0, intervalDays: 3 },
  });
  if (res.statusCode !== 201) throw new Error(`create request: ${res.statusCode} ${res.body}`);
  return { firm, client, address: contact!.address, requestId: res.json().request.id as string };
}

/** Delivers the reply and waits until the request has either accepted or held it. */
async function deliverAndMatch(firm: Firm, requestId: string, raw: Buffer) {
  await dovecot.deliver(firm.mail.user, raw);
  return syncUntil(ta.queue, firm.accountId, async () => {
    const v = await getJson(firm.s, `/api/file-requests/${requestId}`);
    return v.timeline.some((e: { kind: string }) => e.kind === 'replied' || e.kind === 'held_for_review') ? v : null;
  });
}

type TimelineEvent = { kind: string; messageId: string | null; details: { via?: string; reason?: string } };

t.test('a DKIM-signed reply matched by its sender alone passes and fulfils the request', async (t) => {
  const { firm, requestId, address } = await setup('Signed statement');
  const view = await deliverAndMatch(firm, requestId, await sign(plainReply({ from: `Jo Client <${address}>`, to: firm.accountEmail, subject: 'Statement' })));
  t.equal(view.status, 'fulfilled');
  const replied = view.timeline.find((e: TimelineEvent) => e.kind === 'replied') as TimelineEvent;
  t.equal(replied.details.via, 'sender', 'matched by the sender address alone');
  const message = await getJson(firm.s, `/api/messages/${replied.messageId}`);
  t.same(message.authentication, { verdict: 'pass', dkim: 'pass', spf: 'none', dmarc: 'pass', arc: 'none', trustedAuthservId: null });
  t.ok(lookups.includes(`TXT ${SELECTOR}._domainkey.${CLIENT_DOMAIN}`), 'the key came from the test resolver');
});

t.test('a forged From (unsigned, or signed by another domain) is held as sender_not_verified', async (t) => {
  const { firm, requestId, address } = await setup('Forged statement');
  // Mallory signs with her own domain's key; the From is the client's.
  const mallory = generateKeyPairSync('rsa', { modulusLength: 2048 });
  dns.set(`m1._domainkey.attacker.example`, [[`v=DKIM1; k=rsa; p=${mallory.publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`]]);
  const forged = await sign(plainReply({ from: `Jo Client <${address}>`, to: firm.accountEmail, subject: 'Statement' }), 'attacker.example', mallory.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(), 'm1');
  const view = await deliverAndMatch(firm, requestId, forged);
  t.equal(view.status, 'open', 'not fulfilled');
  t.equal(view.receivedDocuments.length, 0);
  const held = view.timeline.find((e: TimelineEvent) => e.kind === 'held_for_review') as TimelineEvent;
  t.same(held.details, { via: 'sender', reason: 'sender_not_verified' });
  const message = await getJson(firm.s, `/api/messages/${held.messageId}`);
  t.equal(message.authentication.verdict, 'fail', 'DMARC fails: no signature of the From domain');
  t.equal(message.authentication.dkim, 'none', 'a valid signature of another domain says nothing about this From');

  // A body changed after signing (a tampered reply) breaks the client's own signature: held too.
  const second = await setup('Tampered statement');
  const tampered = (await sign(plainReply({ from: `Jo Client <${second.address}>`, to: second.firm.accountEmail, subject: 'Statement' })))
    .toString('latin1').replace('The statement you asked for.', 'Pay to IBAN XX00 instead.');
  const heldView = await deliverAndMatch(second.firm, second.requestId, Buffer.from(tampered, 'latin1'));
  const tamperedEvent = heldView.timeline.find((e: TimelineEvent) => e.kind === 'held_for_review') as TimelineEvent;
  t.equal(tamperedEvent?.details.reason, 'sender_not_verified');
  t.match((await getJson(second.firm.s, `/api/messages/${tamperedEvent.messageId}`)).authentication, { verdict: 'fail', dkim: 'fail' });

  // The owner accepts it after checking with the client: then it counts.
  const accepted = await firm.s.request('POST', `/api/file-requests/${requestId}/held/${held.messageId}/accept`);
  t.equal(accepted.statusCode, 200, accepted.body);
  t.equal(accepted.json().status, 'fulfilled');
});

t.test('Authentication-Results: believed from a trusted authserv-id, ignored from any other', async (t) => {
  const results = (id: string) => `Authentication-Results: ${id};\r\n dkim=pass (signature verified) header.d=${CLIENT_DOMAIN} header.s=x;\r\n spf=pass smtp.mailfrom=${CLIENT_DOMAIN};\r\n dmarc=pass (p=REJECT) header.from=${CLIENT_DOMAIN}`;
  const trusted = await setup('Trusted results');
  const view = await deliverAndMatch(trusted.firm, trusted.requestId, plainReply({
    from: trusted.address, to: trusted.firm.accountEmail, subject: 'Statement', extraHeaders: [results(TRUSTED)],
  }));
  t.equal(view.status, 'fulfilled', 'the firm\'s own host vouches for the sender');
  const replied = view.timeline.find((e: TimelineEvent) => e.kind === 'replied') as TimelineEvent;
  t.same((await getJson(trusted.firm.s, `/api/messages/${replied.messageId}`)).authentication,
    { verdict: 'pass', dkim: 'pass', spf: 'pass', dmarc: 'pass', arc: 'none', trustedAuthservId: TRUSTED });

  const untrusted = await setup('Untrusted results');
  const heldView = await deliverAndMatch(untrusted.firm, untrusted.requestId, plainReply({
    from: untrusted.address, to: untrusted.firm.accountEmail, subject: 'Statement', extraHeaders: [results('mx.attacker.example')],
  }));
  t.equal(heldView.status, 'open', 'a header anyone could write changes nothing');
  const held = heldView.timeline.find((e: TimelineEvent) => e.kind === 'held_for_review') as TimelineEvent;
  t.equal(held.details.reason, 'sender_not_verified');
  t.match((await getJson(untrusted.firm.s, `/api/messages/${held.messageId}`)).authentication, { verdict: 'fail', spf: 'none', trustedAuthservId: null });
});

t.test('the DNS cache answers repeated look-ups once and bounds a slow server by its timeout', async (t) => {
  let calls = 0;
  const slow: DnsResolver = (name) => {
    calls++;
    return name.startsWith('hang') ? new Promise(() => {}) : Promise.resolve([['v=DMARC1; p=none']]);
  };
  const cached = createCachedResolver(slow, { timeoutMs: 50 });
  t.same(await cached('_dmarc.a.example', 'TXT'), [['v=DMARC1; p=none']]);
  t.same(await cached('_DMARC.A.example', 'TXT'), [['v=DMARC1; p=none']]);
  t.equal(calls, 1, 'one look-up for both');
  await t.rejects(cached('hang.example', 'TXT'), { code: 'ETIMEOUT' });
  // Unsigned mail skips mailauth: only the From domain's DMARC policy is looked up (a policy means fail).
  t.equal(fromDomainOf('Subject: x\r\nFrom: "Jo, <Client>" <Jo@Sub.Test.Example>\r\n'), 'sub.test.example');
  t.equal(fromDomainOf('From: a@x.example, b@y.example\r\n'), null, 'two authors: no single domain');
  const plain = (from: string) => Buffer.from(`From: ${from}\r\nSubject: x\r\n\r\nbody\r\n`);
  t.match(await verifySender(plain(`jo@mail.${CLIENT_DOMAIN}`), { resolver, trustedAuthservIds: [] }), { verdict: 'fail', dkim: 'none', dmarc: 'fail' }, 'the parent domain\'s policy applies');
  t.match(await verifySender(plain('jo@nopolicy.example'), { resolver, trustedAuthservIds: [] }), { verdict: 'none', dmarc: 'none' });
  const unsigned = Buffer.from('From: a@b.example\r\nSubject: x\r\n\r\nbody\r\n');
  t.equal(signedPart(unsigned).toString(), 'From: a@b.example\r\nSubject: x\r\n\r\n', 'unsigned: the header block is enough');
  const signedRaw = Buffer.from('DKIM-Signature: v=1; d=b.example\r\nFrom: a@b.example\r\n\r\nbody\r\n');
  t.equal(signedPart(signedRaw), signedRaw, 'signed: the whole message (body hash)');
  t.same(parseAuthResults('mx.example.com (comment; with semicolon) 1; dkim=pass header.d="ex.com"; dmarc=fail (p=none) header.from=ex.com'),
    { authservId: 'mx.example.com', results: [{ method: 'dkim', result: 'pass', props: { 'header.d': 'ex.com' } }, { method: 'dmarc', result: 'fail', props: { 'header.from': 'ex.com' } }] });
});
