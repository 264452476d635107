// The sanitiser is what stands between a stranger's HTML and a staff member's session: each row is
// an attack (or a legitimate formatting need) and what the reader must get. The whole hostile corpus
// runs through it in test/sync/parse-message-corpus.test.ts.
import t from 'tap';
import { exceedsNestingDepth, htmlToText, sanitizeMailHtml, type SanitizeOptions } from '../../../src/core/mail/html.ts';
import { collapseQuotedHtml } from '../../../src/core/mail/html-quotes.ts';

const cidUrl = (cid: string) => (cid === 'logo@x' ? `/api/attachments/att-1` : null);
const strict: SanitizeOptions = { allowRemoteImages: false, cidUrl };
const clean = (html: string, o: SanitizeOptions = strict) => sanitizeMailHtml(html, o).html;

t.test('scripts, handlers and executable URLs are removed', async (t) => {
  const rows: Array<[string, string]> = [
    ['<p>a</p><script>alert(1)</script>', '<p>a</p>'],
    ['<ScRiPt>alert(1)</sCrIpT>b', 'b'],
    ['<img src=x onerror=alert(1)>', ''],
    ['<p onclick="alert(1)" ONMOUSEOVER=x>t</p>', '<p>t</p>'],
    ['<a href="javascript:alert(1)">x</a>', '<a target="_blank" rel="noopener noreferrer">x</a>'],
    ['<a href="java&#x09;script:alert(1)">x</a>', '<a target="_blank" rel="noopener noreferrer">x</a>'],
    ['<a href="&#106;avascript:alert(1)">x</a>', '<a target="_blank" rel="noopener noreferrer">x</a>'],
    ['<a href="vbscript:x">x</a>', '<a target="_blank" rel="noopener noreferrer">x</a>'],
    ['<a href="data:text/html,<script>alert(1)</script>">x</a>', '<a target="_blank" rel="noopener noreferrer">x</a>'],
    ['<a href="//evil.example/">x</a>', '<a target="_blank" rel="noopener noreferrer">x</a>'],
    ['<a href="/\\evil.example/">x</a>', '<a target="_blank" rel="noopener noreferrer">x</a>'],
    ['<a href="/api/messages/1/delete">x</a>', '<a target="_blank" rel="noopener noreferrer">x</a>'],
    ['<iframe src="https://evil.example"></iframe>x', 'x'],
    ['<object data="x.swf">fallback</object><embed src="x">y', 'y'],
    ['<form action="https://evil.example"><input name=p><button>Go</button></form>', 'Go'],
    ['<base href="https://evil.example/"><meta http-equiv="refresh" content="0;url=https://evil.example"><link rel=stylesheet href="https://t.example/x.css">z', 'z'],
    ['<style>body{background:url(https://t.example/x)}</style>t', 't'],
    ['<svg onload="alert(1)"><script>alert(2)</script><text>s</text></svg>k', 'k'],
    ['<math><maction xlink:href="javascript:alert(1)">m</maction></math>k', 'k'],
    ['<title>Phish</title><noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>', ''],
    ['<template><script>alert(1)</script></template>ok', 'ok'],
  ];
  for (const [input, want] of rows) t.equal(clean(input), want, input);
});

t.test('links keep their destination, lose credentials, open safely', async (t) => {
  t.equal(clean('<a href="https://example.com/a?b=1#c">x</a>'), '<a href="https://example.com/a?b=1#c" target="_blank" rel="noopener noreferrer">x</a>');
  t.equal(clean('<a href="https://bank.example@attacker.example/login">x</a>'), '<a href="https://attacker.example/login" target="_blank" rel="noopener noreferrer">x</a>', 'userinfo removed: the real host shows');
  t.equal(clean('<a href="mailto:a@b.example?subject=hi">m</a>'), '<a href="mailto:a@b.example?subject=hi" target="_blank" rel="noopener noreferrer">m</a>');
  t.equal(clean('<a href="tel:+431234">t</a>'), '<a href="tel:+431234" target="_blank" rel="noopener noreferrer">t</a>');
  t.equal(clean('<a href="https://x.example" target="_top" rel="opener" ping="https://t.example">x</a>'), '<a href="https://x.example/" target="_blank" rel="noopener noreferrer">x</a>');
  t.equal(clean('<a href="cid:logo@x">logo</a>'), '<a href="/api/attachments/att-1" target="_blank" rel="noopener noreferrer">logo</a>');
});

t.test('images: cid rewritten, data: dropped, remote blocked and counted unless allowed', async (t) => {
  t.same(sanitizeMailHtml('<img src="cid:logo@x" alt="Logo">', strict), { html: '<img alt="Logo" src="/api/attachments/att-1" />', blockedRemote: 0 });
  t.same(sanitizeMailHtml('<img src="cid:logo%40x">', strict), { html: '<img src="/api/attachments/att-1" />', blockedRemote: 0 }, 'cid URLs are percent-decoded (RFC 2392)');
  t.same(sanitizeMailHtml('<img src="cid:other@y">', strict), { html: '', blockedRemote: 0 }, 'unknown cid: image dropped');
  t.same(sanitizeMailHtml('<img src="data:image/png;base64,iVBORw0KGgo=">', strict), { html: '', blockedRemote: 0 }, 'data: never');
  t.same(sanitizeMailHtml('<img src="https://t.example/p.gif" width=1 height=1>', strict), { html: '<img width="1" height="1" data-blocked="remote-image" />', blockedRemote: 1 });
  t.same(sanitizeMailHtml('<img srcset="https://t.example/a.gif 1x, https://t.example/b.gif 2x">', strict), { html: '<img data-blocked="remote-image" />', blockedRemote: 1 });
  const allowed: SanitizeOptions = { allowRemoteImages: true, cidUrl };
  t.same(sanitizeMailHtml('<img src="https://t.example/p.gif">', allowed), { html: '<img src="https://t.example/p.gif" />', blockedRemote: 0 });
  t.same(sanitizeMailHtml('<img srcset="https://t.example/a.gif 1x">', allowed), { html: '<img src="https://t.example/a.gif" />', blockedRemote: 0 });
  for (const host of ['169.254.169.254/latest/meta-data/', '127.0.0.1:5432/', 'localhost:6379/', '[::1]:8080/', '10.0.0.1/x', '192.168.1.1/x', '172.16.0.1/x']) {
    t.equal(clean(`<img src="http://${host}">`, allowed), '', `never a private host: ${host}`);
  }
  t.equal(clean('<img src="file:///etc/passwd"><img src="gopher://127.0.0.1:6379/_FLUSHALL">', allowed), '');
  t.equal(clean('<table background="https://t.example/bg.gif"><tr><td>c</td></tr></table>', allowed), '<table><tr><td>c</td></tr></table>', 'background attributes never load');
});

t.test('CSS: typography and layout kept, url()/expression()/positioning dropped', async (t) => {
  t.equal(clean('<p style="color:#333;font-size:14px;font-family:\'Segoe UI\', Arial">t</p>'), '<p style="color:#333;font-size:14px;font-family:\'Segoe UI\', Arial">t</p>');
  t.equal(clean('<p style="color: rgb(0, 0, 0);background-color:rgba(1,2,3,0.5)">t</p>'), '<p style="color:rgb(0, 0, 0);background-color:rgba(1,2,3,0.5)">t</p>');
  const dropped = [
    'background:url(https://t.example/x.gif)',
    'background-image: u\\72 l(https://t.example/e.gif)',
    'width: expr/**/ession(alert(2))',
    'width: expression(alert(1))',
    'behavior: url(x.htc)',
    '-moz-binding: url(x.xml#xss)',
    'list-style-image:url(https://t.example/l.gif)',
    'cursor:url(https://t.example/c.cur),auto',
    'position:fixed;top:0;left:0;z-index:2147483647',
    'color: var(--x)',
  ];
  for (const style of dropped) t.equal(clean(`<div style="${style}">t</div>`), '<div>t</div>', style);
});

t.test('text is escaped, mail layout survives', async (t) => {
  t.equal(clean('a &lt;script&gt; b'), 'a &lt;script&gt; b');
  t.equal(clean('<table cellpadding="0" width="600" align="center"><tr><td valign="top" bgcolor="#fff">x</td></tr></table>'), '<table cellpadding="0" width="600" align="center"><tr><td valign="top" bgcolor="#fff">x</td></tr></table>');
  t.equal(clean('<html><head><title>T</title></head><body><p dir="rtl" lang="he">שלום</p></body></html>'), '<p dir="rtl" lang="he">שלום</p>');
  t.equal(clean('<font color="red" face="Arial" size="2">f</font>'), '<font color="red" face="Arial" size="2">f</font>');
  t.equal(clean('<div id="x" class="y" name="z">d</div>'), '<div>d</div>', 'no id/class/name (DOM clobbering)');
});

t.test('pathological nesting is bounded', async (t) => {
  t.equal(exceedsNestingDepth('<div><p>a<p>b<br><img></div>', 1), false);
  t.equal(exceedsNestingDepth('<div><div>x</div></div>', 1), true);
  t.equal(exceedsNestingDepth('<div></div>'.repeat(5000), 1), false, 'siblings do not nest');
  t.equal(exceedsNestingDepth('<!--<div><div>-->', 1), false, 'comments skipped');
  const deep = '<div>'.repeat(100000) + 'deep <b>text</b>' + '</div>'.repeat(100000);
  const start = Date.now();
  const out = sanitizeMailHtml(deep, strict);
  const text = htmlToText(deep);
  t.ok(Date.now() - start < 2000, `100,000 nested divs handled in ${Date.now() - start} ms`);
  t.match(out.html, /deep text/);
  t.notMatch(out.html, /<div/);
  t.equal(text, 'deep text');
  const moderate = '<div>'.repeat(400) + 'x' + '</div>'.repeat(400);
  t.ok((clean(moderate).match(/<div>/g) ?? []).length <= 256, 'elements beyond the nesting limit are unwrapped');
});

t.test('htmlToText', async (t) => {
  t.equal(htmlToText('<p>Hello <b>world</b></p><p>Second</p>'), 'Hello world\n\nSecond');
  t.equal(htmlToText('<a href="https://x.example/">https://x.example/</a>'), 'https://x.example/');
  t.equal(htmlToText('<a href="https://x.example/">site</a>'), 'site [https://x.example/]');
  t.equal(htmlToText('<head><style>p{}</style><title>T</title></head><script>x()</script><p>body</p>'), 'body');
  t.equal(htmlToText('<img src="x" alt="pic">text'), 'text');
});

t.test('quoted originals of replies are collapsed into <details>, the writer\'s own text is not', async (t) => {
  const collapse = (html: string) => collapseQuotedHtml(sanitizeMailHtml(html, { ...strict, markQuotes: true }).html, 'Show quoted text');
  const open = '<details class="quote"><summary>Show quoted text</summary>';
  const rows: Array<[string, string, string]> = [
    ['Gmail: gmail_quote with its attribution inside',
      '<div>Done.</div><div class="gmail_quote"><div class="gmail_attr">On Mon, 3 Mar 2026, Ana &lt;a@x.es&gt; wrote:<br></div><blockquote class="gmail_quote">Send <b>it</b><blockquote type="cite">older</blockquote></blockquote></div>',
      `<div>Done.</div>${open}<div><div>On Mon, 3 Mar 2026, Ana &lt;a@x.es&gt; wrote:<br /></div><blockquote>Send <b>it</b><blockquote>older</blockquote></blockquote></div></details>`],
    ['Apple Mail: the "wrote:" line and <br> above <blockquote type=cite> go in',
      '<div>Sure.</div><div>On 3 Mar 2026, at 10:00, Ana wrote:</div><br><blockquote type="cite"><div>Send it</div></blockquote>',
      `<div>Sure.</div>${open}<div>On 3 Mar 2026, at 10:00, Ana wrote:</div><br /><blockquote><div>Send it</div></blockquote></details>`],
    ['Outlook: divRplyFwdMsg, its <hr> and everything after it in the same parent',
      '<div><p>Here it is.</p><hr><div id="divRplyFwdMsg"><b>From:</b> Ana</div><div>Please send the form</div></div><p>after</p>',
      `<div><p>Here it is.</p>${open}<hr /><div><b>From:</b> Ana</div><div>Please send the form</div></details></div><p>after</p>`],
    ['Spanish attribution before a plain <blockquote>',
      '<p>Hecho.</p><p>El lun, 3 mar 2026, Ana escribió:</p><blockquote>Envíalo</blockquote>',
      `<p>Hecho.</p>${open}<p>El lun, 3 mar 2026, Ana escribió:</p><blockquote>Envíalo</blockquote></details>`],
    ['a <blockquote> of one\'s own (no attribution) stays open',
      '<p>Look at this:</p><blockquote>A famous quote</blockquote><p>end</p>',
      '<p>Look at this:</p><blockquote>A famous quote</blockquote><p>end</p>'],
    ['a mail\'s own markers are dropped, never trusted',
      '<div data-quote="rest">y</div><blockquote data-quote="block">z</blockquote>',
      '<div>y</div><blockquote>z</blockquote>'],
  ];
  for (const [name, input, want] of rows) t.equal(collapse(input), want, name);
  t.equal(clean('<div class="gmail_quote">q</div>'), '<div>q</div>', 'without markQuotes nothing is marked (the JSON body for reply quoting)');
  t.equal(collapseQuotedHtml('<p>a &lt;b&gt;</p>', '<script>'), '<p>a &lt;b&gt;</p>', 'no quote: unchanged');
  t.match(collapse('<blockquote type="cite">x</blockquote>').replace(/<\/?(?:blockquote|details|summary)[^>]*>/g, ''), /^Show quoted textx$/);
  t.equal(collapseQuotedHtml(sanitizeMailHtml('<blockquote type="cite">x</blockquote>', { ...strict, markQuotes: true }).html, '<img src=x onerror=alert(1)>'),
    '<details class="quote"><summary>&lt;img src=x onerror=alert(1)&gt;</summary><blockquote>x</blockquote></details>', 'the label is text');
});
