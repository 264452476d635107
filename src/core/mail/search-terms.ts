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

/** Each term of the fields with its positions, positions running on across the fields (a phrase does not
 *  match across two fields' boundary only by chance); at most 256 positions a term, none repeated. */
function collectTerms(fields: readonly string[]): Map<string, number[]> {
  const entries = new Map<string, number[]>();
  let position = 0;
  for (const field of fields) {
    for (const term of searchTerms(field)) {
      if (position < MAX_POSITION) position++;
      const positions = entries.get(term);
      if (!positions) entries.set(term, [position]);
      else if (positions.length < MAX_POSITIONS_PER_TERM && positions[positions.length - 1] !== position) positions.push(position);
    }
  }
  return entries;
}

/**
 * A tsvector literal ("'term':1,4 'other':2") of the given fields in order. Terms are letters and digits
 * only, so they never need escaping inside the quotes. What embedded PostgreSQL (PGlite) is given.
 */
export function tsvectorLiteral(fields: readonly string[]): string {
  let out = '';
  for (const [term, positions] of collectTerms(fields)) out += `${out ? ' ' : ''}'${term}':${positions.join(',')}`;
  return out;
}

/**
 * The same vector in PostgreSQL's binary format (tsvectorsend/tsvectorrecv: entry count, then each term
 * NUL-terminated with its position count and positions, weight D). A Buffer parameter goes over the wire
 * as binary, and reading it spares the server the text parse that was the largest cost of each batch's
 * commit. Terms need not be sorted: the server sorts them when they are not.
 */
export function tsvectorBinary(fields: readonly string[]): Buffer {
  const entries = collectTerms(fields);
  let size = 4;
  for (const [term, positions] of entries) size += Buffer.byteLength(term) + 3 + 2 * positions.length;
  const out = Buffer.allocUnsafe(size);
  let at = out.writeInt32BE(entries.size, 0);
  for (const [term, positions] of entries) {
    at += out.write(term, at, 'utf8');
    out[at++] = 0;
    at = out.writeUInt16BE(positions.length, at);
    for (const p of positions) at = out.writeUInt16BE(p, at);
  }
  return out;
}

/** A message's search vector: as a literal (text) or in the binary format (see tsvectorBinary). */
export type SearchVector = string | Buffer;

/**
 * A message's search vector: subject, sender name, sender address and the opening of the body, positions
 * running on in that order. Built wherever message content is created, binary for a server that takes it.
 */
type SearchedMessage = { subject: string; fromName: string | null; fromAddress: string | null; text: string };
export function messageSearchVector(m: SearchedMessage, format?: 'literal'): string;
export function messageSearchVector(m: SearchedMessage, format: 'literal' | 'binary'): SearchVector;
export function messageSearchVector(m: SearchedMessage, format: 'literal' | 'binary' = 'literal'): SearchVector {
  const fields = [m.subject, m.fromName ?? '', m.fromAddress ?? '', m.text.slice(0, MAX_INDEXED_BODY_CHARS)];
  return format === 'binary' ? tsvectorBinary(fields) : tsvectorLiteral(fields);
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
