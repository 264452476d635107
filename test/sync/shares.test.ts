// Document shares end to end: the API sends each contact their own mail (SMTP peer) with signed links; a
// link downloads exactly its document for anyone holding it (no login), is recorded and tells the owner
// once; a tampered, revoked or expired link shows a small page in the recipient's language, never the file.
// Also the bell: unread count, read one, read all, and the optional email copy from a public mailbox.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { createUploadedDocument } from '../../src/core/documents/documents.ts';
import { resolveShareToken } from '../../src/core/collaboration/shares.ts';
import { createHandlers } from '../../src/sync/handlers.ts';
import { parseMessage } from '../../src/sync/parse-message.ts';
import type { WorkerDeps } from '../../src/sync/worker-deps.ts';
import { startTestApp } from '../support/app.ts';
import { getDovecot } from '../support/dovecot.ts';
import { uniq } from '../support/env.ts';
import { startSmtpSink, type SmtpMessage } from '../support/smtp-sink.ts';
import { createFirm } from '../support/firm.ts';
import { createTestClientWithContacts, createTestPdf, type TestContactSpec } from '../support/factories.ts';

const ta = await startTestApp();
const silent = { info: () => {}, warn: () => {}, error: () => {} };
const deps: WorkerDeps = { config: ta.config, db: ta.db, queue: ta.queue, blobs: ta.blobs, log: silent, workerId: `test-${randomUUID()}` };
ta.queue.work(createHandlers(deps), { concurrency: 4 });
const dovecot = await getDovecot();
const sink = await startSmtpSink();
t.teardown(async () => {
  await ta.close();
  await sink.close();
});

async function query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
  return ta.db.em.fork().execute<T[]>(sql, params);
}

const setupFirm = (opts: { visibility?: 'private' | 'public'; role?: 'staff' | 'admin' } = {}) => createFirm(ta, dovecot, sink, { prefix: 'share', ...opts });

const setupClient = (contacts: TestContactSpec[]) => createTestClientWithContacts(ta, contacts);

async function addDocument(clientId: string, name: string, content: Buffer) {
  const stored = await ta.blobs.put(content);
  const em = ta.db.em.fork();
  const doc = await createUploadedDocument(em, null, clientId, { ...stored, filename: name, contentType: 'application/pdf', visibleToClient: false });
  await em.flush();
  return { id: doc.id, content };
}

/** The share links in a recipient's mail, in document order, as paths ("/s/<token>"). */
async function linksIn(m: SmtpMessage): Promise<string[]> {
  const text = (await parseMessage(m.raw)).text;
  return [...text.matchAll(/https?:\/\/[^/\s]+(\/s\/[A-Za-z0-9._-]+)/g)].map((x) => x[1]!);
}
const open = (path: string, headers: Record<string, string> = {}) => ta.app.inject({ method: 'GET', url: path, headers, remoteAddress: `10.9.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}` });
const to = (address: string) => (m: SmtpMessage) => m.to.includes(address);

/** Swaps one character of a token part for another URL-safe one. */
function tweak(s: string, at: number): string {
  const c = s[at] === 'A' ? 'B' : 'A';
  return s.slice(0, at) + c + s.slice(at + 1);
}

t.test('each recipient gets their own links: the right file downloads, tampered links open nothing, the owner hears of the first download', async (t) => {
  const firm = await setupFirm();
  const { client, contacts: [en, es] } = await setupClient([{ language: 'en', name: 'Emma Brown' }, { language: 'es', name: 'Lucía Gómez' }]);
  const d1 = await addDocument(client.id, 'balance-2025.pdf', createTestPdf(20_000));
  const d2 = await addDocument(client.id, 'payroll-2025.pdf', createTestPdf(30_000));
  const res = await firm.s.request('POST', `/api/clients/${client.id}/shares`, {
    documentIds: [d1.id, d2.id], contactEmailIds: [en!.contactEmailId, es!.contactEmailId], message: 'Here are the reports.', accountId: firm.accountId,
  });
  t.equal(res.statusCode, 201, res.body);
  const { id: shareId, expiresAt, outboxIds } = res.json();
  t.equal(outboxIds.length, 2, 'one mail per recipient');
  const days = (Date.parse(expiresAt) - Date.now()) / 86_400_000;
  t.ok(days > 13.9 && days <= 14, 'expires in 14 days by default');
  const docs = await query<{ id: string; visible_to_client: boolean }>('select id, visible_to_client from document where id in (?, ?)', [d1.id, d2.id]);
  t.ok(docs.every((d) => d.visible_to_client), 'shared documents become visible to the client');
  const hashes = await query<{ token_hash: string }>('select l.token_hash from share_link l join share_recipient r on r.id = l.share_recipient_id where r.share_id = ?', [shareId]);
  t.equal(hashes.length, 4, 'one link per recipient and document');

  const mailEn = await sink.waitFor(to(en!.address), 30_000);
  const mailEs = await sink.waitFor(to(es!.address), 30_000);
  t.same(mailEn.to, [en!.address], 'each mail goes to its recipient only');
  t.equal((await parseMessage(mailEn.raw)).subject, 'Ana Firm shared documents with you');
  t.equal((await parseMessage(mailEs.raw)).subject, 'Ana Firm ha compartido documentos con usted');
  const [en1, en2] = await linksIn(mailEn);
  const [es1] = await linksIn(mailEs);
  t.ok(en1 && en2 && es1, 'links in both mails');
  t.not(en1, es1, 'each recipient has their own link to the same document');
  for (const p of [en1!, en2!, es1!]) t.notOk(hashes.some((h) => p.includes(h.token_hash)), 'the token is not what is stored');
  const rawTokenInDb = await query<{ n: number }>('select count(*)::int as n from share_link where token_hash = ?', [en1!.slice(3)]);
  t.equal(Number(rawTokenInDb[0]!.n), 0, 'only hashes are stored');
  // Nor in the outbox: the mail's body is sealed (issue 12).
  const outboxRows = await query<{ text: string; html: string | null; sealed: boolean }>('select text, html, sealed from outbox where id in (?, ?)', outboxIds);
  t.ok(outboxRows.length === 2 && outboxRows.every((r) => r.sealed), 'share mails are stored sealed');
  for (const p of [en1!, en2!, es1!]) {
    t.notOk(outboxRows.some((r) => r.text.includes(p.slice(3)) || r.html?.includes(p.slice(3))), 'no link token in the outbox');
  }
  t.notOk(outboxRows.some((r) => r.text.includes('/s/')), 'no link at all in clear text');

  const got1 = await open(en1!);
  t.equal(got1.statusCode, 200);
  t.ok(got1.rawPayload.equals(d1.content), 'the first link downloads the first document');
  t.match(got1.headers['content-disposition'], /^attachment; filename="?balance-2025\.pdf"?$/);
  t.equal(got1.headers['x-content-type-options'], 'nosniff');
  const got2 = await open(en2!);
  t.ok(got2.rawPayload.equals(d2.content), 'the second link downloads the second document');
  t.ok((await open(es1!)).rawPayload.equals(d1.content), 'the Spanish recipient\'s link works too');

  // Tampering: every part of the token is covered, and no variation reaches the other document.
  const [nonce, exp, mac] = en1!.slice(3).split('.') as [string, string, string];
  const [nonce2, exp2, mac2] = en2!.slice(3).split('.') as [string, string, string];
  const tampered = [
    `/s/${tweak(nonce, 3)}.${exp}.${mac}`, `/s/${nonce}.${(parseInt(exp, 36) + 86_400).toString(36)}.${mac}`, `/s/${nonce}.${exp}.${tweak(mac, 10)}`,
    `/s/${nonce2}.${exp}.${mac}`, `/s/${nonce}.${exp2}.${mac2}`, `/s/${nonce2}.${exp2}.${mac}`, `/s/${nonce}.${exp}`, '/s/x', `${en1}x`,
  ];
  for (const p of tampered) {
    const r = await open(p);
    t.equal(r.statusCode, 404, `tampered ${p} is refused`);
    t.match(r.headers['content-type'], /^text\/html/);
    t.match(r.body, 'This link is not valid');
    t.notOk(r.rawPayload.includes(d1.content.subarray(0, 64)) || r.rawPayload.includes(d2.content.subarray(0, 64)), 'never the file');
  }
  const esInvalid = await open('/s/x', { 'accept-language': 'nl-NL,nl;q=0.9' });
  t.match(esInvalid.body, 'Deze link is niet geldig', 'an unknown link speaks the browser\'s language');

  // Downloads are listed on the document, per recipient; the owner is told once per link.
  await open(en1!);
  const shares = await firm.s.request('GET', `/api/documents/${d1.id}/shares`);
  t.equal(shares.statusCode, 200, shares.body);
  const [listed] = shares.json().items;
  t.match(listed, { id: shareId, status: 'active', message: 'Here are the reports.', createdBy: { id: firm.user.id } });
  const byAddress = Object.fromEntries(listed.recipients.map((r: { address: string; downloads: unknown[] }) => [r.address, r.downloads.length]));
  t.same(byAddress, { [en!.address]: 2, [es!.address]: 1 }, 'who downloaded, how often');
  const notes = await query<{ id: string; title: string }>(`select id, title from notification where user_id = ? and kind = 'share_downloaded' order by created_at`, [firm.user.id]);
  t.equal(notes.length, 3, 'one notification per link downloaded for the first time (en×2 documents, es×1), not per download');
  t.match(notes[0]!.title, `${en!.address} downloaded "balance-2025.pdf"`);

  // The bell: unread count, one read, all read.
  const count = async () => (await firm.s.request('GET', '/api/notifications/unread-count')).json().unread;
  t.equal(await count(), 3);
  const page = await firm.s.request('GET', '/api/notifications/page?limit=2');
  t.equal(page.statusCode, 200, page.body);
  t.equal(page.json().items.length, 2);
  t.ok(page.json().nextCursor, 'a cursor to the next page');
  t.match(page.json().items[0].link, `/clients/${client.id}/documents?document=`);
  const read = await firm.s.request('POST', `/api/notifications/${notes[0]!.id}/read`);
  t.equal(read.statusCode, 204, read.body);
  t.equal(await count(), 2);
  const rest = await firm.s.request('GET', `/api/notifications/page?limit=2&cursor=${page.json().nextCursor}`);
  t.equal(rest.json().items.length, 1, 'the second page holds the rest');
  t.not(rest.json().items[0].readAt, null, 'read ones come after unread ones');
  const all = await firm.s.request('POST', '/api/notifications/read-all');
  t.same(all.json(), { marked: 2, unread: 0 });
  const other = await setupFirm();
  t.equal((await other.s.request('POST', `/api/notifications/${notes[1]!.id}/read`)).statusCode, 404, 'someone else\'s notification is not found');
});

t.test('a revoked or expired link shows a page in the recipient\'s language, never the file', async (t) => {
  const firm = await setupFirm();
  const { client, contacts: [es, nl] } = await setupClient([{ language: 'es', name: 'Lucía' }, { language: 'nl', name: 'Daan' }]);
  const doc = await addDocument(client.id, 'contract.pdf', createTestPdf(10_000));
  const share = async (contactEmailId: string, address: string, expiresInDays?: number) => {
    const before = sink.messages.length;
    const res = await firm.s.request('POST', `/api/clients/${client.id}/shares`, { documentIds: [doc.id], contactEmailIds: [contactEmailId], accountId: firm.accountId, ...(expiresInDays ? { expiresInDays } : {}) });
    t.equal(res.statusCode, 201, res.body);
    const mail = await sink.waitFor((m) => sink.messages.indexOf(m) >= before && to(address)(m), 30_000);
    return { id: res.json().id as string, link: (await linksIn(mail))[0]! };
  };

  const revoked = await share(es!.contactEmailId, es!.address);
  t.equal((await open(revoked.link)).statusCode, 200, 'works before the revoke');
  const del = await firm.s.request('DELETE', `/api/shares/${revoked.id}`);
  t.equal(del.statusCode, 204, del.body);
  const afterRevoke = await open(revoked.link);
  t.equal(afterRevoke.statusCode, 410);
  t.match(afterRevoke.body, 'Este enlace ha sido retirado', 'in Spanish, the recipient\'s language');
  t.notOk(afterRevoke.rawPayload.includes(doc.content.subarray(0, 64)), 'not the file');
  const listed = await firm.s.request('GET', `/api/documents/${doc.id}/shares`);
  t.equal(listed.json().items.find((s: { id: string }) => s.id === revoked.id).status, 'revoked');

  const expiring = await share(nl!.contactEmailId, nl!.address, 1);
  t.equal((await open(expiring.link)).statusCode, 200);
  // The token's own signed expiry: a day later it no longer opens.
  const em = ta.db.em.fork();
  const later = await resolveShareToken(em, ta.config.secretKey!, expiring.link.slice(3), new Date(Date.now() + 2 * 86_400_000));
  t.equal(later.kind, 'expired');
  // The share's expiry in the database (as if time passed): the page, not the file.
  await query(`update share set expires_at = now() - interval '1 minute' where id = ?`, [expiring.id]);
  const afterExpiry = await open(expiring.link);
  t.equal(afterExpiry.statusCode, 410);
  t.match(afterExpiry.body, 'Deze link is verlopen', 'in Dutch');
  t.notOk(afterExpiry.rawPayload.includes(doc.content.subarray(0, 64)), 'not the file');
  t.match(afterExpiry.headers['content-security-policy'], "default-src 'none'");
});

t.test('the public link route is rate-limited per address', async (t) => {
  const ip = `10.77.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
  const statuses: number[] = [];
  for (let i = 0; i < 61; i++) statuses.push((await ta.app.inject({ method: 'GET', url: `/s/guess${i}`, remoteAddress: ip })).statusCode);
  t.same([...new Set(statuses.slice(0, 60))], [404], 'sixty guesses a minute get the invalid page');
  t.equal(statuses[60], 429, 'the next one is refused');
  t.equal((await ta.app.inject({ method: 'GET', url: '/s/guess', remoteAddress: '10.78.1.1' })).statusCode, 404, 'other addresses are not affected');
});

t.test('shares are refused for addresses without the documents category, other clients\' documents and long expiries', async (t) => {
  const firm = await setupFirm();
  const { client, contacts: [ok, off] } = await setupClient([{ language: 'en', name: 'Ok' }, { language: 'en', name: 'No documents', categories: ['messages'] }]);
  const other = await setupClient([{ language: 'en', name: 'Other' }]);
  const mine = await addDocument(client.id, 'a.pdf', createTestPdf(1000));
  const theirs = await addDocument(other.client.id, 'b.pdf', createTestPdf(1000));
  const post = (body: object) => firm.s.request('POST', `/api/clients/${client.id}/shares`, { accountId: firm.accountId, ...body });
  const cat = await post({ documentIds: [mine.id], contactEmailIds: [off!.contactEmailId] });
  t.equal(cat.statusCode, 422);
  t.equal(cat.json().error.code, 'recipient_category_off');
  const foreignDoc = await post({ documentIds: [mine.id, theirs.id], contactEmailIds: [ok!.contactEmailId] });
  t.equal(foreignDoc.statusCode, 400);
  t.match(foreignDoc.json().error, { code: 'document_not_found', field: 'documentIds.1' });
  t.equal((await post({ documentIds: [mine.id], contactEmailIds: [ok!.contactEmailId], expiresInDays: 91 })).statusCode, 400, 'at most 90 days');
  t.equal((await firm.s.request('DELETE', `/api/shares/${randomUUID()}`)).statusCode, 404);
});

t.test('with notifyByEmail on, a notification is also mailed from the firm\'s public mailbox', async (t) => {
  const admin = await setupFirm({ visibility: 'public', role: 'admin' });
  const firm = await setupFirm();
  t.same((await firm.s.request('GET', '/api/me/notification-settings')).json(), { notifyByEmail: false }, 'off by default');
  const put = await firm.s.request('PUT', '/api/me/notification-settings', { notifyByEmail: true });
  t.equal(put.statusCode, 200, put.body);
  const { client, contacts: [c] } = await setupClient([{ language: 'en', name: uniq('Client') }]);
  const doc = await addDocument(client.id, 'notice.pdf', createTestPdf(1000));
  const res = await firm.s.request('POST', `/api/clients/${client.id}/shares`, { documentIds: [doc.id], contactEmailIds: [c!.contactEmailId], accountId: firm.accountId });
  t.equal(res.statusCode, 201, res.body);
  const link = (await linksIn(await sink.waitFor(to(c!.address), 30_000)))[0]!;
  t.equal((await open(link)).statusCode, 200);
  // The shared test database holds other tests' public mailboxes, so which one sends is not ours to
  // predict: the queued row is checked (a public mailbox, to the user, the title and the app link).
  const rows = await query<{ subject: string; text: string; visibility: string; to: { address: string }[] }>(
    `select o.subject, o.text, ma.visibility, o."to" from outbox o join mail_account ma on ma.id = o.account_id
      where o.kind = 'staff_notification' and o."to"::text like ?`, [`%${firm.user.email}%`]);
  t.equal(rows.length, 1, 'one email copy, for the first download');
  t.equal(rows[0]!.visibility, 'public', 'sent from a public mailbox');
  t.same(rows[0]!.to.map((a) => a.address), [firm.user.email]);
  t.equal(rows[0]!.subject, `[Dossier] ${c!.address} downloaded "notice.pdf"`);
  t.match(rows[0]!.text, `${ta.config.publicUrl}/clients/${client.id}/documents?document=${doc.id}`, 'with the link into the app');
  t.ok(admin.accountId, 'a public mailbox exists');
  const quiet = await setupFirm();
  const { client: c2, contacts: [q] } = await setupClient([{ language: 'en', name: uniq('Client') }]);
  const doc2 = await addDocument(c2.id, 'quiet.pdf', createTestPdf(1000));
  const res2 = await quiet.s.request('POST', `/api/clients/${c2.id}/shares`, { documentIds: [doc2.id], contactEmailIds: [q!.contactEmailId], accountId: quiet.accountId });
  await open((await linksIn(await sink.waitFor(to(q!.address), 30_000)))[0]!);
  t.equal(res2.statusCode, 201);
  const none = await query<{ n: number }>(`select count(*)::int as n from outbox where kind = 'staff_notification' and "to"::text like ?`, [`%${quiet.user.email}%`]);
  t.equal(Number(none[0]!.n), 0, 'no email copy for a user who did not ask for one');
  t.equal((await quiet.s.request('GET', '/api/notifications/unread-count')).json().unread, 1, 'but the bell has it');
});
