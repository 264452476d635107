// parseMessage decides who a message is from (and so which client it is filed under), what its
// thread and date are, and that attachments reach the blob store intact and streamed. Hostile corpus
// files are read from ../shared; large cases are generated here, in memory, with the same shapes.
import t from 'tap';
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdtemp, rm, rename, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { toWellFormed } from '../../src/core/platform/text.ts';
import { parseHeaders, parseMessage, type BlobWriter } from '../../src/sync/parse-message.ts';
import { messageSearchVector } from '../../src/core/mail/search-terms.ts';

const HOSTILE = path.resolve(import.meta.dirname, '../../../shared/corpus/hostile');
const hostile = (name: string) => readFileSync(path.join(HOSTILE, name));
const crlf = (lines: string[]) => Buffer.from(lines.join('\r\n'), 'utf8');
/** Every string anywhere in a value (for checks that must hold for every stored text field). */
const stringsOf = (v: unknown): string[] =>
  typeof v === 'string' ? [v] : Array.isArray(v) ? v.flatMap(stringsOf) : v !== null && typeof v === 'object' && !(v instanceof Date) ? Object.values(v).flatMap(stringsOf) : [];

/** A content-addressed temp-dir writer: what the real blob store does, minus the database. */
async function tempBlobWriter(t: { teardown: (fn: () => unknown) => void }) {
  const dir = await mkdtemp(path.join(tmpdir(), 'dossier-parse-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const calls: Array<{ filename: string; contentType: string; sha256: string; size: number; firstChunkAt: number }> = [];
  const write: BlobWriter = async (content, info) => {
    const hash = createHash('sha256');
    let size = 0;
    let firstChunkAt = 0;
    const tmp = path.join(dir, `tmp-${randomUUID()}`);
    await pipeline(
      content,
      new Transform({
        transform(chunk: Buffer, _e, cb) {
          if (size === 0) firstChunkAt = performance.now();
          hash.update(chunk);
          size += chunk.length;
          cb(null, chunk);
        },
      }),
      createWriteStream(tmp),
    );
    const sha256 = hash.digest('hex');
    await mkdir(path.join(dir, 'blobs'), { recursive: true });
    await rename(tmp, path.join(dir, 'blobs', sha256));
    calls.push({ ...info, sha256, size, firstChunkAt });
    return { sha256, size };
  };
  return { dir, write, calls };
}

t.test('sender attribution: the addr-spec of the first From field, never a display name', async (t) => {
  const rows: Array<[string, string, string]> = [
    ['from-duplicate-header.eml', 'alice@client.example', 'first of two From fields (the second is the attacker)'],
    ['from-multiple-addresses.eml', 'alice@client.example', 'first mailbox of a multi-mailbox From'],
    ['from-spoof-display-name.eml', 'attacker@evil.example', 'address-looking display name ignored'],
    ['from-spoof-encoded-display-name.eml', 'alice@evil.example', 'encoded-word display name decoded but never re-parsed'],
    ['from-idn-homoglyph.eml', 'service@xn--pypal-4ve.example', 'Cyrillic look-alike domain stays distinguishable'],
    ['header-injection-from.eml', 'support@client.example', 'CRLF in the display name'],
  ];
  for (const [file, address, why] of rows) {
    const m = await parseMessage(hostile(file));
    t.equal(m.from?.address, address, `${file}: ${why}`);
    t.equal(m.parseStatus, 'ok', file);
  }
  const spoof = await parseMessage(hostile('from-spoof-display-name.eml'));
  t.same(spoof.from, { address: 'attacker@evil.example', name: 'ceo@yourcompany.example' }, 'the name is kept apart for display');
  t.same(spoof.sender, { address: 'bulk@evil.example', name: 'security@bank.example' });
  t.same(spoof.replyTo, [{ address: 'ap@evil.example', name: 'Accounts Payable <ap@client.example>' }]);
  const encoded = await parseMessage(hostile('from-spoof-encoded-display-name.eml'));
  t.same(encoded.cc.map((a) => a.address), ['bob@evil.example']);
  const multi = await parseMessage(hostile('from-multiple-addresses.eml'));
  t.same(multi.to.map((a) => a.address), ['alice@client.example', 'mallory@evil.example'], 'group members flattened, empty group dropped');
});

t.test('address-matching-edge-cases.eml: every recipient normalised, none taken from a name', async (t) => {
  const m = await parseMessage(hostile('address-matching-edge-cases.eml'));
  t.same(m.from, { address: 'alice.client@client.example', name: 'Alice Client' });
  t.same(
    m.to.map((a) => a.address),
    [
      'alice.client@client.example', // plain, quoted, trailing-dot, comments, escaped-quote name, encoded-word local part all collapse here
      'alice.client+invoices@client.example',
      'alice.client@[192.0.2.10]',
      'aliceclient@client.example',
      'alice.client@xn--clent-dta.example',
      'alice.client@xn--clent-zsa.example',
      'ålice@client.example',
      'bob@client.example', // "alice.client@client.example" <bob@client.example>
      'alice.client@client', // obsolete "alice.client @ client . example": the header parser stops at the first dot
    ],
  );
  t.equal(m.to.find((a) => a.address === 'bob@client.example')?.name, 'alice.client@client.example');
  t.same(m.cc.map((a) => a.address), ['bob@client.example', 'carol@client.example', 'dave@client.example', 'erin@client.example'], 'groups flattened, source route dropped, <> and @ dropped');
  t.same(m.bcc, [{ address: 'owner@yourcompany.example', name: '' }]);
});

t.test('single-line header text: no CR/LF, controls or bidi overrides', async (t) => {
  const subj = await parseMessage(hostile('header-injection-subject.eml'));
  t.equal(subj.subject, 'Invoice 42 Bcc: victim@example.net X-Injected: yes');
  t.same(subj.references, ['orig@client.example'], 'the encoded-word in References is not an id');
  const from = await parseMessage(hostile('header-injection-from.eml'));
  t.equal(from.from?.name, 'Support Bcc: everyone@example.net');
  t.equal(from.replyTo[0]?.name, 'Accounts Bcc: reply-injection@example.net X-Injected: 1');
  const idn = await parseMessage(hostile('from-idn-homoglyph.eml'));
  t.same(idn.cc.map((a) => a.name), ['<script>alert(1)</script>', 'elpmaxe'], 'markup kept as text (escaped on output), RLO removed');
  const enc = await parseMessage(hostile('encoded-word-abuse.eml'));
  t.match(enc.subject, /^=\?UTF-8\?B\?PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\?=/, 'an encoded-word inside an encoded-word is decoded once only');
  t.notMatch(enc.subject, /<script>/);
});

t.test('ids and dates', async (t) => {
  const ids = await parseMessage(hostile('message-id-hostile.eml'));
  t.equal(ids.messageIdHeader, null, 'the first Message-ID is garbage; the second field is not promoted');
  t.equal(ids.inReplyTo, null, '4,000-character id rejected');
  t.same(ids.references, ['a@hostile.example', 'c@hostile.example']);
  const a = await parseMessage(hostile('duplicate-message-id-a.eml'));
  const b = await parseMessage(hostile('duplicate-message-id-b.eml'));
  t.equal(a.messageIdHeader, 'duplicate-id-0001@hostile.example');
  t.equal(b.messageIdHeader, a.messageIdHeader, 'two different messages may share an id: dedupe must hash content too');
  t.not(a.text, b.text);
  for (const file of ['date-impossible.eml', 'date-out-of-range.eml', 'no-message-id-no-date.eml']) {
    const m = await parseMessage(hostile(file));
    t.equal(m.date, null, `${file}: no date, so INTERNALDATE is used`);
    t.equal(m.parseStatus, 'ok', `${file}: a bad date is not a parse failure`);
  }
  t.equal((await parseMessage(hostile('no-message-id-no-date.eml'))).messageIdHeader, null);
  const refs = Array.from({ length: 10000 }, (_, i) => `<ref-${i}@hostile.example>`).join(' ');
  const long = await parseMessage(crlf(['From: a@b.example', `References: ${refs}`, 'In-Reply-To: <ref-9999@hostile.example>', 'Subject: r', '', 'x']));
  t.equal(long.references.length, 50, 'References capped');
  t.equal(long.references[0], 'ref-0@hostile.example', 'root kept');
  t.equal(long.references[49], 'ref-9999@hostile.example', 'parent kept');
  t.equal(long.inReplyTo, 'ref-9999@hostile.example');
});

t.test('bytes PostgreSQL rejects and charsets', async (t) => {
  const nul = await parseMessage(hostile('nul-bytes.eml'));
  t.notOk(stringsOf(nul).some((s) => s.includes('\u0000')), 'no NUL in any field');
  t.equal(nul.subject, 'NULin subject');
  const bad = await parseMessage(hostile('invalid-utf8.eml'));
  t.match(bad.subject, /\ufffd/, 'invalid sequences become U+FFFD');
  t.ok(stringsOf(bad).every((s) => s === toWellFormed(s)), 'no lone surrogates');
  const utf7 = await parseMessage(hostile('html-utf7.eml'));
  t.equal(utf7.subject, '+ADw-script+AD4-alert(1)+ADw-/script+AD4-', 'UTF-7 encoded words in header fields stay literal (mailparser refuses them)');
  t.equal(utf7.text.trim(), "<script>alert('plain')</script>", 'a UTF-7 text body is decoded: markup in it is text, shown as text');
  t.match(utf7.html ?? '', /<script>alert\(document\.domain\)<\/script>/, 'HTML is kept as received (decoded) for the sanitiser to see');
  const jis = await parseMessage(hostile('html-iso2022jp-differential.eml'));
  t.notOk((jis.html ?? '').includes('\u001b'), 'ESC bytes removed: no escape sequence is left for a browser to reinterpret');
  t.match(jis.html ?? '', /<img src=x onerror=alert\(1\)>/, 'the ISO-2022-JP part is decoded before sanitising, as a browser would see it');
  const abuse = await parseMessage(hostile('charset-abuse.eml'));
  t.equal(abuse.parseStatus, 'ok');
  t.match(abuse.text, /=\?UTF-8\?B\?PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\?= must stay literal/, 'a QP body that decodes to an encoded-word is not decoded again');
});

t.test('UTF-7 bodies (RFC 2152) are decoded like any other charset, for display and search', async (t) => {
  const m = await parseMessage(crlf([
    'From: Ana <ana@client.example>', 'To: firm@firm.example', 'Subject: utf7', 'MIME-Version: 1.0',
    'Content-Type: multipart/alternative; boundary="b"', '',
    '--b', 'Content-Type: text/plain; charset=utf-7', '',
    // "Declaración de la renta ☺ +1" (RFC 2152: "+-" is a literal plus, "-" ends a shifted run)
    'Declaraci+APM-n de la renta +Jjo- +-1', '',
    '--b', 'Content-Type: text/html; charset="UNICODE-1-1-UTF-7"', 'Content-Transfer-Encoding: base64', '',
    Buffer.from('<p>Hi Mom -+Jjo--!</p>+ADw-script+AD4-x+ADw-/script+AD4-').toString('base64'), '',
    '--b--', '',
  ]));
  t.equal(m.parseStatus, 'ok');
  t.equal(m.text.trim(), 'Declaración de la renta ☺ +1');
  t.equal(m.html?.trim(), '<p>Hi Mom -☺-!</p><script>x</script>', 'HTML decoded before it is stored: the sanitiser sees the real markup');
  const vector = messageSearchVector({ subject: m.subject, fromName: m.from?.name ?? null, fromAddress: m.from?.address ?? null, text: m.text });
  t.match(vector, /'declaracion'/, 'searchable by the decoded words (unaccented)');
  t.notMatch(vector, /apm/, 'not by the UTF-7 base64 run');
});

t.test('nested messages stay attachments; their HTML never joins ours', async (t) => {
  const m = await parseMessage(hostile('nested-rfc822-hostile.eml'));
  t.same(m.attachments.map((a) => [a.contentType, a.filename]), [['message/rfc822', 'message-1.eml'], ['message/rfc822', 'attached.eml']]);
  t.notMatch(m.html ?? '', /inside message\/rfc822|alert\('inner'\)/);
  t.notMatch(m.text, /inner/i);
});

t.test('attachment names are sanitised; inline parts recognised', async (t) => {
  for (const file of ['attachment-path-traversal.eml', 'attachment-absolute-paths.eml', 'attachment-control-chars.eml', 'attachment-rtl-override.eml', 'attachment-reserved-and-colliding-names.eml', 'attachment-long-names.eml', 'attachment-name-injection.eml']) {
    const m = await parseMessage(hostile(file));
    t.ok(m.attachments.length > 0, `${file} has attachments`);
    for (const a of m.attachments) {
      // eslint-disable-next-line no-control-regex -- control characters are what must be absent
      t.notMatch(a.filename, /[/\\\u0000-\u001f\u202a-\u202e\u2066-\u2069\u200b-\u200f]/u, `${file}: ${JSON.stringify(a.filename)}`);
      t.ok(a.filename.length > 0 && Buffer.byteLength(a.filename) <= 200);
      t.notMatch(a.filename, /^\.|[. ]$/u);
    }
  }
  const traversal = await parseMessage(hostile('attachment-path-traversal.eml'));
  t.equal(traversal.attachments[0]?.filename, 'pwned.txt');
  const reserved = await parseMessage(hostile('attachment-reserved-and-colliding-names.eml'));
  t.same(reserved.attachments.slice(0, 5).map((a) => a.filename), ['_CON', '_PRN.txt', '_aux.pdf', '_COM1.doc', '_NUL']);
  t.equal(reserved.attachments[7]?.filename, 'attachment-8.txt', 'nameless part gets a fallback from its type');
  const cid = await parseMessage(hostile('cid-hostile.eml'));
  const logo = cid.attachments.find((a) => a.contentId === 'shared-logo@client.example');
  t.ok(logo?.inline && logo.related, 'referenced by cid: in the HTML: inline');
  const lies = await parseMessage(hostile('content-type-lies.eml'));
  t.same(lies.attachments.map((a) => a.contentType), ['image/png', 'application/pdf', 'image/gif', 'text/plain', 'image/svg+xml', 'text/html', 'image/jpeg'], 'declared types reported as declared (never trusted for serving)');
  const cal = await parseMessage(hostile('calendar-hostile.eml'));
  t.ok(cal.attachments.some((a) => a.filename.endsWith('.ics')), 'calendar parts become .ics attachments');
});

t.test('headers of interest', async (t) => {
  const m = await parseMessage(hostile('list-unsubscribe-hostile.eml'));
  t.same(m.headers, { listId: 'list.attacker.example', autoSubmitted: 'no', precedence: null }, 'the id is the last bracketed token, not the markup in the phrase');
  const auto = await parseMessage(crlf(['From: a@b.example', 'Auto-Submitted: Auto-Replied; owner-email="x@y"', 'Precedence: BULK', 'List-Id: Clients <clients.firm.example>', '', 'x']));
  t.same(auto.headers, { listId: 'clients.firm.example', autoSubmitted: 'auto-replied', precedence: 'bulk' });
});

t.test('attachments stream through the blob writer, hashed exactly', async (t) => {
  const blobs = await tempBlobWriter(t);
  const payload = Buffer.alloc(12 * 1024 * 1024);
  for (let i = 0; i < payload.length; i += 4096) payload.writeUInt32BE(i, i);
  const b64 = payload.toString('base64').replace(/.{76}/g, '$&\r\n');
  const head = crlf([
    'From: "Client" <client@client.example>', 'To: office@firm.example', 'Subject: Scan', 'Date: Tue, 03 Mar 2026 10:00:00 +0000',
    'Message-ID: <big@client.example>', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b"', '',
    '--b', 'Content-Type: text/plain; charset=utf-8', '', 'Please find the scan attached.', '--b',
    'Content-Type: application/pdf; name="scan.pdf"', 'Content-Disposition: attachment; filename="scan.pdf"', 'Content-Transfer-Encoding: base64', '', '',
  ]);
  const tail = Buffer.from('\r\n--b--\r\n');
  // Feed it as a stream in 64 KiB chunks and note when the source finishes: a streaming parser has
  // handed the writer its first bytes long before that.
  let sourceEndedAt = 0;
  const whole = Buffer.concat([head, Buffer.from(b64), tail]);
  async function* chunks() {
    for (let i = 0; i < whole.length; i += 65536) {
      yield whole.subarray(i, i + 65536);
      await new Promise((r) => setImmediate(r));
    }
    sourceEndedAt = performance.now();
  }
  const m = await parseMessage(Readable.from(chunks()), { writeBlob: blobs.write });
  t.equal(m.parseStatus, 'ok');
  t.equal(m.text.trim(), 'Please find the scan attached.');
  t.equal(m.attachments.length, 1);
  const [att] = m.attachments;
  const sha = createHash('sha256').update(payload).digest('hex');
  t.match(att, { filename: 'scan.pdf', contentType: 'application/pdf', size: payload.length, sha256: sha, stored: true, inline: false, disposition: 'attachment' });
  t.same(readFileSync(path.join(blobs.dir, 'blobs', sha)).equals(payload), true, 'the stored bytes are the decoded part');
  t.equal(blobs.calls.length, 1);
  t.ok(blobs.calls[0]!.firstChunkAt < sourceEndedAt, 'the writer got bytes before the message finished arriving');
});

t.test('I/O failures reject (the caller retries); bad input never does', async (t) => {
  const msg = crlf(['From: a@b.example', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b"', '', '--b', 'Content-Type: application/octet-stream; name="a.bin"', 'Content-Transfer-Encoding: base64', '', Buffer.alloc(300000, 7).toString('base64'), '--b--', '']);
  await t.rejects(parseMessage(msg, { writeBlob: async () => { throw new Error('disk full'); } }), /disk full/, 'writer failure');
  await t.rejects(
    parseMessage(msg, { writeBlob: async (content) => { content.resume(); return { sha256: 'f'.repeat(64), size: 1 }; } }),
    /blob writer stored 1 bytes/,
    'a writer whose hash disagrees with the parsed part',
  );
  const broken = new Readable({ read() {} });
  broken.push(msg.subarray(0, 100));
  setImmediate(() => broken.destroy(new Error('connection reset')));
  await t.rejects(parseMessage(broken), /connection reset/, 'source stream failure');
  for (const input of [Buffer.alloc(0), Buffer.from('\u0000\u0001\u00ff'), Buffer.from('\r\n\r\n'), Buffer.from('From:'), Buffer.from('--b--')]) {
    const m = await parseMessage(input);
    t.ok(['ok', 'partial', 'failed'].includes(m.parseStatus), `resolves for ${JSON.stringify(input.toString('latin1'))}: ${m.parseStatus}`);
  }
  t.equal((await parseMessage(Buffer.alloc(0))).parseStatus, 'failed');
  const headerless = await parseMessage(Buffer.from('This is a simple message not having headers.\r\nThe whole text is the body.\r\n'));
  t.match(headerless, { parseStatus: 'partial', text: /simple message not having headers/ }, 'a header-less message is taken as text (mime4j does the same)');
});

t.test('MIME bombs: failed, with header fields still read, quickly, and the stream drained', async (t) => {
  const header = ['From: "Gen" <gen@attacker.example>', 'To: office@firm.example', 'Date: Tue, 03 Mar 2026 10:00:00 +0000', 'Message-ID: <bomb@attacker.example>', 'MIME-Version: 1.0'];
  const manyParts = crlf([...header, 'Subject: many parts', 'Content-Type: multipart/mixed; boundary="b"', '', ...Array.from({ length: 1500 }, (_, i) => `--b\r\nContent-Type: text/plain; name="p${i}.txt"\r\nContent-Disposition: attachment\r\n\r\nx`), '--b--', '']);
  const hugeSubject = crlf([...header, `Subject: ${'A'.repeat(1024 * 1024 + 10)}`, 'Content-Type: text/plain', '', 'body']);
  const manyHeaders = crlf([...header.slice(0, 1), ...Array.from({ length: 60000 }, (_, i) => `X-Filler-${i}: ${'v'.repeat(20)}`), ...header.slice(1), 'Subject: many headers', '', 'body']);
  for (const [name, raw] of [['1,500 parts', manyParts], ['1 MiB Subject', hugeSubject], ['60,000 header fields', manyHeaders]] as const) {
    for (const mode of ['buffer', 'stream'] as const) {
      const start = performance.now();
      const source = mode === 'buffer' ? raw : Readable.from([raw.subarray(0, 500000), raw.subarray(500000)]);
      const m = await parseMessage(source);
      t.equal(m.parseStatus, 'failed', `${name} (${mode})`);
      t.match(m.parseError, /MIME structure could not be parsed/);
      t.same(m.from, { address: 'gen@attacker.example', name: 'Gen' }, `${name} (${mode}): still attributable`);
      t.equal(m.date?.toISOString(), '2026-03-03T10:00:00.000Z');
      t.equal(m.messageIdHeader, 'bomb@attacker.example');
      t.same(m.attachments, []);
      if (mode === 'stream') t.equal((source as Readable).readableEnded, true, 'the source was read to its end');
      t.ok(performance.now() - start < 3000, `${name} (${mode}) in ${Math.round(performance.now() - start)} ms`);
    }
  }
  const huge = await parseMessage(hugeSubject);
  t.ok(huge.subject.length <= 1000, 'subject capped');
  const deep = crlf([...header, 'Subject: deep', 'Content-Type: text/html', '', '<div>'.repeat(100000) + 'deep' + '</div>'.repeat(100000)]);
  const start = performance.now();
  const d = await parseMessage(deep);
  t.match(d, { parseStatus: 'partial', parseError: /HTML could not be converted to text/ });
  t.ok(performance.now() - start < 3000, `100,000 nested divs in ${Math.round(performance.now() - start)} ms`);
});

t.test('parseHeaders reads the same header fields as a full parse, from the header block alone', async (t) => {
  for (const file of ['address-matching-edge-cases.eml', 'from-duplicate-header.eml', 'message-id-hostile.eml', 'header-injection-subject.eml', 'list-unsubscribe-hostile.eml', 'invalid-utf8.eml', 'encoded-word-abuse.eml', 'nested-rfc822-hostile.eml']) {
    const raw = hostile(file);
    const full = await parseMessage(raw);
    const { text: _t, html: _h, attachments: _a, parseStatus: _s, parseError: _e, ...fromFull } = full;
    t.same(await parseHeaders(raw), fromFull, file);
    const blockEnd = raw.indexOf('\r\n\r\n');
    t.same(await parseHeaders(raw.subarray(0, blockEnd + 4)), fromFull, `${file}: header block only`);
  }
  t.same((await parseHeaders(Buffer.alloc(0))).from, null);
  t.same((await parseHeaders(Buffer.from('garbage'))).to, []);
});
