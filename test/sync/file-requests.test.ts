// File requests end to end on real services: the API queues one mail per contact (their language, a
// reply token, a recorded Message-ID), the worker sends them to the SMTP peer and saves them in Sent, the
// sync files them; a contact's reply delivered to Dovecot fulfils the request; strangers are held; reminders
// go out on schedule and never after fulfilment, cancel or notify off; hostile subjects are sent safely.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { runFileRequestScan } from '../../src/core/collaboration/file-request-reminders.ts';
import { parseMessage } from '../../src/sync/parse-message.ts';
import { signIn, type Session } from '../support/app.ts';
import { headerFields, headerValues } from '../support/sending.ts';
import type { SmtpMessage } from '../support/smtp-sink.ts';
import { createFirm, startFirmStack } from '../support/firm.ts';
import { createTestClientWithContacts, createTestPdf, createTestUser, type TestContactSpec } from '../support/factories.ts';
import { syncUntil } from '../support/sync.ts';

const HOSTILE = new URL('../../../shared/corpus/hostile/', import.meta.url);
const { ta, dovecot, sink, close } = await startFirmStack();
t.teardown(close);
// Each test has its own firm, client and addresses, and most of their time is waiting on schedules and
// syncs: they run side by side (the file took ~50 s one after another).
t.jobs = 3;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const setupFirm = () => createFirm(ta, dovecot, sink, { prefix: 'fr' });

async function setupClient(contacts: TestContactSpec[]) {
  const made = await createTestClientWithContacts(ta, contacts);
  return { client: made.client, addresses: made.contacts.map((c) => c.address) };
}

const to = (address: string) => (m: SmtpMessage) => m.to.includes(address);
const subjectOf = (m: SmtpMessage) => headerValues(m.raw, 'subject')[0] ?? '';
const decodedSubject = async (m: SmtpMessage) => (await parseMessage(m.raw)).subject;

async function query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
  return ta.db.em.fork().execute<T[]>(sql, params);
}

async function getRequest(s: Session, id: string) {
  const res = await s.request('GET', `/api/file-requests/${id}`);
  if (res.statusCode !== 200) throw new Error(`GET request: ${res.statusCode} ${res.body}`);
  return res.json();
}

/** Reminders to `address` in the outbox, sent or still to be sent: what the scan and the delayed job decided. */
async function remindersQueued(address: string): Promise<number> {
  const rows = await query<{ n: number }>(`select count(*)::int as n from outbox where kind = 'file_request_reminder' and "to"::text like ?`, [`%${address}%`]);
  return rows[0]!.n;
}


/** A reply from `from` with PDFs attached, addressed to the token and threaded to the request mail. */
function replyMail(opts: { from: string; to: string; inReplyTo?: string; subject: string; files: { name: string; content: Buffer }[]; body?: string }): Buffer {
  const b = `b-${randomUUID()}`;
  const head = [
    `From: ${opts.from}`, `To: ${opts.to}`, `Subject: ${opts.subject}`, `Date: ${new Date().toUTCString()}`,
    `Message-ID: <${randomUUID()}@client.example>`,
    ...(opts.inReplyTo ? [`In-Reply-To: <${opts.inReplyTo}>`, `References: <${opts.inReplyTo}>`] : []),
    'MIME-Version: 1.0', `Content-Type: multipart/mixed; boundary="${b}"`, '',
    `--${b}`, 'Content-Type: text/plain; charset=utf-8', '', opts.body ?? 'Here you are.', '',
  ];
  const parts = opts.files.flatMap((f) => [
    `--${b}`, `Content-Type: application/pdf; name="${f.name}"`, `Content-Disposition: attachment; filename="${f.name}"`,
    'Content-Transfer-Encoding: base64', '', f.content.toString('base64').replace(/.{76}/g, '$&\r\n'), '',
  ]);
  return Buffer.from([...head, ...parts, `--${b}--`, ''].join('\r\n'));
}

t.test('a request to two contacts: each gets it in their language with a reply token, and the client log shows it', async (t) => {
  const firm = await setupFirm();
  const { client, addresses: [es, nl] } = await setupClient([{ language: 'es', name: 'Lucía Gómez' }, { language: 'nl', name: 'Daan de Vries' }]);
  const res = await firm.s.request('POST', '/api/file-requests', {
    clientId: client.id, accountId: firm.accountId, recipients: [es, nl], subject: 'Year-end 2025',
    description: 'We need your documents for the 2025 return.', items: ['2025 tax return', 'Signed engagement letter'], dueDate: '2030-01-31',
  });
  t.equal(res.statusCode, 201, res.body);
  const { request, outboxIds } = res.json();
  t.equal(outboxIds.length, 2, 'one outbox mail per recipient');
  t.equal(request.status, 'open');
  t.same(request.reminders, { count: 1, intervalDays: 3 }, 'firm default: one reminder after 3 days');
  const recipients = await query<{ address: string; token: string; message_id_header: string }>('select address, token, message_id_header from file_request_recipient where file_request_id = ?', [request.id]);

  const gotEs = await sink.waitFor(to(es!), 30_000);
  const gotNl = await sink.waitFor(to(nl!), 30_000);
  t.equal(await decodedSubject(gotEs), 'Solicitud de documentos: Year-end 2025');
  t.equal(await decodedSubject(gotNl), 'Verzoek om documenten: Year-end 2025');
  t.match((await parseMessage(gotEs.raw)).text, /Por favor, envíenos:\n\s+- 2025 tax return/);
  t.match((await parseMessage(gotNl.raw)).text, /beantwoordt u deze e-mail/);
  for (const [got, address] of [[gotEs, es], [gotNl, nl]] as const) {
    const rec = recipients.find((r) => r.address === address)!;
    t.same(got.to, [address], 'each mail goes to its own recipient only');
    const [local, domain] = firm.accountEmail.split('@');
    t.same(headerValues(got.raw, 'reply-to'), [`${local}+r-${rec.token}@${domain}`], 'Reply-To carries the recipient token');
    t.same(headerValues(got.raw, 'message-id'), [`<${rec.message_id_header}>`], 'the Message-ID replies will reference is recorded');
  }
  t.not(recipients[0]!.token, recipients[1]!.token);

  // The Sent copy is synced and filed: the client's log shows the request mail.
  const ids = recipients.map((r) => r.message_id_header);
  const logged = await syncUntil(ta.queue, firm.accountId, async () => {
    const rows = await query<{ subject: string; initiated_by: string }>(
      'select c.subject, c.initiated_by from communication c join message m on m.id = c.message_id where c.client_id = ? and m.message_id_header in (?)', [client.id, ids]);
    return rows.length === 2 ? rows : null;
  });
  t.ok(logged.every((r) => r.initiated_by === 'firm'));
  t.same(logged.map((r) => r.subject).sort(), ['Solicitud de documentos: Year-end 2025', 'Verzoek om documenten: Year-end 2025']);
  const timeline = (await getRequest(firm.s, request.id)).timeline;
  t.same(timeline.map((e: { kind: string }) => e.kind), ['sent', 'sent']);
});

t.test('a contact\'s reply with two PDFs fulfils the request; the owner is notified; no reminder follows', async (t) => {
  const firm = await setupFirm();
  const { client, addresses: [address] } = await setupClient([{ language: 'en', name: 'Jo Client' }]);
  const intervalSeconds = 15;
  const res = await firm.s.request('POST', '/api/file-requests', {
    clientId: client.id, accountId: firm.accountId, recipients: [address], subject: 'Tax return documents',
    description: 'Please send both files.', items: ['2025 tax return', 'Signed engagement letter'],
    reminders: { count: 1, intervalDays: intervalSeconds / 86400 },
  });
  t.equal(res.statusCode, 201, res.body);
  const createdAt = Date.now();
  const { request } = res.json();
  const sent = await sink.waitFor(to(address!), 30_000);
  const replyTo = headerValues(sent.raw, 'reply-to')[0]!;
  const messageId = headerValues(sent.raw, 'message-id')[0]!.slice(1, -1);
  // The token reached the mail's Reply-To, but the outbox row names the recipient instead of keeping it (issue 12).
  const token = /\+r-([0-9a-f]{24})@/.exec(replyTo)![1]!;
  const rows = await query<{ reply_to: string | null; reply_token_of: string | null; text: string; html: string | null }>(
    'select o.reply_to, o.reply_token_of, o.text, o.html from outbox o join file_request_recipient r on r.id = o.reply_token_of where r.file_request_id = ?', [request.id]);
  t.equal(rows.length, 1, 'the row names its recipient');
  t.notOk(rows.some((r) => [r.reply_to, r.text, r.html].some((v) => v?.includes(token))), 'no request token in the outbox row');

  const pdfs = [{ name: 'tax-return-2025.pdf', content: createTestPdf(30_000) }, { name: 'engagement-letter-signed.pdf', content: createTestPdf(31_000) }];
  await dovecot.deliver(firm.mail.user, replyMail({ from: `Jo Client <${address}>`, to: replyTo, inReplyTo: messageId, subject: 'Re: File request: Tax return documents', files: pdfs }));
  const view = await syncUntil(ta.queue, firm.accountId, async () => {
    const v = await getRequest(firm.s, request.id);
    return v.status === 'fulfilled' ? v : null;
  });
  t.equal(view.status, 'fulfilled');
  t.equal(view.receivedDocuments.length, 2, 'both PDFs linked to the request');
  t.ok(view.items.every((i: { fulfilled: boolean; documentIds: string[] }) => i.fulfilled && i.documentIds.length === 1), 'each item got its file');
  t.same(view.timeline.map((e: { kind: string }) => e.kind), ['sent', 'replied', 'document_received', 'fulfilled']);
  t.equal(view.nextReminderAt, null);
  const docs = await query<{ name: string; source: string; visible_to_client: boolean }>('select name, source, visible_to_client from document where client_id = ? order by name', [client.id]);
  t.same(docs, [{ name: 'engagement-letter-signed.pdf', source: 'request', visible_to_client: true }, { name: 'tax-return-2025.pdf', source: 'request', visible_to_client: true }],
    'client documents with source request, visible to the client (the default for request replies)');

  const notes = await firm.s.request('GET', '/api/notifications');
  t.equal(notes.statusCode, 200, notes.body);
  t.ok(notes.json().items.some((n: { kind: string; fileRequestId: string }) => n.kind === 'request_fulfilled' && n.fileRequestId === request.id), 'the owner has a notification');
  t.ok(notes.json().unread >= 1);

  // Past the reminder's time: the delayed job fires, re-checks the database and sends nothing; so does the scan.
  await sleep(Math.max(0, createdAt + intervalSeconds * 1000 + 2500 - Date.now()));
  await runFileRequestScan(ta.db, ta.queue);
  t.equal(await remindersQueued(address!), 0, 'no reminder after fulfilment (none queued, so none will be sent)');
  t.equal(sink.messages.filter(to(address!)).length, 1);
});

t.test('a reply with files from a stranger quoting the token is held for review, not accepted', async (t) => {
  const firm = await setupFirm();
  const { client, addresses: [address] } = await setupClient([{ language: 'en' }]);
  const res = await firm.s.request('POST', '/api/file-requests', {
    clientId: client.id, accountId: firm.accountId, recipients: [address], subject: 'Bank statements', reminders: { count: 0, intervalDays: 3 },
  });
  t.equal(res.statusCode, 201, res.body);
  const { request } = res.json();
  const sent = await sink.waitFor(to(address!), 30_000);
  const replyTo = headerValues(sent.raw, 'reply-to')[0]!;
  await dovecot.deliver(firm.mail.user, replyMail({ from: 'Mallory <mallory@attacker.example>', to: replyTo, subject: 'Re: Bank statements', files: [{ name: 'statement.pdf', content: createTestPdf() }] }));
  const view = await syncUntil(ta.queue, firm.accountId, async () => {
    const v = await getRequest(firm.s, request.id);
    return v.heldForReview > 0 ? v : null;
  });
  t.equal(view.status, 'open', 'not fulfilled by a stranger');
  t.equal(view.receivedDocuments.length, 0);
  const held = view.timeline.find((e: { kind: string }) => e.kind === 'held_for_review');
  t.equal(held.address, 'mallory@attacker.example');
  t.same(await query('select id from document where client_id = ?', [client.id]), [], 'no client document from the stranger');

  t.ok((await query('select id from notification where user_id = ? and kind = ?', [firm.user.id, 'request_held'])).length === 1, 'the mailbox owner is told');

  // A colleague (even an admin) neither sees nor accepts a reply held in Ana's private mailbox (issue 12).
  for (const role of ['staff', 'admin'] as const) {
    const other = await createTestUser(ta.db, role, 'Bob Colleague');
    const bob: Session = { user: other.user, ...(await signIn(ta.app, other.email)) };
    const seen = await getRequest(bob, request.id);
    t.equal(seen.heldForReview, 0, `${role}: no held reply counted`);
    t.notOk(seen.timeline.some((e: { kind: string; messageId: string | null }) => e.kind === 'held_for_review' || e.messageId === held.messageId), `${role}: no trace of it on the timeline`);
    const refused = await bob.request('POST', `/api/file-requests/${request.id}/held/${held.messageId}/accept`);
    t.equal(refused.statusCode, 404, `${role}: accepting it is 404`);
    t.equal((await getRequest(firm.s, request.id)).status, 'open', 'still not accepted');
  }

  // Staff accept it after review: then it counts.
  const accepted = await firm.s.request('POST', `/api/file-requests/${request.id}/held/${held.messageId}/accept`);
  t.equal(accepted.statusCode, 200, accepted.body);
  t.equal(accepted.json().status, 'fulfilled', 'no items: one document fulfils it');
});

t.test('reminders: sent on schedule in the thread, none after cancel, none to an address whose notify was turned off', async (t) => {
  const firm = await setupFirm();
  const { client, addresses: [a, b] } = await setupClient([{ language: 'en' }, { language: 'es' }]);
  const interval = { count: 2, intervalDays: 4 / 86400 };
  const res = await firm.s.request('POST', '/api/file-requests', { clientId: client.id, accountId: firm.accountId, recipients: [a, b], subject: 'Payroll', reminders: interval });
  t.equal(res.statusCode, 201, res.body);
  const { request } = res.json();
  // b turns notify off after the request went out and before the first reminder is due (4 s later).
  await query(`update contact_email set notify = false where address = ?`, [b]);
  const cancelled = (await firm.s.request('POST', '/api/file-requests', { clientId: client.id, accountId: firm.accountId, recipients: [a], subject: 'Cancelled one', reminders: { count: 1, intervalDays: 2 / 86400 } })).json().request;
  const cancel = await firm.s.request('POST', `/api/file-requests/${cancelled.id}/cancel`);
  t.equal(cancel.statusCode, 200, cancel.body);
  t.equal(cancel.json().status, 'cancelled');

  const firstA = await sink.waitFor((m) => to(a!)(m) && subjectOf(m).includes('Payroll') && !subjectOf(m).startsWith('Reminder'), 30_000);
  const reminder = await sink.waitFor((m) => to(a!)(m) && subjectOf(m) === 'Reminder: Payroll', 30_000);
  const originalId = headerValues(firstA.raw, 'message-id')[0]!;
  t.same(headerValues(reminder.raw, 'in-reply-to'), [originalId], 'the reminder continues the request thread');
  t.same(headerValues(reminder.raw, 'reply-to'), headerValues(firstA.raw, 'reply-to'), 'same reply token');
  t.match((await parseMessage(reminder.raw)).text, /friendly reminder/);

  const view = await syncUntil(ta.queue, firm.accountId, async () => {
    const v = await getRequest(firm.s, request.id);
    return v.remindersSent === 2 ? v : null;
  }, 30_000);
  t.equal(view.nextReminderAt, null, 'count reached: no more reminders');
  // Past the time a third reminder would be due: the scan queues none.
  await sleep(Math.max(0, new Date(view.timeline.at(-1).at).getTime() + 4500 - Date.now()));
  await runFileRequestScan(ta.db, ta.queue);
  t.equal(await remindersQueued(a!), 2, 'two reminders queued, as configured, and no third');
  t.equal(await remindersQueued(b!), 0, 'none to the address whose notify is off');
  const cancelledReminders = await query<{ n: number }>(`select count(*)::int as n from outbox where kind = 'file_request_reminder' and subject = 'Reminder: Cancelled one'`);
  t.equal(cancelledReminders[0]!.n, 0, 'none after cancel');
  const toA = () => sink.messages.filter((m) => to(a!)(m) && subjectOf(m) === 'Reminder: Payroll').length;
  for (let i = 0; i < 300 && toA() < 2; i++) await sleep(100);
  t.equal(toA(), 2, 'both reminders delivered');
  t.equal(view.timeline.filter((e: { kind: string; address: string }) => e.kind === 'reminded' && e.address === a).length, 2);
});

t.test('recipients must be the client\'s contacts with notify and the file_requests category (422 naming the field)', async (t) => {
  const firm = await setupFirm();
  const { client, addresses: [ok, noCategory] } = await setupClient([{ language: 'en' }, { language: 'en', categories: ['documents'] }]);
  const other = await setupClient([{ language: 'en' }]);
  const base = { clientId: client.id, accountId: firm.accountId, subject: 'Docs' };
  const stranger = await firm.s.request('POST', '/api/file-requests', { ...base, recipients: [ok, other.addresses[0]] });
  t.equal(stranger.statusCode, 422);
  t.match(stranger.json().error, { code: 'recipient_not_contact', field: 'recipients.1' });
  const category = await firm.s.request('POST', '/api/file-requests', { ...base, recipients: [noCategory] });
  t.equal(category.statusCode, 422);
  t.match(category.json().error, { code: 'recipient_category_off', field: 'recipients.0' });
  const choices = (await firm.s.request('GET', `/api/clients/${client.id}/file-request-recipients`)).json().items;
  t.same(choices.map((c: { address: string; eligible: boolean; reason: string | null }) => [c.address, c.eligible, c.reason]).sort(), [[ok, true, null], [noCategory, false, 'category_off']].sort());
  t.equal(await query('select id from file_request where client_id = ?', [client.id]).then((r) => r.length), 0, 'nothing saved');
});

t.test('a hostile subject (CR/LF header injection, template syntax) is sent as literal text on one line', async (t) => {
  const firm = await setupFirm();
  const { client, addresses: [address] } = await setupClient([{ language: 'en', name: 'Eve {{name}}' }]);
  // The payloads of the hostile corpus: the encoded Subject of header-injection-subject.eml and attachment names.
  const eml = readFileSync(new URL('header-injection-subject.eml', HOSTILE), 'latin1');
  const encoded = /^Subject: =\?UTF-8\?B\?([^?]+)\?=/m.exec(eml)![1]!;
  const injected = Buffer.from(encoded, 'base64').toString('utf8');
  t.match(injected, /\r\nBcc: victim@example\.net\r\nX-Injected: yes/, 'the payload carries CR/LF and header fields');
  const names = readFileSync(new URL('attachment-name-injection.eml', HOSTILE), 'latin1');
  const template = /filename="(\{\{[^"]+)"/.exec(names)![1]!.replace(/\.txt$/, '');
  t.equal(template, '{{7*7}}${7*7}<%= 7*7 %>');
  const subject = `${injected} ${template}`;
  const preview = await firm.s.request('POST', '/api/file-requests/preview', {
    clientId: client.id, accountId: firm.accountId, recipients: [address], subject, description: `${template}\n<img src=x onerror=alert(1)>`, items: [template],
  });
  t.equal(preview.statusCode, 200, preview.body);
  const [p] = preview.json().items;
  t.equal(p.subject, `File request: Invoice 42 Bcc: victim@example.net X-Injected: yes ${template}`, 'one line, CR/LF stripped');
  t.match(p.text, template, 'template syntax stays literal in text');
  t.match(p.html, '{{7*7}}${7*7}&lt;%= 7*7 %&gt;');
  t.notMatch(p.html, '<img src=x', 'user text is escaped in HTML');

  const res = await firm.s.request('POST', '/api/file-requests', {
    clientId: client.id, accountId: firm.accountId, recipients: [address], subject, description: `${template}\n<img src=x onerror=alert(1)>`, items: [template],
  });
  t.equal(res.statusCode, 201, res.body);
  const got = await sink.waitFor(to(address!), 30_000);
  t.same(got.to, [address], 'no injected envelope recipient');
  const fields = headerFields(got.raw).map(([n]) => n);
  t.equal(fields.filter((n) => n === 'subject').length, 1);
  t.notOk(fields.includes('bcc') || fields.includes('x-injected'), 'no injected header field');
  const parsed = await parseMessage(got.raw);
  t.equal(parsed.subject, `File request: Invoice 42 Bcc: victim@example.net X-Injected: yes ${template}`);
  t.match(parsed.text, `  - ${template}`);
  t.notMatch(parsed.text, /\b49\b/, 'nothing was evaluated');
  t.match(parsed.text, /Dear Eve \{\{name\}\},/);
  t.match(parsed.html ?? '', '&lt;img src=x', 'escaped in the HTML part');
});

t.test('staff tick items by hand; the list filters open, overdue, fulfilled and cancelled, per client and firm-wide; resend stays in the thread', async (t) => {
  const firm = await setupFirm();
  const { client, addresses: [address] } = await setupClient([{ language: 'en' }]);
  const create = (subject: string, extra: Record<string, unknown> = {}) => firm.s.request('POST', '/api/file-requests', {
    clientId: client.id, accountId: firm.accountId, recipients: [address], subject, reminders: { count: 0, intervalDays: 3 }, ...extra,
  }).then((r) => r.json().request);
  const overdue = await create('Late one', { dueDate: '2020-01-31', items: ['Invoices Q1', 'Invoices Q2'] });
  const other = await create('Other one');
  const cancelled = await create('Dropped');
  await firm.s.request('POST', `/api/file-requests/${cancelled.id}/cancel`);

  const list = async (q: string) => (await firm.s.request('GET', `/api/file-requests?clientId=${client.id}${q}`)).json().items.map((r: { subject: string }) => r.subject);
  t.same(await list('&status=overdue'), ['Late one']);
  t.same(await list('&status=open'), ['Other one', 'Late one'], 'newest first');
  t.same(await list('&status=cancelled'), ['Dropped']);
  t.same(await list(''), ['Dropped', 'Other one', 'Late one']);
  const firmWide = await firm.s.request('GET', '/api/file-requests?status=overdue&limit=200');
  t.ok(firmWide.json().items.some((r: { id: string; overdue: boolean }) => r.id === overdue.id && r.overdue), 'firm-wide list');

  const [q1, q2] = overdue.items;
  const half = await firm.s.request('PATCH', `/api/file-requests/${overdue.id}/items/${q1.id}`, { fulfilled: true });
  t.equal(half.statusCode, 200, half.body);
  t.equal(half.json().status, 'partially_fulfilled');
  const all = await firm.s.request('PATCH', `/api/file-requests/${overdue.id}/items/${q2.id}`, { fulfilled: true });
  t.equal(all.json().status, 'fulfilled');
  t.equal(all.json().overdue, false);
  t.same(await list('&status=fulfilled'), ['Late one']);
  t.equal((await firm.s.request('POST', `/api/file-requests/${overdue.id}/cancel`)).statusCode, 409, 'a fulfilled request is not cancelled');
  t.equal((await firm.s.request('PATCH', `/api/file-requests/${cancelled.id}/items/${q1.id}`, { fulfilled: true })).statusCode, 409);
  t.equal((await firm.s.request('GET', `/api/file-requests/${randomUUID()}`)).statusCode, 404);

  const first = await sink.waitFor((m) => to(address!)(m) && subjectOf(m) === 'File request: Other one', 30_000);
  const resent = await firm.s.request('POST', `/api/file-requests/${other.id}/resend`);
  t.equal(resent.statusCode, 202, resent.body);
  const again = await sink.waitFor((m) => to(address!)(m) && subjectOf(m) === 'File request: Other one' && m !== first, 30_000);
  t.same(headerValues(again.raw, 'in-reply-to'), headerValues(first.raw, 'message-id'), 'the resend continues the thread');
  t.same(headerValues(again.raw, 'reply-to'), headerValues(first.raw, 'reply-to'), 'with the same token');
  t.same(resent.json().request.timeline.map((e: { kind: string }) => e.kind), ['sent', 'resent']);
});

t.test('with acknowledgement on, a reply with files is thanked in the thread; an out-of-office reply answers nothing', async (t) => {
  const admin = await userSessionWithAccount();
  const staffTry = await admin.staff.request('PATCH', '/api/settings/file-requests', { acknowledge: true });
  t.equal(staffTry.statusCode, 403, 'firm settings are for administrators');
  const on = await admin.s.request('PATCH', '/api/settings/file-requests', { acknowledge: true });
  t.equal(on.statusCode, 200, on.body);
  t.same(on.json(), { reminderCount: 1, reminderIntervalDays: 3, acknowledge: true });
  t.teardown(async () => {
    await admin.s.request('PATCH', '/api/settings/file-requests', { acknowledge: false });
  });
  const firm = admin.firm;
  const { client, addresses: [address] } = await setupClient([{ language: 'nl', name: 'Sanne' }]);
  const res = await firm.s.request('POST', '/api/file-requests', { clientId: client.id, accountId: firm.accountId, recipients: [address], subject: 'Loonstroken', reminders: { count: 0, intervalDays: 3 } });
  const { request } = res.json();
  const sent = await sink.waitFor(to(address!), 30_000);
  const replyTo = headerValues(sent.raw, 'reply-to')[0]!;

  const ooo = Buffer.from([`From: Sanne <${address}>`, `To: ${replyTo}`, 'Subject: Afwezig', 'Auto-Submitted: auto-replied', `Message-ID: <${randomUUID()}@client.example>`,
    `Date: ${new Date().toUTCString()}`, '', 'Ik ben afwezig.', ''].join('\r\n'));
  await dovecot.deliver(firm.mail.user, ooo);
  const replyId = `${randomUUID()}@client.example`;
  const withFile = replyMail({ from: `Sanne <${address}>`, to: replyTo, subject: 'Re: Loonstroken', files: [{ name: 'loonstrook.pdf', content: createTestPdf() }] })
    .toString('latin1').replace(/^Message-ID: <[^>]+>/m, `Message-ID: <${replyId}>`);
  await dovecot.deliver(firm.mail.user, withFile);
  const view = await syncUntil(ta.queue, firm.accountId, async () => {
    const v = await getRequest(firm.s, request.id);
    return v.status === 'fulfilled' ? v : null;
  });
  t.equal(view.timeline.filter((e: { kind: string }) => e.kind === 'replied').length, 1, 'the automatic reply is not an answer');
  t.ok(view.timeline.some((e: { kind: string }) => e.kind === 'acknowledged'));
  // Queued inside the sync's transaction and enqueued right after it committed: no scan needed.
  const ack = await sink.waitFor((m) => to(address!)(m) && subjectOf(m) === 'Ontvangen: Loonstroken', 15_000);
  t.same(headerValues(ack.raw, 'in-reply-to'), [`<${replyId}>`], 'threaded under the client\'s reply');
  t.match((await parseMessage(ack.raw)).text, /we hebben uw bestand ontvangen/);
});

/** An administrator (who changes firm settings), a staff session, and a firm mailbox. */
async function userSessionWithAccount() {
  const { email } = await createTestUser(ta.db, 'admin', 'Admin');
  const firm = await setupFirm();
  const { email: staffEmail, user: staffUser } = await createTestUser(ta.db, 'staff', 'Staff');
  return {
    s: { user: firm.user, ...(await signIn(ta.app, email)) } as Session,
    staff: { user: staffUser, ...(await signIn(ta.app, staffEmail)) } as Session,
    firm,
  };
}

t.test('the database is the truth for reminders: the scan sends one the queue lost, once; overdue requests notify the owner once', async (t) => {
  const firm = await setupFirm();
  const { client, addresses: [address] } = await setupClient([{ language: 'nl' }]);
  // A 3-day interval: the queued delayed job will not fire during this test, as if the queue had lost it.
  const res = await firm.s.request('POST', '/api/file-requests', { clientId: client.id, accountId: firm.accountId, recipients: [address], subject: 'Jaarstukken', dueDate: '2021-06-30' });
  const { request } = res.json();
  await sink.waitFor(to(address!), 30_000);
  await query(`update file_request set next_reminder_at = now() - interval '1 second' where id = ?`, [request.id]);
  const first = await runFileRequestScan(ta.db, ta.queue);
  const second = await runFileRequestScan(ta.db, ta.queue);
  t.ok(first.reminders >= 1, 'the scan sent the due reminder');
  t.ok(first.overdue >= 1, 'and marked the request overdue');
  const reminder = await sink.waitFor((m) => to(address!)(m) && subjectOf(m) === 'Herinnering: Jaarstukken', 30_000);
  t.ok(reminder);
  // Both scans have returned: a second reminder would already be in the outbox.
  t.equal(await remindersQueued(address!), 1, 'sent once although the scan ran twice');
  t.equal(second.overdue, 0);
  const view = await getRequest(firm.s, request.id);
  t.equal(view.remindersSent, 1);
  t.equal(view.nextReminderAt, null, 'the only reminder is spent');
  t.equal(view.overdue, true);
  t.same(view.timeline.map((e: { kind: string }) => e.kind), ['sent', 'reminded', 'overdue']);
  const notes = (await firm.s.request('GET', '/api/notifications')).json().items.filter((n: { kind: string; fileRequestId: string }) => n.kind === 'request_overdue' && n.fileRequestId === request.id);
  t.equal(notes.length, 1, 'the owner is told once that it is overdue');
});
