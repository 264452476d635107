// Full-text search terms of mail, computed in the application: a message's tsvector is built here (in
// the sync's parse threads, on every core) and the user's query is turned into a tsquery by the same
// tokenizer, so both sides always agree. PostgreSQL's own parser (to_tsvector) ran at ~5 MB/s inside
// the serial commit of each batch and was the largest cost of storing mail. Pure.
//
// A term is a run of letters and digits after case folding and accent removal: "Declaración" and
// "declaracion" are one term; "juan@cliente.es" is three adjacent terms, found again as a phrase.

/** PostgreSQL's limits (tsvector.h): positions 1..16383, at most 256 positions kept per lexeme. */
const MAX_POSITION = 16_383;
const MAX_POSITIONS_PER_TERM = 256;
/** Longer runs are base64 or hashes, never searched for; PostgreSQL refuses lexemes over 2 KB anyway. */
const MAX_TERM_CHARS = 100;
/** How much body text a message's vector covers: the opening of a mail is where its searchable words are. */
export const MAX_INDEXED_BODY_CHARS = 20_000;

/** Letters that carry no combining mark to strip (what PostgreSQL's unaccent rules also fold). */
const FOLD: Record<string, string> = { ß: 'ss', æ: 'ae', œ: 'oe', ø: 'o', đ: 'd', ð: 'd', ł: 'l', þ: 'th', ħ: 'h', ı: 'i', ŀ: 'l', ŧ: 't', ĸ: 'k' };
const FOLD_RE = new RegExp(`[${Object.keys(FOLD).join('')}]`, 'gu');
const MARKS = /\p{M}+/gu;
const TERM = /[\p{L}\p{N}]+/gu;
/** A run of letters, digits and combining marks: a term before folding (a decomposed accent stays inside). */
const RAW_TERM = /[\p{L}\p{N}\p{M}]+/gu;
const ASCII_ONLY = /^\p{ASCII}*$/u;
const ASCII_TERM = /[a-z0-9]+/g;

/** Case-folded, accent-free text: what terms are read from. */
export function foldText(text: string): string {
  const lower = text.toLowerCase();
  if (ASCII_ONLY.test(lower)) return lower;
  return lower.normalize('NFKD').replace(MARKS, '').replace(FOLD_RE, (c) => FOLD[c]!);
}

/**
 * The search terms of a text, in order. Folding (the costly Unicode normalisation) runs per distinct
 * non-ASCII word, not over the whole text: mail repeats its words, and most of them are ASCII.
 */
export function searchTerms(text: string): string[] {
  const lower = text.toLowerCase();
  // Most mail is ASCII: one native match over the text.
  if (ASCII_ONLY.test(lower)) return (lower.match(ASCII_TERM) ?? []).filter((w) => w.length <= MAX_TERM_CHARS);
  const out: string[] = [];
  const folded = new Map<string, string[]>();
  for (const m of lower.matchAll(RAW_TERM)) {
    const word = m[0];
    if (ASCII_ONLY.test(word)) {
      if (word.length <= MAX_TERM_CHARS) out.push(word);
      continue;
    }
    let terms = folded.get(word);
    if (!terms) {
      // Folding may split a word ("½" becomes "1⁄2") or empty it (a lone combining mark).
      terms = [...foldText(word).matchAll(TERM)].map((t) => t[0]).filter((t) => t.length <= MAX_TERM_CHARS);
      folded.set(word, terms);
    }
    out.push(...terms);
  }
  return out;
}

/**
 * A tsvector literal ("'term':1,4 'other':2") of the given fields in order, positions running on across
 * them (a phrase does not match across two fields' boundary only by chance). Terms are letters and
 * digits only, so they never need escaping inside the quotes.
 */
export function tsvectorLiteral(fields: readonly string[]): string {
  // Each term's entry is built as text while reading: a map of arrays joined at the end cost twice as much.
  const entries = new Map<string, { text: string; n: number }>();
  let position = 0;
  for (const field of fields) {
    for (const term of searchTerms(field)) {
      if (position < MAX_POSITION) position++;
      const entry = entries.get(term);
      if (!entry) entries.set(term, { text: `'${term}':${position}`, n: 1 });
      else if (entry.n < MAX_POSITIONS_PER_TERM) {
        entry.text += `,${position}`;
        entry.n++;
      }
    }
  }
  let out = '';
  for (const { text } of entries.values()) out += out ? ` ${text}` : text;
  return out;
}

/**
 * A message's search vector (tsvector literal): subject, sender name, sender address and the opening of
 * the body, positions running on in that order. Built wherever message content is created.
 */
export function messageSearchVector(m: { subject: string; fromName: string | null; fromAddress: string | null; text: string }): string {
  return tsvectorLiteral([m.subject, m.fromName ?? '', m.fromAddress ?? '', m.text.slice(0, MAX_INDEXED_BODY_CHARS)]);
}

/**
 * The tsquery literal of a search box's text, with web-search syntax (as PostgreSQL's
 * websearch_to_tsquery): words are ANDed, "quoted words" are a phrase, `or` between two parts makes
 * either do, a leading `-` excludes. A word that folds into several terms ("juan@cliente.es",
 * "2024-03") is a phrase of them. Null when the text holds no term to look for (matches nothing).
 */
export function tsqueryLiteral(query: string): string | null {
  type Part = { expr: string; negated: boolean };
  const groups: Part[][] = [];
  let orNext = false;
  const UNIT = /(-?)"([^"]*)"?|(\S+)/gu;
  for (const m of query.matchAll(UNIT)) {
    const word = m[3];
    if (word !== undefined && word.toLowerCase() === 'or') {
      orNext = groups.length > 0;
      continue;
    }
    const negated = word !== undefined ? word.startsWith('-') : m[1] === '-';
    const terms = searchTerms(word !== undefined ? word.replace(/^-+/u, '') : m[2]!);
    if (!terms.length) continue;
    const expr = terms.length === 1 ? `'${terms[0]}'` : `(${terms.map((t) => `'${t}'`).join(' <-> ')})`;
    const part = { expr: negated ? `!${expr}` : expr, negated };
    if (orNext) groups.at(-1)!.push(part);
    else groups.push([part]);
    orNext = false;
  }
  // Only exclusions (or nothing): a search needs a term to find.
  if (!groups.some((g) => g.some((p) => !p.negated))) return null;
  return groups.map((g) => (g.length > 1 ? `(${g.map((p) => p.expr).join(' | ')})` : g[0]!.expr)).join(' & ');
}
