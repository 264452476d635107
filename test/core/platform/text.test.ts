// Text cleaning guards two things users rely on: mail with odd bytes is stored instead of failing the
// batch (PostgreSQL rejects U+0000), and a subject or name can never smuggle a second header line.
import t from 'tap';
import { cleanBodyText, cleanHeaderText, escapeHtml, toWellFormed } from '../../../src/core/platform/text.ts';

t.test('cleanHeaderText', async (t) => {
  const cases: Array<[string, string]> = [
    ['Invoice 42\r\nBcc: victim@example.net\r\nX-Injected: yes', 'Invoice 42 Bcc: victim@example.net X-Injected: yes'],
    ['NUL\u0000in subject', 'NULin subject'],
    ['tab\there', 'tab here'],
    ['  many    spaces  ', 'many spaces'],
    ['bare\rcr', 'bare cr'],
    ['\u202eelpmaxe', 'elpmaxe'],
    ['a\u2066b\u2069c', 'abc'],
    ['esc\u001b[31mred', 'esc[31mred'],
    ['c1\u0085nel', 'c1 nel'],
    ['ls\u2028ps\u2029end', 'ls ps end'],
    ['lone \ud800 surrogate', 'lone \ufffd surrogate'],
    ['שלום עולם', 'שלום עולם'],
    ['日本語', '日本語'],
  ];
  // Names escape everything outside printable ASCII: a raw U+2028 in a test name breaks the TAP stream.
  const label = (raw: string) => raw.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  for (const [raw, want] of cases) t.equal(cleanHeaderText(raw), want, label(raw));
});

t.test('cleanBodyText', async (t) => {
  t.equal(cleanBodyText('a\u0000b'), 'ab', 'NUL removed');
  t.equal(cleanBodyText('line1\r\nline2\n\tindent\fpage'), 'line1\r\nline2\n\tindent\fpage', 'line structure kept');
  t.equal(cleanBodyText('esc\u001b$B'), 'esc$B', 'ESC removed');
  t.equal(cleanBodyText('x\udc00y'), 'x\ufffdy', 'lone low surrogate');
  t.equal(cleanBodyText('👍'), '👍', 'pairs kept');
  t.equal(toWellFormed('\ud83d'), '\ufffd');
});

t.test('escapeHtml: text stays text in character data and in quoted attributes', async (t) => {
  t.equal(escapeHtml(`<script>alert("x")</script>`), '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
  t.equal(escapeHtml(`' onmouseover='x`), '&#39; onmouseover=&#39;x', 'single quotes, for single-quoted attributes');
  t.equal(escapeHtml('&lt; is already escaped'), '&amp;lt; is already escaped', 'ampersands first, so nothing is unescaped twice');
  t.equal(escapeHtml('plain text, ñ 日本'), 'plain text, ñ 日本');
});
