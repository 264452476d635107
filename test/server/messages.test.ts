// Messages through the full server on real PostgreSQL: who sees what (private, public, filed), list
// filters and full-text search, keyset pages, sanitised bodies, downloads and filing by hand.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { startTestApp, userSession } from '../support/app.ts';
import { uniq } from '../support/env.ts';
import { Area, Reason } from '../../src/core/log/communication.entity.ts';
import { createTestAccount, createTestClient, createTestCommunication, createTestMessage, createTestMessageFromSource } from '../support/factories.ts';

const ta = await startTestApp();
t.teardown(ta.close);
const { db, blobs } = ta;

/** A word no other test writes, so full-text queries see only this test's rows. */
const token = () => `tok${randomUUID().replace(/-/g, '').slice(0, 10)}`;
const ids = (res: { json: () => { items: { id: string }[] } }) => res.json().items.map((i) => i.id);

t.test('visibility: filed mail of a private mailbox is the firm\'s, unfiled mail its owner\'s alone (admins included)', async (t) => {
  const owner = await userSession(ta, 'staff', 'Owner');
  const colleague = await userSession(ta, 'staff', 'Colleague');
  const admin = await userSession(ta, 'admin', 'Admin');
  const mine = await createTestAccount(db, owner.user, { visibility: 'private' });
  const shared = await createTestAccount(db, admin.user, { visibility: 'public' });
  const word = token();
  const client = await createTestClient(db);
  const filed = await createTestMessage(db, blobs, { subject: `filed ${word}`, locations: [{ mailbox: mine.inbox }], attachments: [{ filename: 'a.pdf', contentType: 'application/pdf', content: '%PDF-1.4 filed' }] });
  await createTestCommunication(db, filed, client);
  const unfiled = await createTestMessage(db, blobs, { subject: `unfiled ${word}`, locations: [{ mailbox: mine.inbox }], attachments: [{ filename: 'b.pdf', contentType: 'application/pdf', content: '%PDF-1.4 unfiled' }] });
  const publicMsg = await createTestMessage(db, blobs, { subject: `public ${word}`, locations: [{ mailbox: shared.inbox }] });
  const expunged = await createTestMessage(db, blobs, { subject: `expunged ${word}`, locations: [{ mailbox: mine.inbox, removed: true }] });

  const ownerList = await owner.request('GET', `/api/messages?q=${word}`);
  t.same(new Set(ids(ownerList)), new Set([filed.id, unfiled.id, publicMsg.id]), 'the owner sees own mail, filed or not, and public mail; not expunged-only mail');

  for (const [who, s] of [['colleague', colleague], ['admin', admin]] as const) {
    t.same(new Set(ids(await s.request('GET', `/api/messages?q=${word}`))), new Set([filed.id, publicMsg.id]), `${who}: list has the filed and the public message only`);
    t.equal((await s.request('GET', `/api/messages/${filed.id}`)).statusCode, 200, `${who} can open the filed message`);
    t.equal((await s.request('GET', `/api/messages/${publicMsg.id}`)).statusCode, 200, `${who} can open public mail`);
    const hidden = await s.request('GET', `/api/messages/${unfiled.id}`);
    t.equal(hidden.statusCode, 404, `${who} gets 404 for the owner's unfiled mail`);
    t.same(hidden.json().error.code, 'not_found');
    const unknown = await s.request('GET', `/api/messages/${randomUUID()}`);
    t.same(hidden.json(), unknown.json(), `${who}: the answer is the same as for an id that does not exist`);
    const unfiledDetail = await owner.request('GET', `/api/messages/${unfiled.id}`);
    for (const path of [`/api/messages/${unfiled.id}/raw`, `/api/messages/${unfiled.id}/body`, `/api/threads/${unfiled.threadId}`, `/api/attachments/${unfiledDetail.json().attachments[0].id}`]) {
      t.equal((await s.request('GET', path)).statusCode, 404, `${who}: 404 for ${path.replace(/[0-9a-f-]{36}/g, ':id')}`);
    }
    t.equal((await s.request('POST', `/api/messages/${unfiled.id}/clients`, { clientId: client.id })).statusCode, 404, `${who} cannot file mail they cannot see`);
    t.same(ids(await s.request('GET', `/api/messages?accountId=${mine.account.id}`)), [], `${who}: filtering by the owner's private account reveals nothing`);
    const seen = (await s.request('GET', `/api/messages/${filed.id}`)).json();
    t.same(seen.folders, [], `${who}: the owner's private folder is not disclosed`);
    t.same(seen.clients, [{ id: client.id, name: client.name }]);
  }
  t.equal((await owner.request('GET', `/api/messages/${expunged.id}`)).statusCode, 404, 'mail expunged everywhere and unfiled is gone even for the owner');
  const ownerView = (await owner.request('GET', `/api/messages/${filed.id}`)).json();
  t.same(ownerView.folders, [{ accountId: mine.account.id, path: 'INBOX' }], 'the owner sees where it lies');

  // Unfiling takes the firm's view away again.
  t.equal((await owner.request('DELETE', `/api/messages/${filed.id}/clients/${client.id}`)).statusCode, 204);
  t.equal((await colleague.request('GET', `/api/messages/${filed.id}`)).statusCode, 404, 'after unfiling, the colleague no longer sees it');
});

t.test('list filters combine (account, folder, client, reason, filed, attachments, text)', async (t) => {
  const s = await userSession(ta);
  const box = await createTestAccount(db, s.user, { visibility: 'private' });
  const client = await createTestClient(db);
  const other = await createTestClient(db);
  const em = db.em.fork();
  const reason = em.create(Reason, { name: uniq('reason') } as never);
  const area = em.create(Area, { name: uniq('area') } as never);
  await em.flush();
  const w = token();
  const pdf = [{ filename: 'x.pdf', contentType: 'application/pdf', content: `%PDF ${w}` }];
  const make = (subject: string, opts: Parameters<typeof createTestMessage>[2] = {}) => createTestMessage(db, blobs, { subject, locations: [{ mailbox: box.inbox }], ...opts });
  const all = await make(`all ${w}`, { attachments: pdf });
  await createTestCommunication(db, all, client, { reasonId: reason.id, areaId: area.id });
  const unfiledWithFile = await make(`unfiled ${w}`, { attachments: pdf });
  const noFile = await make(`nofile ${w}`);
  await createTestCommunication(db, noFile, client);
  const noWord = await make('no word here', { attachments: pdf });
  await createTestCommunication(db, noWord, client, { reasonId: reason.id });
  const otherClient = await make(`other ${w}`, { attachments: pdf });
  await createTestCommunication(db, otherClient, other, { reasonId: reason.id });
  const inSent = await createTestMessage(db, blobs, { subject: `sent ${w}`, locations: [{ mailbox: box.sent }], attachments: pdf, direction: 'outbound' });
  await createTestCommunication(db, inSent, client);

  const q = (query: string) => s.request('GET', `/api/messages?accountId=${box.account.id}&${query}`).then(ids);
  t.same(new Set(await q('')), new Set([all.id, unfiledWithFile.id, noFile.id, noWord.id, otherClient.id, inSent.id]), 'the account alone');
  t.same(await q(`folder=INBOX&hasAttachments=true&filed=true&clientId=${client.id}&q=${w}`), [all.id], 'every filter at once');
  t.same(new Set(await q(`folder=INBOX&hasAttachments=true&clientId=${client.id}`)), new Set([all.id, noWord.id]), 'without the text');
  t.same(new Set(await q(`reasonId=${reason.id}`)), new Set([all.id, noWord.id, otherClient.id]), 'by reason');
  t.same(await q(`reasonId=${reason.id}&clientId=${other.id}`), [otherClient.id], 'reason and client on the same record');
  t.same(await q(`areaId=${area.id}&hasAttachments=true`), [all.id], 'by area');
  t.same(await q('filed=false'), [unfiledWithFile.id], 'the unfiled queue');
  t.same(await q('hasAttachments=false'), [noFile.id], 'without attachments');
  t.same(await q(`folder=Sent&q=${w}`), [inSent.id], 'another folder');
  t.same(await q('direction=outbound'), [inSent.id], 'by direction');
  t.same(await q(`q=${w} nofile`), [noFile.id], 'words combine with AND');
  t.same(await q(`q=x.pdf&hasAttachments=false`), [], 'an attachment-name hit still obeys the other filters');
  const bad = await s.request('GET', '/api/messages?filed=maybe');
  t.equal(bad.statusCode, 400);
  t.equal(bad.json().error.field, 'query.filed');
});

t.test('search ignores accents: "declaracion" finds "declaración" in the subject and in the body', async (t) => {
  const s = await userSession(ta);
  const box = await createTestAccount(db, s.user, { visibility: 'private' });
  const w = token();
  const inSubject = await createTestMessage(db, blobs, { subject: `Declaración de la renta ${w}`, text: 'Adjunto los documentos.', locations: [{ mailbox: box.inbox }] });
  const inBody = await createTestMessage(db, blobs, { subject: `Consulta ${w}`, text: 'Le enviamos la DECLARACIÓN trimestral del IVA.', locations: [{ mailbox: box.inbox }] });
  const neither = await createTestMessage(db, blobs, { subject: `Factura ${w}`, text: 'Nada que declarar.', locations: [{ mailbox: box.inbox }] });
  const attachmentName = await createTestMessage(db, blobs, {
    subject: `Anexo ${w}`, text: 'ver anexo', locations: [{ mailbox: box.inbox }],
    // A message matches when its text matches the whole query, or one attachment name does.
    attachments: [{ filename: `Declaración_${w}.pdf`, contentType: 'application/pdf', content: `%PDF ${w}` }],
  });
  const found = ids(await s.request('GET', `/api/messages?q=${encodeURIComponent(`declaracion ${w}`)}`));
  t.same(new Set(found), new Set([inSubject.id, inBody.id, attachmentName.id]), 'subject, body and attachment name match without accents');
  t.notOk(found.includes(neither.id));
  const accented = ids(await s.request('GET', `/api/messages?q=${encodeURIComponent(`declaración ${w}`)}`));
  t.same(new Set(accented), new Set(found), 'typing the accent finds the same');
  const phrase = ids(await s.request('GET', `/api/messages?q=${encodeURIComponent(`"declaracion trimestral" ${w}`)}`));
  t.same(phrase, [inBody.id], 'quoted phrases work (websearch syntax)');
  const junk = await s.request('GET', `/api/messages?q=${encodeURIComponent('"(&|!:*')}`);
  t.equal(junk.statusCode, 200, 'operator soup is not an error');
});

t.test('cursor pages are stable: no duplicates or gaps, ties broken by id, new mail does not shift pages', async (t) => {
  const s = await userSession(ta);
  const box = await createTestAccount(db, s.user, { visibility: 'private' });
  const base = Date.now() - 3600_000;
  const created: string[] = [];
  for (let i = 0; i < 23; i++) {
    // Groups of four share one timestamp, so the id must break ties.
    const m = await createTestMessage(db, blobs, { sentAt: new Date(base + Math.floor(i / 4) * 1000), locations: [{ mailbox: box.inbox }] });
    created.push(m.id);
  }
  // Microsecond differences (mail stored by other means keeps them) must survive the cursor.
  await db.em.fork().execute(`update message set sent_at = sent_at + interval '1 microsecond' where id in (?)`, [[created[0], created[5]]]);
  await db.em.fork().execute(`update message set sent_at = sent_at + interval '2 microsecond' where id in (?)`, [[created[1]]]);

  const full = ids(await s.request('GET', `/api/messages?accountId=${box.account.id}&limit=200`));
  t.equal(full.length, 23);
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res = await s.request('GET', `/api/messages?accountId=${box.account.id}&limit=5${cursor ? `&cursor=${cursor}` : ''}`);
    t.equal(res.statusCode, 200);
    const body = res.json();
    seen.push(...body.items.map((i: { id: string }) => i.id));
    cursor = body.nextCursor;
    if (pages++ === 0) await createTestMessage(db, blobs, { locations: [{ mailbox: box.inbox }] }); // arrives mid-paging
  } while (cursor);
  t.equal(pages, 5);
  t.same(seen, full, 'paging yields exactly the full list, in order');
  t.equal(new Set(seen).size, seen.length, 'no duplicates');
  const dates = (await s.request('GET', `/api/messages?accountId=${box.account.id}&limit=200`)).json().items.map((i: { date: string }) => i.date);
  t.same(dates, [...dates].sort().reverse(), 'newest first');
  const bad = await s.request('GET', '/api/messages?cursor=not-a-cursor');
  t.equal(bad.statusCode, 400);
  t.equal(bad.json().error.code, 'invalid_cursor');
});

t.test('every list yields every visible message exactly once at any page size (equal dates, no Date header, two locations in one mailbox)', async (t) => {
  const s = await userSession(ta);
  const box = await createTestAccount(db, s.user, { visibility: 'private' });
  const client = await createTestClient(db);
  const filing = { blobs, maxAttachmentBytes: ta.config.maxAttachmentBytes };
  const w = token();
  const expected: string[] = [];
  const at = new Date(Date.now() - 7200_000);
  // Nine messages at one instant, every third filed (the list then runs two branches).
  for (let i = 0; i < 9; i++) {
    const m = await createTestMessage(db, blobs, { subject: `same date ${w}`, sentAt: at, locations: [{ mailbox: box.inbox }] });
    if (i % 3 === 0) await createTestCommunication(db, m, client);
    expected.push(m.id);
  }
  // The same mail twice in one mailbox (two UIDs), once more in another, and twice in Sent.
  const twice = await createTestMessage(db, blobs, { subject: `twice ${w}`, sentAt: at, locations: [{ mailbox: box.inbox }, { mailbox: box.inbox }, { mailbox: box.sent }] });
  const twiceFiled = await createTestMessage(db, blobs, { subject: `twice filed ${w}`, locations: [{ mailbox: box.inbox }, { mailbox: box.inbox }] });
  await createTestCommunication(db, twiceFiled, client);
  const sentTwice = await createTestMessage(db, blobs, { subject: `sent twice ${w}`, sentAt: new Date(at.getTime() - 1000), locations: [{ mailbox: box.sent }, { mailbox: box.sent }] });
  expected.push(twice.id, twiceFiled.id, sentTwice.id);
  // Mail without a Date header delivered twice to the INBOX through the sync pipeline (one content, two locations).
  for (let i = 0; i < 3; i++) {
    const raw = Buffer.from(`Message-ID: <${randomUUID()}@test.example>\r\nFrom: someone@test.example\r\nTo: ${box.account.email}\r\nSubject: undated ${w} ${i}\r\n\r\nno date ${w}\r\n`);
    const first = await createTestMessageFromSource(db, blobs, box.inbox, raw, filing);
    const again = await createTestMessageFromSource(db, blobs, box.inbox, raw, filing);
    t.equal(again.id, first.id, 'a second delivery is a second location of one message');
    expected.push(first.id);
  }
  const lists = {
    account: `accountId=${box.account.id}`,
    folder: `accountId=${box.account.id}&folder=INBOX`,
    sent: `accountId=${box.account.id}&folder=Sent`,
    unfiled: `accountId=${box.account.id}&filed=false`,
    client: `clientId=${client.id}`,
    search: `q=${w}`,
  };
  const want: Record<keyof typeof lists, string[]> = {
    account: expected,
    folder: expected.filter((id) => id !== sentTwice.id),
    sent: [twice.id, sentTwice.id],
    unfiled: expected.filter((id, i) => !(i < 9 && i % 3 === 0) && id !== twiceFiled.id),
    client: [...expected.filter((_, i) => i < 9 && i % 3 === 0), twiceFiled.id],
    search: expected,
  };
  for (const [name, query] of Object.entries(lists) as [keyof typeof lists, string][]) {
    const full = ids(await s.request('GET', `/api/messages?${query}&limit=200`));
    t.same(new Set(full), new Set(want[name]), `${name}: the whole list holds each message`);
    t.equal(full.length, want[name].length, `${name}: ... once`);
    for (const limit of [1, 7, 50, 200]) {
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let pages = 0; pages <= want[name].length + 1; pages++) {
        const res = await s.request('GET', `/api/messages?${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
        t.equal(res.statusCode, 200);
        seen.push(...ids(res));
        cursor = res.json().nextCursor;
        if (!cursor) break;
      }
      t.same(seen, full, `${name}, pages of ${limit}: exactly the full list, in order`);
    }
  }
});

t.test('summary and detail shapes; unread is the caller\'s own (not \\Seen); thread oldest first', async (t) => {
  const s = await userSession(ta);
  const box = await createTestAccount(db, s.user, { visibility: 'private' });
  const client = await createTestClient(db);
  const threadId = randomUUID();
  const first = await createTestMessage(db, blobs, {
    threadId, sentAt: new Date(Date.now() - 60_000), subject: 'Question', text: 'First',
    from: { address: 'ana@client.example', name: 'Ana' }, to: [{ address: 'me@firm.example', name: 'Me' }], cc: [{ address: 'cc@client.example' }],
    locations: [{ mailbox: box.inbox, flags: ['\\Seen'] }],
  });
  await createTestCommunication(db, first, client);
  const reply = await createTestMessage(db, blobs, { threadId, subject: 'Re: Question', text: 'Second', locations: [{ mailbox: box.sent, flags: [] }, { mailbox: box.inbox }], direction: 'outbound' });
  const detail = (await s.request('GET', `/api/messages/${first.id}`)).json();
  t.match(detail, {
    id: first.id, threadId, subject: 'Question', from: { name: 'Ana', address: 'ana@client.example' },
    to: [{ name: 'Me', address: 'me@firm.example' }], cc: [{ name: null, address: 'cc@client.example' }],
    snippet: String, hasAttachments: false, direction: 'inbound', clients: [{ id: client.id, name: client.name }],
    folders: [{ accountId: box.account.id, path: 'INBOX' }], unread: true, text: 'First', html: null,
    attachments: [], parseStatus: 'ok', blockedImages: 0, references: [], inReplyTo: null,
  });
  t.equal(detail.date, first.sentAt.toISOString());
  t.equal(detail.messageIdHeader, first.messageIdHeader);
  const replyDetail = (await s.request('GET', `/api/messages/${reply.id}`)).json();
  t.equal(replyDetail.unread, true, 'not read by this user');
  t.equal(detail.unread, true, '\\Seen on the mailbox does not make it read for the user');
  t.same(replyDetail.folders.map((f: { path: string }) => f.path).sort(), ['INBOX', 'Sent'], 'one message, two folders');
  const thread = (await s.request('GET', `/api/threads/${threadId}`)).json();
  t.same(thread.items.map((m: { id: string }) => m.id), [first.id, reply.id], 'oldest first');
  t.equal(thread.items[0].text, 'First');
  t.equal((await s.request('GET', `/api/threads/${randomUUID()}`)).statusCode, 404);
});

const HOSTILE = `<html><head><title>x</title><style>body{background:url(https://evil.example/css)}</style><script>alert('head')</script><base href="https://evil.example/"><meta http-equiv="refresh" content="0;url=javascript:alert(1)"></head>
<body><p onclick="alert(1)">Hello <b>client</b></p><SCRIPT SRC="https://evil.example/x.js"></SCRIPT><scr<script>ipt>alert(2)</scr</script>ipt>
<img src="x" onerror="alert(3)"><img src="https://tracker.example/pixel.gif" width="1"><img src="cid:logo@firm">
<a href="javascript:alert(4)">click</a> <a href="https://ok.example/path">link</a> <a href=" JaVaScRiPt:alert(5)">x</a>
<svg onload="alert(6)"><script>alert(7)</script></svg><iframe src="https://evil.example"></iframe><form action="https://evil.example"><input name=p></form>
<math><mtext><table><mglyph><style><img src=x onerror=alert(8)></style></mglyph></table></mtext></math>
<div style="position:fixed;top:0;background:url(javascript:alert(9))">overlay</div></body></html>`;

t.test('a hostile message comes out with no script, handlers or javascript: URLs; remote images wait for ?images=1', async (t) => {
  const s = await userSession(ta);
  const box = await createTestAccount(db, s.user, { visibility: 'private' });
  const m = await createTestMessage(db, blobs, {
    html: HOSTILE, text: 'Hello client', locations: [{ mailbox: box.inbox }],
    attachments: [{ filename: 'logo.png', contentType: 'image/png', content: Buffer.from('89504e470d0a1a0a', 'hex'), inline: true, contentId: '<logo@firm>' }],
  });
  const detail = (await s.request('GET', `/api/messages/${m.id}`)).json();
  const html: string = detail.html;
  t.ok(html.includes('Hello <b>client</b>'), 'the real content survives');
  t.notMatch(html, /<script/i, 'no script element');
  t.notMatch(html, /\son[a-z]+\s*=/i, 'no event handler attribute');
  t.notMatch(html, /javascript:/i, 'no javascript: URL');
  t.notMatch(html, /<(iframe|form|svg|math|base|meta|style|input)\b/i, 'no frames, forms, svg, base, meta or style');
  t.notMatch(html, /tracker\.example/, 'remote image blocked by default');
  t.equal(detail.blockedImages, 1, 'and counted for the UI');
  const logo = detail.attachments.find((a: { filename: string }) => a.filename === 'logo.png');
  t.ok(html.includes(`/api/attachments/${logo.id}?inline=1`), 'cid: image points at our attachment URL');
  t.equal(logo.inline, true);
  const withImages = (await s.request('GET', `/api/messages/${m.id}?images=1`)).json();
  t.match(withImages.html, /src="https:\/\/tracker\.example\/pixel\.gif"/, 'images=1 loads remote images');
  t.equal(withImages.blockedImages, 0);

  const body = await s.request('GET', `/api/messages/${m.id}/body`);
  t.equal(body.statusCode, 200);
  t.equal(body.headers['content-type'], 'text/html; charset=utf-8');
  t.equal(body.headers['content-security-policy'], "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'");
  t.equal(body.headers['x-content-type-options'], 'nosniff');
  t.match(body.body, /^<!doctype html><html><head><meta charset="utf-8">/);
  t.notMatch(body.body, /<script|javascript:|tracker\.example/i);
  const bodyImages = await s.request('GET', `/api/messages/${m.id}/body?images=1`);
  t.match(bodyImages.headers['content-security-policy'], /img-src 'self' https: http:;/);
  t.match(bodyImages.body, /tracker\.example/);

  const plain = await createTestMessage(db, blobs, { text: 'a <b>not bold</b> & "quoted"', locations: [{ mailbox: box.inbox }] });
  const plainBody = await s.request('GET', `/api/messages/${plain.id}/body`);
  t.ok(plainBody.body.includes('a &lt;b&gt;not bold&lt;/b&gt; &amp; &quot;quoted&quot;'), 'plain text is escaped, never rendered as markup');
});

t.test('downloads: attachment disposition with RFC 6266 names, nosniff, sandbox CSP, exact length; inline only for PDF and raster images', async (t) => {
  const s = await userSession(ta);
  const box = await createTestAccount(db, s.user, { visibility: 'private' });
  const pdf = Buffer.from('%PDF-1.4\n% informe\n');
  const m = await createTestMessage(db, blobs, {
    subject: 'Informe año', locations: [{ mailbox: box.inbox }],
    attachments: [
      { filename: 'Informe año 2025.pdf', contentType: 'application/pdf', content: pdf },
      { filename: 'evil.svg', contentType: 'image/svg+xml', content: '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>' },
      { filename: 'page.html', contentType: 'text/html; charset=utf-8', content: '<script>alert(1)</script>' },
      { filename: 'weird.bin', contentType: 'text/html\r\nSet-Cookie: x=1', content: 'x' },
    ],
  });
  const detail = (await s.request('GET', `/api/messages/${m.id}`)).json();
  const [pdfA, svgA, htmlA, weirdA] = detail.attachments;
  const res = await s.request('GET', `/api/attachments/${pdfA.id}`);
  t.equal(res.statusCode, 200);
  t.same(res.rawPayload, pdf, 'the exact bytes');
  t.equal(res.headers['content-length'], String(pdf.length));
  t.equal(res.headers['content-type'], 'application/pdf');
  t.equal(res.headers['content-disposition'], `attachment; filename="Informe a?o 2025.pdf"; filename*=UTF-8''Informe%20a%C3%B1o%202025.pdf`);
  t.equal(res.headers['x-content-type-options'], 'nosniff');
  t.equal(res.headers['content-security-policy'], "default-src 'none'; sandbox");
  t.match((await s.request('GET', `/api/attachments/${pdfA.id}?inline=1`)).headers['content-disposition'], /^inline;/, 'PDF preview inline');
  for (const a of [svgA, htmlA]) {
    const r = await s.request('GET', `/api/attachments/${a.id}?inline=1`);
    t.match(r.headers['content-disposition'], /^attachment;/, `${a.filename} is never inline`);
    t.equal(r.headers['content-security-policy'], "default-src 'none'; sandbox");
  }
  t.equal((await s.request('GET', `/api/attachments/${htmlA.id}`)).headers['content-type'], 'text/html', 'parameters dropped');
  const weird = await s.request('GET', `/api/attachments/${weirdA.id}`);
  t.equal(weird.headers['content-type'], 'application/octet-stream', 'a malformed declared type is not echoed');
  t.notOk(weird.headers['set-cookie']);
  const raw = await s.request('GET', `/api/messages/${m.id}/raw`);
  t.equal(raw.statusCode, 200);
  t.equal(raw.headers['content-type'], 'message/rfc822');
  t.match(raw.headers['content-disposition'], /^attachment; filename=.*filename\*=UTF-8''Informe%20a%C3%B1o\.eml$/);
  t.equal(raw.headers['content-length'], String(raw.rawPayload.length));
  t.match(raw.body, /^Message-ID: </);
  t.equal((await s.request('GET', `/api/attachments/${randomUUID()}`)).statusCode, 404);
});

t.test('filing by hand: 201 then idempotent 200, audit events, unfile from one client keeps the other', async (t) => {
  const s = await userSession(ta);
  const box = await createTestAccount(db, s.user, { visibility: 'private' });
  const a = await createTestClient(db);
  const b = await createTestClient(db);
  const m = await createTestMessage(db, blobs, { locations: [{ mailbox: box.inbox }] });
  const first = await s.request('POST', `/api/messages/${m.id}/clients`, { clientId: a.id });
  t.equal(first.statusCode, 201);
  t.same(first.json().clients, [{ id: a.id, name: a.name }]);
  t.equal((await s.request('POST', `/api/messages/${m.id}/clients`, { clientId: a.id })).statusCode, 200, 'filing twice changes nothing');
  t.equal((await s.request('POST', `/api/messages/${m.id}/clients`, { clientId: b.id })).statusCode, 201);
  const log = (await s.request('GET', `/api/clients/${a.id}/communications`)).json();
  t.equal(log.items.length, 1);
  t.match(log.items[0], { kind: 'email', messageId: m.id, subject: m.subject, filedBy: 'manual', initiatedBy: 'firm', author: { id: s.user.id } });
  t.equal((await s.request('DELETE', `/api/messages/${m.id}/clients/${a.id}`)).statusCode, 204);
  t.same((await s.request('GET', `/api/messages/${m.id}`)).json().clients, [{ id: b.id, name: b.name }], 'still filed to the other client');
  t.equal((await s.request('DELETE', `/api/messages/${m.id}/clients/${a.id}`)).statusCode, 404, 'nothing left to unfile');
  t.equal((await s.request('POST', `/api/messages/${m.id}/clients`, { clientId: randomUUID() })).statusCode, 404, 'unknown client');
  const audit = await db.em.fork().execute<{ action: string; client_id: string }[]>(
    `select action, client_id from audit_event where entity_id = ? order by at, action`, [m.id]);
  t.same(audit.map((e) => `${e.action}:${e.client_id === a.id ? 'a' : 'b'}`), ['message.file:a', 'message.file:b', 'message.unfile:a']);
});

const OUR_HEAD = '<!doctype html><html><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><base target="_blank">' +
  '<style>body{margin:0;padding:8px;font-family:system-ui,sans-serif;overflow-wrap:anywhere}img{max-width:100%;height:auto}' +
  'details.quote>summary{cursor:pointer;color:#555;font-size:.875em;margin:.5em 0}</style></head>';

t.test('hostile corpus mail stored through the real pipeline renders with no script, handlers or script URLs', async (t) => {
  const { readFile, readdir } = await import('node:fs/promises');
  const dir = new URL('../../../shared/corpus/hostile/', import.meta.url);
  const files = (await readdir(dir)).filter((f) => /^(html-|cid-hostile|nested-rfc822-hostile|content-type-lies|charset-abuse)/.test(f) && f.endsWith('.eml'));
  t.ok(files.length >= 12, `${files.length} hostile HTML messages`);
  const s = await userSession(ta);
  const box = await createTestAccount(db, s.user, { visibility: 'private' });
  for (const file of files) {
    const message = await createTestMessageFromSource(db, blobs, box.inbox, await readFile(new URL(file, dir)), { blobs, maxAttachmentBytes: ta.config.maxAttachmentBytes });
    for (const images of ['', '?images=1']) {
      const res = await s.request('GET', `/api/messages/${message.id}${images}`);
      t.equal(res.statusCode, 200, `${file}${images} opens`);
      const html: string = res.json().html ?? '';
      const doc = (await s.request('GET', `/api/messages/${message.id}/body${images}`)).body;
      // The document's own head (charset, base target, style) is ours; the mail is what follows <body>.
      t.equal(doc.slice(0, doc.indexOf('<body>')), OUR_HEAD, `${file}: the head is ours alone`);
      const body = doc.slice(doc.indexOf('<body>'));
      for (const [what, out] of [['html', html], ['body', body]] as const) {
        // Text that merely looks like markup is escaped (&lt;), so any "<" left opens a real element.
        t.notMatch(out, /<\s*\/?\s*(script|iframe|object|embed|svg|math|form|base|meta|link|style|frame|portal|template)\b/i, `${file}${images} ${what}: no dangerous element`);
        t.notMatch(out, /<[^>]*\son[a-z]+\s*=/i, `${file}${images} ${what}: no event handler`);
        t.notMatch(out, /<[^>]*\s(href|src|action|formaction|xlink:href)\s*=\s*["']?\s*(javascript|vbscript|data):/i, `${file}${images} ${what}: no script or data URL`);
      }
      if (!images) t.notMatch(html, /<img[^>]*\ssrc\s*=\s*["']?https?:/i, `${file}: no remote image without ?images=1`);
    }
  }
});
