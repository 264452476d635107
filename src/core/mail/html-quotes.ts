// Collapses the quoted part of a reply in sanitised mail HTML into <details>, as the message view does for
// "> " lines in text mail. Works on sanitizeMailHtml's output only: balanced tags, escaped text and
// attribute values, and a data-quote marker the sanitiser put on quote elements it recognised (it strips
// class and id, so recognising them must happen there). <details> needs no script: it opens inside the
// sandboxed frame, where nothing runs.
import { escapeHtml } from '../platform/text.ts';

/**
 * What sanitizeMailHtml marks (data-quote): `block` a quote by itself (Gmail's gmail_quote, <blockquote
 * type="cite"> of Apple Mail and Thunderbird), `rest` a reply header after which everything is the
 * original (Outlook's divRplyFwdMsg), `maybe` any other <blockquote>, a quote only after an "On … wrote:"
 * line.
 */
export type QuoteMark = 'block' | 'rest' | 'maybe';

const GMAIL_QUOTE = /(?:^|\s)gmail_quote(?:_container)?(?:\s|$)/u;

/** The marker for an element of raw mail HTML (its tag and attributes before sanitising), if it starts a quote. */
export function quoteMarkOf(tag: string, attribs: Record<string, string>): QuoteMark | null {
  const cls = attribs.class ?? '';
  if (tag === 'blockquote') return GMAIL_QUOTE.test(cls) || (attribs.type ?? '').toLowerCase() === 'cite' ? 'block' : 'maybe';
  if (tag === 'div' && GMAIL_QUOTE.test(cls)) return 'block';
  if (tag === 'div' && /^divRplyFwdMsg$/iu.test(attribs.id ?? '')) return 'rest';
  return null;
}

const VOID = /^(?:area|br|col|hr|img|wbr)$/u;
// "On Mon, 3 Mar 2026, Ana <ana@example.com> wrote:", "El lun, … escribió:", "Op … schreef …:": a short
// line that ends in a colon right before the quote.
// "Look at this:" before a <blockquote> of one's own is not one: it needs a date, an address or the verb.
const ATTRIBUTION_MAX_CHARS = 400;
const ATTRIBUTION = /(?:\d|@|wrote|escribi[oó]|schreef|a écrit|schrieb)[^]*[:：]$/iu;
const TOKEN = /<(\/?)([a-zA-Z][a-zA-Z0-9]*)((?:\s[^>]*)?)>|[^<]+|</gu;

type Frame = { name: string; siblings: number[]; closesDetails: boolean; restOpen: boolean };

const textOf = (html: string) => html.replace(/<[^>]*>/gu, '').replace(/&nbsp;|&#160;/gu, ' ').replace(/&[a-z]+;|&#\d+;/giu, 'x');

/**
 * `html` (sanitised, with data-quote markers) with each outermost quote, and the attribution line above it,
 * inside <details class="quote"><summary>label</summary>…</details>. Markup without quotes comes back
 * unchanged apart from the markers.
 */
export function collapseQuotedHtml(html: string, label: string): string {
  const open = `<details class="quote"><summary>${escapeHtml(label)}</summary>`;
  const out: string[] = [];
  const stack: Frame[] = [{ name: '', siblings: [], closesDetails: false, restOpen: false }];
  let quoteDepth = 0; // the stack depth whose frame holds the open quote; 0 = not inside one
  const piece = (frame: Frame, i: number) => out.slice(frame.siblings[i], frame.siblings[i + 1] ?? out.length).join('');

  // Where a quote starting now begins: at the attribution line above it (skipping blank lines and <br>),
  // or for `rest`, at the <hr> Outlook puts above its reply header; null when there is none.
  const lookBack = (frame: Frame, rest: boolean): number | null => {
    for (let i = frame.siblings.length - 1; i >= 0; i--) {
      const content = piece(frame, i);
      if (/^\s*(?:<br \/>\s*)*$/u.test(content)) continue;
      if (rest) return /^<hr\b/u.test(content) ? frame.siblings[i]! : null;
      const text = textOf(content).trim();
      return text.length <= ATTRIBUTION_MAX_CHARS && ATTRIBUTION.test(text) ? frame.siblings[i]! : null;
    }
    return null;
  };

  for (const m of html.matchAll(TOKEN)) {
    const top = stack[stack.length - 1]!;
    const [token, slash, rawName, attrs = ''] = m;
    if (rawName === undefined) {
      if (token.trim() !== '') top.siblings.push(out.length);
      out.push(token);
      continue;
    }
    const name = rawName.toLowerCase();
    if (slash) {
      // Sanitised markup is balanced: this closes the top element.
      const frame = stack.pop() ?? top;
      if (frame.restOpen) out.push('</details>');
      out.push(token);
      if (frame.closesDetails) out.push('</details>');
      if (quoteDepth > stack.length) quoteDepth = 0;
      continue;
    }
    const mark = /\sdata-quote="(block|rest|maybe)"/u.exec(attrs)?.[1] as QuoteMark | undefined;
    const tag = mark ? token.replace(/\sdata-quote="[a-z]*"/u, '') : token;
    top.siblings.push(out.length);
    if (VOID.test(name) || tag.endsWith('/>')) {
      out.push(tag);
      continue;
    }
    const frame: Frame = { name, siblings: [], closesDetails: false, restOpen: false };
    if (mark && quoteDepth === 0) {
      const before = lookBack(top, mark === 'rest');
      const collapse = mark !== 'maybe' || before !== null;
      if (collapse) {
        const at = before ?? out.length;
        out.splice(at, 0, open);
        // Positions after the insertion moved by one (only the parent's last siblings can lie there).
        top.siblings = top.siblings.map((s) => (s > at ? s + 1 : s));
        if (mark === 'rest') {
          // Everything from here to the end of the parent is the original message.
          top.restOpen = true;
          quoteDepth = stack.length;
        } else {
          frame.closesDetails = true;
          quoteDepth = stack.length + 1;
        }
      }
    }
    out.push(tag);
    stack.push(frame);
  }
  if (stack[0]!.restOpen) out.push('</details>');
  return out.join('');
}
