// Every message of the shared corpora goes through parseMessage and the sanitiser: none may throw,
// each must be storable as is (no NUL, well-formed UTF-16, single-line header text, normalised
// addresses, sane dates), and no sanitised HTML may keep anything a browser would execute or fetch.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { normalizeAddress } from '../../src/core/mail/addresses.ts';
import { sanitizeMailHtml } from '../../src/core/mail/html.ts';
import type { IncomingMessage } from '../../src/core/mail/incoming-message.ts';
import { toWellFormed } from '../../src/core/platform/text.ts';
import { parseHeaders, parseMessage } from '../../src/sync/parse-message.ts';

const CORPUS = path.resolve(import.meta.dirname, '../../../shared/corpus');
const listFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(path.join(dir, e.name)) : e.isFile() ? [path.join(dir, e.name)] : []));
const real = listFiles(path.join(CORPUS, 'real')).sort();
const hostile = listFiles(path.join(CORPUS, 'hostile')).filter((f) => f.endsWith('.eml')).sort();

const stringsOf = (v: unknown): string[] =>
  typeof v === 'string' ? [v] : Array.isArray(v) ? v.flatMap(stringsOf) : v !== null && typeof v === 'object' && !(v instanceof Date) ? Object.values(v).flatMap(stringsOf) : [];

/** The assertions the checks use (a subtest's t has them all). */
type Tap = Pick<typeof t, 'ok' | 'equal' | 'same' | 'match' | 'notMatch'>;

/** What must hold for any message before it is stored. */
function checkStorable(t: Tap, m: IncomingMessage, name: string) {
  t.ok(['ok', 'partial', 'failed'].includes(m.parseStatus), `${name}: status ${m.parseStatus}`);
  t.equal(m.parseError === null, m.parseStatus === 'ok', `${name}: a reason exactly when not ok`);
  const bad = stringsOf(m).filter((s) => s.includes('\u0000') || s !== toWellFormed(s));
  t.same(bad, [], `${name}: no NUL or lone surrogate in any field`);
  const oneLine = [m.subject, ...[m.from, m.sender, ...m.replyTo, ...m.to, ...m.cc, ...m.bcc].flatMap((a) => (a ? [a.name] : []))];
  // eslint-disable-next-line no-control-regex -- control characters are what must be absent
  t.same(oneLine.filter((s) => /[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]/u.test(s)), [], `${name}: header text is one clean line`);
  const addresses = [m.from, m.sender, ...m.replyTo, ...m.to, ...m.cc, ...m.bcc].flatMap((a) => (a ? [a.address] : []));
  t.same(addresses.filter((a) => normalizeAddress(a) !== a), [], `${name}: every address normalised`);
  t.ok(m.date === null || (m.date.getUTCFullYear() >= 1970 && m.date.getUTCFullYear() <= 9999), `${name}: date null or in range`);
  for (const id of [m.messageIdHeader, m.inReplyTo, ...m.references]) if (id !== null) t.ok(!/[\s<>]/u.test(id) && id.length <= 998, `${name}: id ${id.slice(0, 40)}`);
  for (const a of m.attachments) {
    t.ok(a.filename.length > 0 && !/[/\\]/u.test(a.filename), `${name}: attachment name ${JSON.stringify(a.filename)}`);
    t.match(a.sha256, /^[0-9a-f]{64}$/, `${name}: attachment hashed`);
  }
}

/**
 * Checks sanitised HTML. Text is entity-escaped by the sanitiser, so every "<" left starts a real
 * tag, and tags are what a browser acts on.
 */
function checkSafeHtml(t: Tap, html: string, name: string) {
  const tags = html.match(/<[^>]*>/gu) ?? [];
  const findings = tags.filter(
    (tag) =>
      /^<\/?(?:script|style|iframe|frame|frameset|object|embed|applet|form|input|button|textarea|select|base|meta|link|svg|math|portal|template|noscript|isindex)\b/iu.test(tag) ||
      /\son[a-z]+\s*=/iu.test(tag) ||
      /(?:java|vb)script:/iu.test(tag) ||
      /\bdata:/iu.test(tag) ||
      /\s(?:src|srcset|background|poster)\s*=\s*["']?\s*(?:https?:)?\/\//iu.test(tag) ||
      /url\s*\(|expression\s*\(|\\/iu.test(tag) ||
      /\s(?:id|name|class|formaction|action|ping|xlink:href)\s*=/iu.test(tag),
  );
  t.same(findings, [], `${name}: sanitised HTML has nothing executable, remote or clobbering`);
  t.notMatch(html, /<script/iu, `${name}: no <script`);
}

const cidUrl = (cid: string) => `/api/attachments/by-cid/${encodeURIComponent(cid)}`;

t.test('real corpus: every file parses to a storable message', async (t) => {
  t.equal(real.length, 399, 'all 399 real messages found');
  const statuses: Record<string, number> = {};
  for (const file of real) {
    const name = path.relative(CORPUS, file);
    const m = await parseMessage(readFileSync(file));
    statuses[m.parseStatus] = (statuses[m.parseStatus] ?? 0) + 1;
    checkStorable(t, m, name);
    if (m.html !== null) checkSafeHtml(t, sanitizeMailHtml(m.html, { allowRemoteImages: false, cidUrl }).html, name);
  }
  t.equal(statuses.failed ?? 0, 0, `no real message is a parse failure (${JSON.stringify(statuses)})`);
});

t.test('hostile corpus: every file parses to a storable message, its HTML sanitised', async (t) => {
  t.ok(hostile.length >= 44, `${hostile.length} hostile messages`);
  for (const file of hostile) {
    const name = path.basename(file);
    const raw = readFileSync(file);
    const m = await parseMessage(raw);
    checkStorable(t, m, name);
    t.not(m.parseStatus, 'failed', `${name}: parsed`);
    const { text: _t, html: _h, attachments: _a, parseStatus: _s, parseError: _e, ...headerFields } = m;
    t.same(await parseHeaders(raw), headerFields, `${name}: header-only parse agrees with the full parse`);
    if (m.html !== null) {
      for (const allowRemoteImages of [false, true]) {
        const out = sanitizeMailHtml(m.html, { allowRemoteImages, cidUrl });
        if (!allowRemoteImages) checkSafeHtml(t, out.html, name);
        const tags = out.html.match(/<[^>]*>/gu) ?? [];
        t.same(tags.filter((tag) => /^<\/?script|\son[a-z]+\s*=|(?:java|vb)script:|data:/iu.test(tag)), [], `${name} (remote images ${allowRemoteImages ? 'on' : 'off'})`);
      }
    } else {
      t.notOk(name.startsWith('html-'), `${name}: an html-* case has HTML to sanitise`);
    }
  }
});

t.test('what the hostile HTML cases are reduced to', async (t) => {
  const sanitized = async (file: string, allowRemoteImages = false) => {
    const m = await parseMessage(readFileSync(path.join(CORPUS, 'hostile', file)));
    return sanitizeMailHtml(m.html ?? '', { allowRemoteImages, cidUrl: (cid) => (m.attachments.some((a) => a.contentId === cid) ? cidUrl(cid) : null) });
  };
  const pixels = await sanitized('html-tracking-pixels.eml');
  t.equal(pixels.blockedRemote, 4, 'remote images blocked and counted');
  t.notMatch(pixels.html, /tracker\.example|169\.254|127\.0\.0\.1|localhost|file:|gopher:/u, 'no tracker, SSRF or local URL left');
  const shown = await sanitized('html-tracking-pixels.eml', true);
  t.match(shown.html, /src="https:\/\/tracker\.example\/open\.gif/u, 'remote images load when the user allows them');
  t.notMatch(shown.html, /169\.254|127\.0\.0\.1|localhost|\[::1\]|10\.0\.0\.1/u, 'never private or loopback hosts');
  const css = await sanitized('html-css.eml');
  t.same((css.html.match(/<[^>]*>/gu) ?? []).filter((tag) => /position|z-index|tracker\.example|expression|url/u.test(tag)), [], 'no overlay, beacon or expression survives in any tag');
  t.match(css.html, /<div>expression\(\)<\/div>/u, 'the text content itself is kept (escaped text is harmless)');
  const links = await sanitized('html-javascript-urls.eml');
  t.same((links.html.match(/href="[^"]*"/gu) ?? []), ['href="https://attacker.example/login"', 'href="https://attacker.example/"', 'href="https://xn--bnk-sna.example/"'], 'only real http(s) links, userinfo removed');
  const cid = await sanitized('cid-hostile.eml');
  t.same(
    cid.html.match(/src="[^"]*"/gu),
    [`src="${cidUrl('shared-logo@client.example')}"`, `src="${cidUrl('javascript:alert(1)')}"`],
    'only Content-IDs this message carries resolve, always to our own URL (even the one named "javascript:alert(1)")',
  );
  const forms = await sanitized('html-forms.eml');
  t.notMatch(forms.html, /<form|<input|<button|\/api\//u, 'no form and no same-origin action link');
  const base = await sanitized('html-base-href.eml');
  t.notMatch(base.html, /<base|attacker/u);
});
