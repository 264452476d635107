// Attachment names come from strangers: these rows are the names the hostile corpus's attachment-*.eml
// files decode to, and what a user downloading or seeing them must get instead.
import t from 'tap';
import { MAX_FILENAME_BYTES, sanitizeFilename } from '../../../src/core/platform/filenames.ts';

t.test('traversal and absolute paths keep only the file name', async (t) => {
  const cases: Array<[string, string]> = [
    ['../../../../../../tmp/pwned.txt', 'pwned.txt'],
    ['..\\..\\..\\Windows\\win.ini', 'win.ini'],
    ['......evil.bat', 'evil.bat'],
    ['....//....//....//etc/passwd', 'passwd'],
    ['..%2f..%2fsecret.txt', '%2f..%2fsecret.txt'], // no separator left; leading dots dropped
    ['subdir/../../escape.txt', 'escape.txt'],
    ['‥/nfkc-two-dot-leader.txt', 'nfkc-two-dot-leader.txt'],
    ['．．／fullwidth-dot-dot-slash.txt', 'fullwidth-dot-dot-slash.txt'],
    ['a\u2215b\u2044c.txt', 'c.txt'],
    ['/etc/passwd', 'passwd'],
    ['/proc/self/environ', 'environ'],
    ['C:\\Windows\\System32\\drivers\\etc\\hosts', 'hosts'],
    ['\\\\attacker.example\\share\\payload.exe', 'payload.exe'],
    ['\\\\?\\C:\\evil.txt', 'evil.txt'],
    ['D:evil.txt', 'D_evil.txt'],
    ['~/.ssh/authorized_keys', 'authorized_keys'],
    ['file:///etc/shadow', 'shadow'],
    ['/home/app/.env', 'env'],
  ];
  for (const [raw, want] of cases) t.equal(sanitizeFilename(raw), want, JSON.stringify(raw));
  for (const raw of ['..', '.', '/', '\\', '../..', ' . . ']) t.equal(sanitizeFilename(raw, 'attachment.txt'), 'attachment.txt', `${JSON.stringify(raw)} -> fallback`);
});

t.test('control, bidi and invisible characters are removed', async (t) => {
  const cases: Array<[string, string]> = [
    ['invoice.pdf\u0000.exe', 'invoice.pdf.exe'],
    ['line1\r\nContent-Type: text/html\r\n\r\n<script>alert(1)</script>.txt', 'script_.txt'], // the "/" of </script> ends a path component
    ['\u001b[31mred\u001b[0m\u001b]0;title\u0007.txt', '[31mred[0m]0;title.txt'],
    ['tab\there.txt', 'tabhere.txt'],
    ['bare\rcr.txt', 'barecr.txt'],
    ['invoice\u202efdp.exe', 'invoicefdp.exe'],
    ['photo\u202egpj.scr', 'photogpj.scr'],
    ['inv\u200boice\u200d.pdf.exe', 'invoice.pdf.exe'],
    ['\u2067statement\u2069\u2066.exe\u2069.pdf', 'statement.exe.pdf'],
    ['\ufeffbom.txt', 'bom.txt'],
    ['\u0085nel.txt', 'nel.txt'],
    ['\ud800lone.txt', '\ufffdlone.txt'],
  ];
  for (const [raw, want] of cases) t.equal(sanitizeFilename(raw), want, JSON.stringify(raw));
  t.equal(sanitizeFilename('résumé.pdf'.normalize('NFD')), 'résumé.pdf'.normalize('NFC'), 'NFC');
  t.equal(sanitizeFilename('іnvoice.pdf'), 'іnvoice.pdf', 'a homoglyph is a legitimate character (shown as is)');
});

t.test('Windows reserved names, forbidden characters, trailing dots and spaces', async (t) => {
  const cases: Array<[string, string]> = [
    ['CON', '_CON'],
    ['PRN.txt', '_PRN.txt'],
    ['aux.pdf', '_aux.pdf'],
    ['COM1.doc', '_COM1.doc'],
    ['lpt9', '_lpt9'],
    ['NUL.', '_NUL'],
    ['CONSOLE.txt', 'CONSOLE.txt'],
    ['invoice.pdf. . .', 'invoice.pdf'],
    ['invoice.pdf      ', 'invoice.pdf'],
    ['invoice.pdf::$DATA', 'invoice.pdf__$DATA'],
    ['a<b>c"d|e?f*g.txt', 'a_b_c_d_e_f_g.txt'],
    ['.htaccess', 'htaccess'],
    ['index.php', 'index.php'],
    ['invoice.pdf' + ' '.repeat(60) + '.exe', 'invoice.pdf .exe'],
    ['invoice.pdf.exe', 'invoice.pdf.exe'],
    ["'); DROP TABLE attachments;--.txt", "'); DROP TABLE attachments;--.txt"],
    ['=cmd|\' /C calc\'!A0.csv', "C calc'!A0.csv"],
    ['=cmd|calc!A0.csv', '=cmd_calc!A0.csv'], // CSV-formula escaping belongs to the CSV writer, not here
    ['-rf --help.txt', '-rf --help.txt'],
  ];
  for (const [raw, want] of cases) t.equal(sanitizeFilename(raw), want, JSON.stringify(raw));
});

t.test('never empty', async (t) => {
  t.equal(sanitizeFilename(undefined), 'attachment');
  t.equal(sanitizeFilename(null, 'image.png'), 'image.png');
  t.equal(sanitizeFilename('', 'part-2.bin'), 'part-2.bin');
  t.equal(sanitizeFilename('   ', 'x.txt'), 'x.txt');
  t.equal(sanitizeFilename('\u202e\u200b', ''), 'attachment', 'fallback that cleans to nothing');
  t.equal(sanitizeFilename('..', '../../evil'), 'evil', 'the fallback is cleaned as well');
});

t.test('length is capped in UTF-8 bytes, keeping the extension and whole characters', async (t) => {
  const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
  const ascii = sanitizeFilename('A'.repeat(1000) + '.pdf');
  t.ok(bytes(ascii) <= MAX_FILENAME_BYTES, 'ascii within the cap');
  t.ok(ascii.endsWith('.pdf') && ascii.startsWith('AAAA'), 'extension kept');
  const cjk = sanitizeFilename('日'.repeat(300) + '.txt');
  t.ok(bytes(cjk) <= MAX_FILENAME_BYTES, 'CJK within the cap');
  t.match(cjk, /^日+\.txt$/u, 'no character cut in half');
  const accents = sanitizeFilename('e\u0301'.repeat(400) + '.docx');
  t.match(accents, /^é+\.docx$/u, 'NFC first, then cut');
  const emoji = sanitizeFilename('👍🏽'.repeat(100) + '.png');
  t.ok(bytes(emoji) <= MAX_FILENAME_BYTES);
  t.match(emoji, /^(?:👍🏽)+\.png$/u, 'grapheme clusters kept whole');
  const noExt = sanitizeFilename('x'.repeat(500));
  t.equal(bytes(noExt), MAX_FILENAME_BYTES);
  const longExt = sanitizeFilename('a'.repeat(300) + '.' + 'b'.repeat(100));
  t.ok(bytes(longExt) <= MAX_FILENAME_BYTES, 'an over-long "extension" is just part of the name');
});

t.test('idempotent', async (t) => {
  for (const raw of ['../../x.txt', 'CON', 'a'.repeat(400) + '.pdf', 'invoice.pdf. . .', '\u202eabc.exe', 'D:evil.txt']) {
    const once = sanitizeFilename(raw);
    t.equal(sanitizeFilename(once), once, JSON.stringify(raw));
  }
});
