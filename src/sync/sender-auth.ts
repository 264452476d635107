// Sender verification (issue 12): DKIM and ARC checked on the raw message with mailauth (the only module
// that imports it), plus the Authentication-Results of the firm's own receiving hosts. Runs in the parse
// threads; DNS goes through the resolver it is given (the main thread's cache, see parse-pool.ts). Never throws.
import { authenticate } from 'mailauth';
import type { Readable } from 'node:stream';
import type { AuthMethodResult, MessageAuthentication } from '../core/mail/incoming-message.ts';

/** A DNS lookup as node's dns.promises.resolve does it (TXT records come as arrays of strings). Errors carry
 *  `code` (ENOTFOUND, ENODATA: no such record; anything else is a temporary failure). */
export type DnsResolver = (name: string, rrtype: string) => Promise<string[][] | string[]>;

/** Longest one DNS look-up may take before it counts as a temporary error. */
export const DNS_TIMEOUT_MS = 3_000;
/** Longest the whole check of one message may take (mailauth looks up one key per signature, then DMARC). */
export const VERIFY_TIMEOUT_MS = 8_000;
const CACHE_TTL_MS = 10 * 60_000;
const CACHE_ERROR_TTL_MS = 60_000;
const CACHE_MAX = 5_000;

/**
 * A resolver that remembers answers (and "no such record") for ten minutes, failures for one, shares
 * look-ups in flight, and gives up on one after `timeoutMs`: a sync of thousands of messages from a
 * handful of domains asks DNS a handful of times, and a dead DNS server costs seconds, not the sync.
 */
export function createCachedResolver(resolve: DnsResolver, opts: { timeoutMs?: number } = {}): DnsResolver {
  const timeoutMs = opts.timeoutMs ?? DNS_TIMEOUT_MS;
  const cache = new Map<string, { until: number; answer: Promise<string[][] | string[]> }>();
  return (name, rrtype) => {
    const key = `${rrtype} ${name.toLowerCase()}`;
    const now = Date.now();
    const hit = cache.get(key);
    if (hit && hit.until > now) return hit.answer;
    cache.delete(key);
    let timer: NodeJS.Timeout | undefined;
    const answer = Promise.race([
      resolve(name, rrtype),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error(`DNS look-up of ${name} timed out`), { code: 'ETIMEOUT' })), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
    const entry = { until: now + CACHE_TTL_MS, answer };
    answer.catch((err: { code?: string }) => {
      // "No such record" is an answer like any other; other failures are retried sooner.
      if (err?.code !== 'ENOTFOUND' && err?.code !== 'ENODATA') entry.until = Date.now() + CACHE_ERROR_TTL_MS;
    });
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
    cache.set(key, entry);
    return answer;
  };
}

// ---------------------------------------------------------------- Authentication-Results (RFC 8601)

export type AuthResultsHeader = { authservId: string; results: { method: string; result: string; props: Record<string, string> }[] };

/** Removes RFC 5322 comments (nested ones too) outside quoted strings. */
function stripComments(value: string): string {
  let out = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\' && i + 1 < value.length) {
      if (depth === 0) out += c + value[i + 1];
      i++;
    } else if (quoted) {
      out += c;
      if (c === '"') quoted = false;
    } else if (c === '(') depth++;
    else if (c === ')' && depth > 0) depth--;
    else if (depth === 0) {
      if (c === '"') quoted = true;
      out += c;
    }
  }
  return out;
}

/** Splits on ";" outside quoted strings. */
function splitStatements(value: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let quoted = false;
  for (const c of value) {
    if (c === '"') quoted = !quoted;
    if (c === ';' && !quoted) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts.map((p) => p.trim()).filter(Boolean);
}

/** One Authentication-Results value: its authserv-id (lowercased) and each method's result and properties. */
export function parseAuthResults(value: string): AuthResultsHeader | null {
  const [head, ...rest] = splitStatements(stripComments(value.replace(/\r?\n[ \t]+/gu, ' ')));
  const authservId = head?.split(/\s+/u)[0]?.replace(/^"|"$/gu, '').toLowerCase();
  if (!authservId) return null;
  const results: AuthResultsHeader['results'] = [];
  for (const statement of rest) {
    const m = /^([a-z0-9_-]+)(?:\/\d+)?\s*=\s*([a-z]+)(.*)$/isu.exec(statement);
    if (!m) continue;
    const props: Record<string, string> = {};
    for (const p of m[3]!.matchAll(/([a-z0-9_-]+\.[a-z0-9_.-]+)\s*=\s*("[^"]*"|[^\s";]+)/giu)) props[p[1]!.toLowerCase()] = p[2]!.replace(/^"|"$/gu, '');
    results.push({ method: m[1]!.toLowerCase(), result: m[2]!.toLowerCase(), props });
  }
  return { authservId, results };
}

// ---------------------------------------------------------------- verdict

const domainOf = (address: string | undefined | null) => (address?.split('@').pop() ?? '').toLowerCase().replace(/\.$/u, '');

/** Relaxed alignment (RFC 7489 §3.1, without the Public Suffix List): the same domain or one a subdomain of the other. */
export function isAligned(fromDomain: string, domain: string): boolean {
  const d = domain.toLowerCase().replace(/\.$/u, '');
  if (!fromDomain || !d || !d.includes('.')) return false;
  return d === fromDomain || fromDomain.endsWith(`.${d}`) || d.endsWith(`.${fromDomain}`);
}

/** One method's result on our scale: neutral, policy and permerror count as fail; anything unknown as none. */
export function toMethodResult(result: string | undefined | null): AuthMethodResult {
  switch (result?.toLowerCase()) {
    case 'pass': return 'pass';
    case 'fail': case 'neutral': case 'policy': case 'permerror': case 'hardfail': return 'fail';
    case 'softfail': return 'softfail';
    case 'temperror': return 'temperror';
    default: return 'none';
  }
}

export type VerifyOptions = {
  resolver: DnsResolver;
  /** authserv-ids (lowercase) of the firm's own receiving hosts, whose Authentication-Results are believed. */
  trustedAuthservIds: readonly string[];
  timeoutMs?: number;
};

const NOTHING: MessageAuthentication = { verdict: 'none', dkim: 'none', spf: 'none', dmarc: 'none', arc: 'none', trustedAuthservId: null };

/**
 * Checks one raw message. Our own DKIM check counts only for a signature aligned with From; SPF is not
 * ours to check (we did not receive the mail over SMTP) and comes only from a trusted header. Of the
 * Authentication-Results fields only the topmost one with a trusted authserv-id is read: those hosts
 * (Microsoft 365, Google) remove fields carrying their own id from incoming mail, so lower ones may be forged.
 */
export async function verifySender(raw: Buffer | Readable, opts: VerifyOptions): Promise<MessageAuthentication> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      check(raw, opts),
      new Promise<MessageAuthentication>((resolve) => {
        timer = setTimeout(() => resolve({ ...NOTHING, dkim: 'temperror' }), opts.timeoutMs ?? VERIFY_TIMEOUT_MS);
      }),
    ]);
  } catch {
    // Mail mailauth cannot read at all is simply not verified.
    return { ...NOTHING };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * What mailauth needs to read: the whole message when it carries a DKIM or ARC signature (their body hashes),
 * else only its header block. Most mail is unsigned or a few KB of headers in front of a large body: this
 * halves the cost per message in the parse threads (about 1 ms for 30 KB).
 */
export function signedPart(raw: Buffer): Buffer {
  const end = headerEnd(raw);
  if (end < 0) return raw;
  return SIGNED.test(raw.subarray(0, end).toString('latin1')) ? raw : raw.subarray(0, end);
}

/** Where the header block ends (after its blank line), or -1. */
function headerEnd(raw: Buffer): number {
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  return crlf >= 0 && (lf < 0 || crlf < lf) ? crlf + 4 : lf >= 0 ? lf + 2 : -1;
}

const SIGNED = /^(?:dkim-signature|arc-seal|arc-message-signature)[ \t]*:/imu;
const RESULTS = /^authentication-results[ \t]*:/imu;

const PEEK_BYTES = 256 * 1024;

/**
 * verifySender for a stored source too large to hold (streamed from the blob store): its header block is
 * read first, and the whole source streamed through mailauth only when it is signed (body hashes).
 */
export async function verifyStoredSender(open: () => Promise<Readable>, opts: VerifyOptions): Promise<MessageAuthentication> {
  try {
    const chunks: Buffer[] = [];
    let size = 0;
    const first = await open();
    try {
      for await (const chunk of first) {
        chunks.push(chunk as Buffer);
        size += (chunk as Buffer).length;
        if (size >= PEEK_BYTES) break;
      }
    } finally {
      first.destroy();
    }
    const prefix = Buffer.concat(chunks);
    const part = signedPart(prefix);
    if (part.length < prefix.length) return await verifySender(part, opts);
    return await verifySender(await open(), opts);
  } catch {
    return { ...NOTHING };
  }
}

/** The domain of the only From address of a header block, or null (none, several, unreadable). */
export function fromDomainOf(head: string): string | null {
  const fields = head.replace(/\r?\n[ \t]+/gu, ' ').split(/\r?\n/u).filter((l) => /^from[ \t]*:/iu.test(l));
  if (fields.length !== 1) return null;
  const value = fields[0]!.slice(fields[0]!.indexOf(':') + 1);
  const addresses = [...value.matchAll(/<([^<>\s]+@[^<>\s]+)>|(?:^|[\s,])([^<>\s",]+@[^<>\s",]+)/gu)].map((m) => m[1] ?? m[2]!);
  if (addresses.length !== 1) return null;
  const domain = domainOf(addresses[0]);
  return /^[a-z0-9-]+(?:\.[a-z0-9-]+)+$/u.test(domain) ? domain : null;
}

/**
 * DMARC for mail with no signature at all (RFC 7489 §6.6.3, without the Public Suffix List: the From domain,
 * then its parents down to two labels): nothing can align, so a published policy means fail.
 */
async function unsignedDmarc(fromDomain: string | null, resolver: DnsResolver): Promise<AuthMethodResult> {
  if (!fromDomain) return 'none';
  const labels = fromDomain.split('.');
  for (let i = 0; i <= labels.length - 2; i++) {
    try {
      const records = await resolver(`_dmarc.${labels.slice(i).join('.')}`, 'TXT');
      const texts = records.map((r) => (Array.isArray(r) ? r.join('') : r));
      if (texts.some((t) => /^v=DMARC1\s*(;|$)/iu.test(t.trim()))) return 'fail';
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code !== 'ENOTFOUND' && code !== 'ENODATA') return 'temperror';
    }
  }
  return 'none';
}

async function check(raw: Buffer | Readable, opts: VerifyOptions): Promise<MessageAuthentication> {
  if (Buffer.isBuffer(raw)) {
    const end = headerEnd(raw);
    const head = raw.subarray(0, end < 0 ? Math.min(raw.length, PEEK_BYTES) : end).toString('latin1');
    const signed = SIGNED.test(head);
    // Most mail carries neither a signature nor our hosts' results: nothing can pass, and mailauth (about a
    // millisecond a message in the parse threads, the sync benchmark's cost) has only the DMARC policy to check.
    if (!signed && !(opts.trustedAuthservIds.length && RESULTS.test(head))) {
      const dmarc = await unsignedDmarc(fromDomainOf(head), opts.resolver);
      return { ...NOTHING, dmarc, verdict: dmarc === 'fail' ? 'fail' : 'none' };
    }
    // Unsigned (only our hosts' results to read): the header block is enough.
    if (!signed && end >= 0) raw = raw.subarray(0, end);
  }
  // No client IP or HELO: SPF is left to the receiving host's own Authentication-Results.
  const r = await authenticate(raw, { resolver: opts.resolver, disableBimi: true, mta: 'dossier.invalid' });
  const fromDomain = domainOf(r.dkim.headerFrom?.[0]);
  const sigs = r.dkim.results ?? [];
  // dkim: an aligned signature that verifies; fail when a signature does not verify (a changed message); a
  // valid signature of some other domain says nothing about the From.
  const alignedPass = sigs.some((s) => s.status?.result === 'pass' && s.signingDomain && isAligned(fromDomain, s.signingDomain));
  const results = sigs.map((s) => toMethodResult(s.status?.result));
  let dkim: AuthMethodResult = alignedPass ? 'pass' : results.includes('fail') ? 'fail' : results.includes('temperror') ? 'temperror' : 'none';
  let dmarc = r.dmarc ? toMethodResult(r.dmarc.status?.result) : 'none';
  let spf: AuthMethodResult = 'none';
  const arc = r.arc ? toMethodResult(r.arc.status?.result) : 'none';
  let trustedAuthservId: string | null = null;

  const trusted = new Set(opts.trustedAuthservIds.map((id) => id.toLowerCase()));
  if (trusted.size) {
    const lines = (r.dkim.headers?.parsed ?? []).filter((h) => h.key === 'authentication-results');
    for (const h of lines) {
      const line = h.line.toString('utf8');
      const ar = parseAuthResults(line.slice(line.indexOf(':') + 1));
      if (!ar || !trusted.has(ar.authservId)) continue;
      trustedAuthservId = ar.authservId;
      for (const res of ar.results) {
        if (res.method === 'spf') spf = toMethodResult(res.result);
        if (res.method === 'dmarc' && (dmarc !== 'pass' || res.result === 'pass')) dmarc = toMethodResult(res.result);
        if (res.method === 'dkim' && res.result === 'pass' && isAligned(fromDomain, res.props['header.d'] ?? domainOf(res.props['header.i']))) dkim = 'pass';
      }
      break;
    }
    // An ARC chain that verifies, sealed last by one of our own hosts: its record of the first hop counts like our own header.
    const aar = r.arc ? r.arc.authenticationResults : undefined;
    if (!trustedAuthservId && arc === 'pass' && aar && typeof aar.mta === 'string' && trusted.has(aar.mta.toLowerCase())) {
      trustedAuthservId = aar.mta.toLowerCase();
      const d = aar.dmarc as { result?: string } | undefined;
      if (d?.result === 'pass') dmarc = 'pass';
    }
  }
  const verdict = dkim === 'pass' || dmarc === 'pass' ? 'pass' : dkim === 'fail' || dmarc === 'fail' ? 'fail' : 'none';
  return { verdict, dkim, spf, dmarc, arc, trustedAuthservId };
}
