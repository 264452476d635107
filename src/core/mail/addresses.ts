// Normalises e-mail addresses to the one form we store and match contacts on. Pure string work:
// it never parses header lists (src/sync/parse-message.ts does) and never looks inside display names.
import { domainToASCII } from 'node:url';

/**
 * Matching policy (why exact): a firm registers the address a client actually writes from, and
 * sub-addressing is only a convention (RFC 5233 names "+" for Sieve, some providers use "-", some
 * treat "+" as an ordinary character), so `a+x@d` is a different address from `a@d`. We therefore
 * match on the exact normalised address; `baseAddress()` strips a "+tag" for a later opt-in
 * "match sub-addresses too" feature. Provider-specific rules (Gmail ignoring dots) are not applied.
 */

// RFC 5322 §3.2.3 atext, plus any non-ASCII character for internationalised local parts (RFC 6532 §3.2).
const ATEXT = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\u{10FFFF}-]+$/u;
// C0/C1 controls, DEL, and invisible or direction-changing characters that let two different
// addresses look alike (zero-width, bidi overrides/isolates, BOM, soft hyphen).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]/u;
const DOMAIN_LABEL = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$/;
/** 64 (local) + 1 + 255 (domain): the classic upper bound; longer input is garbage, not an address. */
const MAX_ADDRESS_OCTETS = 320;

function isDotAtom(s: string): boolean {
  // Accepts obsolete dot placement (RFC 5322 §4.4 obs-local-part): some Japanese mobile carriers
  // issued "a..b" and "abc." local parts, and rejecting them would make those senders unmatchable.
  return s.split('.').some((p) => p.length > 0) && s.split('.').every((p) => p.length === 0 || ATEXT.test(p));
}

function normalizeLocalPart(local: string): string | null {
  if (local.length === 0) return null;
  if (local.length >= 2 && local.startsWith('"') && local.endsWith('"')) {
    // Quoted local part: "john"@d and john@d are the same address (RFC 5322 §3.4.1), so unquote when
    // the content is a plain dot-atom; otherwise keep a canonical quoted form.
    const inner = local.slice(1, -1).replace(/\\(.)/gu, '$1');
    if (inner.length === 0) return null;
    if (isDotAtom(inner) && !inner.startsWith('.') && !inner.endsWith('.') && !inner.includes('..')) return inner.toLowerCase();
    return `"${inner.replace(/(["\\])/g, '\\$1').toLowerCase()}"`;
  }
  if (local.includes('"') || !isDotAtom(local)) return null;
  return local.toLowerCase();
}

function normalizeDomain(raw: string): string | null {
  let domain = raw.endsWith('.') ? raw.slice(0, -1) : raw; // fully-qualified form "client.example."
  if (domain.length === 0) return null;
  if (domain.startsWith('[') && domain.endsWith(']')) {
    // Address literal (RFC 5321 §4.1.3). Kept, but it never equals a host-name domain.
    const inner = domain.slice(1, -1).toLowerCase();
    if (/^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$/.test(inner)) return `[${inner}]`;
    if (/^ipv6:[0-9a-f:.]+$/.test(inner)) return `[${inner}]`;
    return null;
  }
  // IDNA (UTS #46) mapping to the ASCII form: "clïent.example" and "xn--clent-zsa.example" are one
  // domain, while a Cyrillic look-alike becomes a visibly different xn-- domain.
  domain = domainToASCII(domain);
  if (domain.length === 0 || domain.length > 253) return null;
  const labels = domain.split('.');
  if (!labels.every((l) => l.length <= 63 && DOMAIN_LABEL.test(l))) return null;
  return domain;
}

/**
 * The canonical form of one addr-spec ("local@domain", optionally in angle brackets), or null when
 * it is not a usable address. Lowercases both parts (no provider treats case as significant), strips
 * the trailing dot of a domain, maps IDN domains to punycode, unquotes needlessly quoted local parts,
 * keeps "+tags". Never extracts an address from surrounding text: a display name is not an address.
 */
export function normalizeAddress(raw: string | null | undefined): string | null {
  if (typeof raw !== 'string') return null;
  let s = raw.normalize('NFC').trim();
  if (s.startsWith('<') && s.endsWith('>')) s = s.slice(1, -1).trim();
  if (s.length === 0 || FORBIDDEN.test(s) || /\s/u.test(s.replace(/"(?:[^"\\]|\\.)*"/gu, '""'))) return null;
  const at = s.lastIndexOf('@');
  if (at <= 0 || at === s.length - 1) return null;
  const local = normalizeLocalPart(s.slice(0, at));
  const domain = local === null ? null : normalizeDomain(s.slice(at + 1));
  if (local === null || domain === null) return null;
  const address = `${local}@${domain}`;
  return Buffer.byteLength(address, 'utf8') <= MAX_ADDRESS_OCTETS ? address : null;
}

/** True when raw normalises to a usable address. */
export function isValidAddress(raw: string | null | undefined): boolean {
  return normalizeAddress(raw) !== null;
}

/**
 * The address without its "+tag" sub-address ("a+invoices@d" -> "a@d"), from an already
 * normalised address. Quoted local parts and a leading "+" are returned unchanged.
 */
export function baseAddress(normalized: string): string {
  const at = normalized.lastIndexOf('@');
  const local = normalized.slice(0, at);
  if (at <= 0 || local.startsWith('"')) return normalized;
  const plus = local.indexOf('+');
  return plus > 0 ? `${local.slice(0, plus)}${normalized.slice(at)}` : normalized;
}

/** The domain of a normalised address ("a@d" -> "d"). */
export function getAddressDomain(normalized: string): string {
  return normalized.slice(normalized.lastIndexOf('@') + 1);
}
