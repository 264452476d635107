// Turns mail HTML (stored as received) into markup safe to show, and HTML into plain text for snippets.
// The only user of sanitize-html and html-to-text. Output is still meant for a sandboxed frame with a
// strict CSP and a pinned UTF-8 charset: the sanitiser is one layer, not the only one.
import { htmlToText as convertHtmlToText } from 'html-to-text';
import sanitizeHtml from 'sanitize-html';
import { escapeHtml } from '../platform/text.ts';
import { quoteMarkOf } from './html-quotes.ts';

export type SanitizeOptions = {
  /** Load http(s) images (the user clicked "show images" or trusts the sender). Off by default. */
  allowRemoteImages: boolean;
  /**
   * The URL serving this message's part with the given Content-ID (decoded, without "cid:"), or null
   * when the message has no such part. Must be scoped to the message being shown (cid-hostile.eml
   * reuses a Content-ID another message has).
   */
  cidUrl: (cid: string) => string | null;
  /** Mark quoted parts of a reply (data-quote, see html-quotes.ts) for collapseQuotedHtml. */
  markQuotes?: boolean;
};

export type SanitizedHtml = {
  html: string;
  /** <img> with a remote source removed because remote images are not allowed. */
  blockedRemote: number;
};

/**
 * Elements deeper than this are flattened (their content kept). Real mail nests tables a few dozen
 * levels; browsers themselves stop nesting at 512.
 */
const NESTING_LIMIT = 256;
/**
 * Beyond this nesting depth the HTML parser's cost grows quadratically (100,000 nested <div>: ~6 s),
 * so such markup is shown as text instead of being parsed (hostile html-deep-nesting-100000).
 */
const MAX_PARSE_DEPTH = 1000;

const ALLOWED_TAGS = [
  'a', 'abbr', 'acronym', 'address', 'article', 'aside', 'b', 'bdi', 'big', 'blockquote', 'br', 'caption', 'center', 'cite',
  'code', 'col', 'colgroup', 'dd', 'del', 'dfn', 'div', 'dl', 'dt', 'em', 'figcaption', 'figure', 'font', 'footer',
  'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'i', 'img', 'ins', 'kbd', 'li', 'main', 'mark', 'nav', 'ol', 'p',
  'pre', 'q', 's', 'samp', 'section', 'small', 'span', 'strike', 'strong', 'sub', 'sup', 'table', 'tbody', 'td',
  'tfoot', 'th', 'thead', 'time', 'tr', 'tt', 'u', 'ul', 'var', 'wbr',
];

// Disallowed elements whose content is not mail text either (code, CSS, alternative content,
// foreign markup): dropped with their content instead of being unwrapped.
const DROP_WITH_CONTENT = [
  'script', 'style', 'textarea', 'option', 'xmp', 'title', 'noscript', 'noembed', 'noframes', 'iframe', 'template',
  'svg', 'math', 'object', 'applet', 'select', 'head', 'frameset', 'portal',
];

const LAYOUT_ATTRIBUTES = ['align', 'valign', 'width', 'height', 'bgcolor', 'border', 'cellpadding', 'cellspacing', 'colspan', 'rowspan', 'nowrap'];

// CSS: a property allow-list, and values made of words, numbers, units, colours and quoted font
// names only. No "(" (url(), expression(), image-set(), var()), no "\" (escapes hide "url"),
// no ";" or ":" (a second declaration). rgb()/hsl() colours are the one function allowed.
const CSS_COLOR_FN = String.raw`(?:rgba?|hsla?)\(\s*[\d.\s,%/+-]+\)`;
const CSS_SAFE_VALUE = new RegExp(String.raw`^(?:[-+#%.,!\w\s'"/]|${CSS_COLOR_FN})*$`, 'u');
const CSS_PROPERTIES = [
  'color', 'background-color', 'font', 'font-family', 'font-size', 'font-style', 'font-variant', 'font-weight', 'line-height',
  'letter-spacing', 'word-spacing', 'text-align', 'text-decoration', 'text-indent', 'text-transform', 'white-space',
  'word-break', 'word-wrap', 'overflow-wrap', 'vertical-align', 'direction', 'unicode-bidi',
  'width', 'min-width', 'max-width', 'height', 'min-height', 'max-height',
  'margin', 'margin-top', 'margin-right', 'margin-bottom', 'margin-left',
  'padding', 'padding-top', 'padding-right', 'padding-bottom', 'padding-left',
  'border', 'border-top', 'border-right', 'border-bottom', 'border-left', 'border-color', 'border-style', 'border-width',
  'border-radius', 'border-collapse', 'border-spacing', 'table-layout', 'caption-side', 'empty-cells',
  'list-style-type', 'list-style-position', 'display', 'float', 'clear', 'overflow',
];
// No position/z-index/top/left: a full-window position:fixed overlay is the phishing case in html-css.eml.
const ALLOWED_STYLES: Record<string, RegExp[]> = Object.fromEntries(CSS_PROPERTIES.map((p) => [p, [CSS_SAFE_VALUE]]));

const LINK_SCHEMES = /^(?:https?|mailto|tel):/iu;
// Hosts a mail must never make the reader's browser request: loopback, private and link-local
// ranges (cloud metadata at 169.254.169.254), whatever the image setting.
const PRIVATE_HOST = /^(?:localhost|.*\.localhost|127\.\d+\.\d+\.\d+|10\.\d+\.\d+\.\d+|192\.168\.\d+\.\d+|172\.(?:1[6-9]|2\d|3[01])\.\d+\.\d+|169\.254\.\d+\.\d+|0\.0\.0\.0|\[[0-9a-f:.]*\])$/iu;

/** An absolute http(s)/mailto/tel URL without credentials, or null. */
function cleanLinkHref(raw: string): string | null {
  const href = raw.trim();
  if (!LINK_SCHEMES.test(href)) return null; // relative, protocol-relative, javascript:, data:, ...
  if (/^(?:mailto|tel):/iu.test(href)) return href;
  let url: URL;
  try {
    url = new URL(href);
  } catch {
    return null;
  }
  // "https://bank.example@attacker.example/" shows the bank's name but goes to the attacker.
  url.username = '';
  url.password = '';
  return url.href;
}

/** A remote image URL we would load when remote images are allowed, or null. */
function remoteImageUrl(raw: string): string | null {
  const src = raw.trim();
  if (!/^https?:\/\//iu.test(src)) return null;
  try {
    const url = new URL(src);
    if (PRIVATE_HOST.test(url.hostname)) return null;
    url.username = '';
    url.password = '';
    return url.href;
  } catch {
    return null;
  }
}

/** The Content-ID a "cid:" URL names (RFC 2392: percent-encoded), or null when it is not one. */
function cidOf(src: string): string | null {
  const m = /^\s*cid:(.+)$/isu.exec(src);
  if (!m) return null;
  try {
    return decodeURIComponent(m[1]!.trim());
  } catch {
    return m[1]!.trim();
  }
}

/**
 * Whether `html` nests elements deeper than `max`, in one linear pass over the tags (void elements
 * and elements whose end tag is implied don't nest; end tags close down to their element).
 */
export function exceedsNestingDepth(html: string, max: number): boolean {
  const VOID = /^(?:area|base|br|col|embed|hr|img|input|link|meta|param|source|track|wbr)$/u;
  const IMPLIED_END = /^(?:p|li|dt|dd|option|optgroup|tr|td|th|thead|tbody|tfoot|rt|rp)$/u;
  const stack: string[] = [];
  const open = new Map<string, number>();
  const tag = /<!--[\s\S]*?(?:-->|$)|<(\/?)([a-zA-Z][\w:-]*)[^>]*>/gu;
  for (let m = tag.exec(html); m !== null; m = tag.exec(html)) {
    if (m[2] === undefined) continue; // comment
    const name = m[2].toLowerCase();
    if (VOID.test(name) || IMPLIED_END.test(name)) continue;
    if (m[1] !== '/') {
      stack.push(name);
      open.set(name, (open.get(name) ?? 0) + 1);
      if (stack.length > max) return true;
    } else if (open.get(name)) {
      for (let popped = stack.pop(); popped !== undefined; popped = stack.pop()) {
        open.set(popped, open.get(popped)! - 1);
        if (popped === name) break;
      }
    }
  }
  return false;
}

/** Markup too deep to parse affordably: its text, tags removed by a linear scan, escaped. */
function textOfUnparseable(html: string): string {
  const text = html
    .replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/giu, ' ')
    .replace(/<!--[\s\S]*?(?:-->|$)|<\/?[a-zA-Z][^>]*>/gu, ' ')
    .replace(/\s+/gu, ' ')
    .trim();
  return escapeHtml(text);
}

/**
 * Mail HTML reduced to an allow-list of formatting elements and attributes: no scripts, event
 * handlers, forms, frames, objects, <base>/<meta>/<link>/<style>; links only to http(s)/mailto/tel
 * and opened in a new tab without referrer; images only from this message's cid: parts (rewritten
 * through cidUrl) or, when allowed, remote http(s) hosts; data: URLs dropped; inline styles limited
 * to layout and typography without url()/expression(). Input must already be decoded to UTF-8 text.
 */
export function sanitizeMailHtml(html: string, options: SanitizeOptions): SanitizedHtml {
  if (exceedsNestingDepth(html, MAX_PARSE_DEPTH)) return { html: `<p>${textOfUnparseable(html)}</p>`, blockedRemote: 0 };
  let blockedRemote = 0;
  const out = sanitizeHtml(html, {
    allowedTags: ALLOWED_TAGS,
    allowedAttributes: {
      '*': ['dir', 'lang', 'title', 'style', ...LAYOUT_ATTRIBUTES],
      a: ['href', 'target', 'rel'],
      img: ['src', 'alt', 'data-blocked'],
      div: ['data-quote'],
      blockquote: ['data-quote'],
      font: ['color', 'face', 'size'],
      ol: ['start', 'type', 'reversed'],
      ul: ['type'],
      li: ['value'],
      col: ['span'],
      colgroup: ['span'],
      td: ['abbr', 'headers', 'scope'],
      th: ['abbr', 'headers', 'scope'],
      time: ['datetime'],
    },
    allowedSchemes: ['http', 'https', 'mailto', 'tel'],
    allowedSchemesByTag: {},
    allowedSchemesAppliedToAttributes: ['href', 'src', 'cite', 'background', 'poster', 'action', 'formaction', 'xlink:href'],
    allowProtocolRelative: false,
    allowedStyles: { '*': ALLOWED_STYLES },
    nonTextTags: DROP_WITH_CONTENT,
    disallowedTagsMode: 'discard',
    nestingLimit: NESTING_LIMIT,
    allowVulnerableTags: false,
    // An image left without a source (script URL, data:, unknown cid) would only show a broken icon.
    exclusiveFilter: (frame) => frame.tag === 'img' && !frame.attribs.src && !frame.attribs['data-blocked'],
    transformTags: {
      // Only our own marker survives: a mail's data-quote is dropped.
      div: (tagName, attribs) => quoteMarked(tagName, attribs, options.markQuotes === true),
      blockquote: (tagName, attribs) => quoteMarked(tagName, attribs, options.markQuotes === true),
      a: (tagName, attribs) => {
        const cid = attribs.href === undefined ? null : cidOf(attribs.href);
        const href = attribs.href === undefined ? null : cid !== null ? options.cidUrl(cid) : cleanLinkHref(attribs.href);
        const next: Record<string, string> = { ...attribs, target: '_blank', rel: 'noopener noreferrer' };
        if (href === null) delete next.href;
        else next.href = href;
        return { tagName, attribs: next };
      },
      img: (tagName, attribs) => {
        const next: Record<string, string> = { ...attribs };
        delete next.src;
        delete next.srcset;
        const src = attribs.src ?? '';
        const cid = cidOf(src);
        if (cid !== null) {
          const url = options.cidUrl(cid);
          if (url !== null) next.src = url;
        } else {
          // srcset is never kept (one URL is enough); its first candidate stands in for a missing src.
          const firstSrcset = (attribs.srcset ?? '').trim().split(/\s+/u)[0] ?? '';
          const remote = remoteImageUrl(src) ?? remoteImageUrl(firstSrcset);
          if (remote !== null && options.allowRemoteImages) next.src = remote;
          else if (remote !== null) {
            blockedRemote++;
            next['data-blocked'] = 'remote-image';
          }
        }
        return { tagName, attribs: next };
      },
    },
  });
  return { html: out, blockedRemote };
}

function quoteMarked(tagName: string, attribs: Record<string, string>, mark: boolean): { tagName: string; attribs: Record<string, string> } {
  const next: Record<string, string> = { ...attribs };
  delete next['data-quote'];
  const kind = mark ? quoteMarkOf(tagName, attribs) : null;
  if (kind) next['data-quote'] = kind;
  return { tagName, attribs: next };
}

/**
 * Plain text of mail HTML (for messages without a text part, and for snippets): block structure as
 * line breaks, links as "text [url]", images by their alt text. Pathologically deep markup gives
 * its bare text rather than minutes of parsing.
 */
export function htmlToText(html: string): string {
  if (exceedsNestingDepth(html, MAX_PARSE_DEPTH)) return textOfUnparseable(html).replace(/&lt;/gu, '<').replace(/&gt;/gu, '>').replace(/&quot;/gu, '"').replace(/&amp;/gu, '&');
  return convertHtmlToText(html, {
    wordwrap: false,
    limits: { maxDepth: MAX_PARSE_DEPTH },
    selectors: [
      { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
      { selector: 'img', format: 'skip' },
      { selector: 'head', format: 'skip' },
      { selector: 'style', format: 'skip' },
      { selector: 'script', format: 'skip' },
    ],
  }).trim();
}
