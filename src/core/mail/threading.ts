// Message-ID parsing and the thread keys derived from Message-ID / In-Reply-To / References.
// Pure: the store does the lookups. Threads are never formed by subject alone (unrelated "Invoice" mails).
import { createHash } from 'node:crypto';

/** RFC 5322 §2.1.1 line limit: a longer id is garbage (and would bloat indexes), not an identifier. */
export const MAX_MESSAGE_ID_LENGTH = 998;
/**
 * References kept per message: the first (the thread root) and the most recent ones. RFC 5322
 * §3.6.4 builds References by appending, so long chains grow without bound (hostile mail sends
 * 10,000); RFC 5537 §3.4.4 likewise trims the middle and keeps the first id.
 */
export const MAX_REFERENCES = 50;

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const INVALID_ID_CHARS = /[\s\u0000-\u001f\u007f-\u009f<>]/u;

/**
 * The id of a msg-id token without its angle brackets ("<a@b>" -> "a@b"), or null when it is
 * empty, over-long, or contains whitespace, control characters or brackets. Ids are compared
 * byte-for-byte (case kept): RFC 5322 gives no case-insensitive part.
 */
export function normalizeMessageId(raw: string | null | undefined): string | null {
  if (typeof raw !== 'string') return null;
  let s = raw.trim();
  if (s.startsWith('<')) s = s.slice(1);
  if (s.endsWith('>')) s = s.slice(0, -1);
  s = s.trim();
  if (s.length === 0 || s.length > MAX_MESSAGE_ID_LENGTH || INVALID_ID_CHARS.test(s)) return null;
  return s;
}

/**
 * The Message-ID field's value: the first "<...>" token, or a lone bare token (some old mailers
 * omit the brackets). Comments and other text around the token are ignored.
 */
export function parseMessageIdField(value: string | null | undefined): string | null {
  if (typeof value !== 'string') return null;
  const bracketed = /<([^<>]*)>/u.exec(value);
  if (bracketed) return normalizeMessageId(bracketed[1]);
  const bare = value.trim();
  return /\s/u.test(bare) ? null : normalizeMessageId(bare);
}

/**
 * The ids of an In-Reply-To or References value, in order, duplicates dropped. Bracketed tokens
 * are taken when there are any ("<id> (message from Bob on ...)" is common); otherwise bare
 * tokens that contain "@". Encoded-words are never decoded here: RFC 2047 §5 keeps them out of msg-ids.
 */
export function parseMessageIdList(value: string | null | undefined): string[] {
  if (typeof value !== 'string') return [];
  const ids: string[] = [];
  const seen = new Set<string>();
  const add = (raw: string) => {
    const id = normalizeMessageId(raw);
    if (id !== null && !seen.has(id)) {
      seen.add(id);
      ids.push(id);
    }
  };
  const bracketed = [...value.matchAll(/<([^<>]*)>/gu)];
  if (bracketed.length > 0) for (const m of bracketed) add(m[1]!);
  else for (const token of value.split(/[\s,]+/u)) if (token.includes('@')) add(token);
  return ids;
}

/** At most `max` references: the first (the root) and the most recent `max - 1`. */
export function capReferences(ids: readonly string[], max = MAX_REFERENCES): string[] {
  if (ids.length <= max) return [...ids];
  if (max <= 1) return ids.slice(0, max);
  return [ids[0]!, ...ids.slice(ids.length - (max - 1))];
}

export type ThreadHeaders = {
  messageId: string | null;
  inReplyTo: string | null;
  references: readonly string[];
};

/**
 * Message-IDs to look up, best first, to find the thread a message belongs to: the root (first
 * References id, RFC 5322 §3.6.4), then the parent (In-Reply-To) and the other ancestors from the
 * closest back, and last the message's own id (another copy of it may be stored already).
 * The store takes the thread of the first candidate it has; none found means a new thread.
 */
export function listThreadCandidates(h: ThreadHeaders): string[] {
  const out: string[] = [];
  const push = (id: string | null | undefined) => {
    if (id && !out.includes(id)) out.push(id);
  };
  push(h.references[0]);
  push(h.inReplyTo);
  for (let i = h.references.length - 1; i >= 1; i--) push(h.references[i]);
  push(h.messageId);
  return out;
}

/**
 * The id that names a message's thread when no stored message says otherwise: the References
 * root, else the parent, else the message itself. Null when the message has none of them.
 */
export function getThreadRootId(h: ThreadHeaders): string | null {
  return h.references[0] ?? h.inReplyTo ?? h.messageId ?? null;
}

/**
 * A deterministic UUID for a thread root id (name-based, SHA-1, RFC 9562 §5.5, fixed namespace),
 * so replies that arrive before their parent, in any worker, still agree on one thread id.
 */
export function threadIdFromRootId(rootId: string): string {
  const NAMESPACE = Buffer.from('3f0d6c1e9a4b4c6e8d2a7b5e1c9f0a42', 'hex');
  const bytes = createHash('sha1').update(NAMESPACE).update(rootId, 'utf8').digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
