// The dedupe key of a message: Message-ID plus a hash over its content-defining parts. Copies of one
// message in several mailboxes (a private INBOX and info@, INBOX and Sent) differ only in trace
// headers that servers add on delivery, so those are left out; two different messages that merely
// share a Message-ID (broken or hostile senders) differ in content and get different keys. Pure.
import { createHash, type Hash } from 'node:crypto';
import { parseMessageIdField } from './threading.ts';

/**
 * Header fields that define a message (RFC 5322 §3.6 originator, destination, identification and
 * informational fields, plus the MIME fields that decide how the body is read). Trace fields
 * (Received, Return-Path, Delivered-To, RFC 5322 §3.6.7), authentication results, spam scores and
 * status flags a server stores in the header are added per delivery and are not in this list. Bcc
 * is left out too: the sender's Sent copy carries it, the recipients' copies do not.
 */
const CONTENT_FIELDS = new Set([
  'from', 'sender', 'reply-to', 'to', 'cc', 'subject', 'date', 'message-id', 'in-reply-to', 'references',
  'mime-version', 'content-type', 'content-transfer-encoding', 'content-disposition',
]);

/** A header block larger than this is not a real header: the rest is hashed as body. */
const MAX_HEADER_BYTES = 1024 * 1024;

export type DedupeHasher = {
  update(chunk: Buffer): void;
  /** The content hash (hex); call once, after the last chunk. */
  digest(): string;
  /** The first Message-ID field's raw value, once the header has been seen (null when absent). */
  messageIdField(): string | null;
};

/** Streams a raw message (any chunking) into its content hash. */
export function createContentHasher(): DedupeHasher {
  const hash = createHash('sha256').update('dossier-content-v1\n');
  let header: Buffer[] | null = [];
  let headerBytes = 0;
  // Trailing whitespace at the end of the body is held back: servers differ in the final newline.
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let messageId: string | null = null;
  const headerDone = (raw: Buffer) => {
    const h = canonicalHeader(raw);
    messageId = h.messageId;
    hash.update(h.canonical);
    hash.update('\n\n');
  };

  const body = (chunk: Buffer) => {
    const data = stripCR(chunk);
    let last = data.length - 1;
    while (last >= 0 && isWs(data[last]!)) last--;
    if (last < 0) {
      pending.push(data);
      pendingBytes += data.length;
      if (pendingBytes > MAX_HEADER_BYTES) {
        // A body of megabytes of blank lines: stop holding it back (memory beats the final-newline nicety).
        flushPending(hash, pending);
        pending = [];
        pendingBytes = 0;
      }
      return;
    }
    flushPending(hash, pending);
    hash.update(data.subarray(0, last + 1));
    pending = [data.subarray(last + 1)];
    pendingBytes = data.length - last - 1;
  };

  return {
    update(chunk) {
      if (!header) return body(chunk);
      header.push(chunk);
      headerBytes += chunk.length;
      const joined = Buffer.concat(header);
      const end = findHeaderEnd(joined);
      if (end === null && headerBytes <= MAX_HEADER_BYTES) {
        header = [joined];
        return;
      }
      header = null;
      if (end === null) {
        hash.update('\n\n');
        return body(joined);
      }
      headerDone(joined.subarray(0, end.headerEnd));
      body(joined.subarray(end.bodyStart));
    },
    digest() {
      if (header) {
        // Header only (no blank line): the whole message is the header.
        headerDone(Buffer.concat(header));
      }
      return hash.digest('hex');
    },
    messageIdField: () => messageId,
  };
}

/** The stored dedupe key: the Message-ID (normalised, or empty) together with the content hash. */
export function dedupeKey(messageId: string | null, contentHash: string): string {
  return createHash('sha256').update(`${messageId ?? ''}\n${contentHash}`).digest('hex');
}

/** Dedupe key and Message-ID of a finished hasher. */
export function finishDedupe(h: DedupeHasher): { dedupeHash: string; messageId: string | null } {
  const contentHash = h.digest();
  const messageId = parseMessageIdField(h.messageIdField());
  return { dedupeHash: dedupeKey(messageId, contentHash), messageId };
}

/** Dedupe key and Message-ID of a whole raw message in memory. */
export function dedupeOf(raw: Buffer): { dedupeHash: string; messageId: string | null } {
  const h = createContentHasher();
  h.update(raw);
  return finishDedupe(h);
}

function flushPending(hash: Hash, pending: Buffer[]) {
  for (const p of pending) hash.update(p);
}

const isWs = (b: number) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;

/** Removes every CR. Copies the runs between CRs (native indexOf/copy): a byte loop ran at ~40 MB/s on
 *  the sync's main thread, the largest CPU cost of storing mail. */
function stripCR(chunk: Buffer): Buffer {
  let cr = chunk.indexOf(0x0d);
  if (cr < 0) return chunk;
  const out = Buffer.allocUnsafe(chunk.length);
  let n = 0;
  let start = 0;
  while (cr >= 0) {
    n += chunk.copy(out, n, start, cr);
    start = cr + 1;
    cr = chunk.indexOf(0x0d, start);
  }
  n += chunk.copy(out, n, start);
  return out.subarray(0, n);
}

/** Where the header ends (RFC 5322 §2.1: the first empty line), accepting bare LF line ends. */
function findHeaderEnd(buf: Buffer): { headerEnd: number; bodyStart: number } | null {
  if (buf.length >= 2 && buf[0] === 0x0d && buf[1] === 0x0a) return { headerEnd: 0, bodyStart: 2 };
  if (buf.length >= 1 && buf[0] === 0x0a) return { headerEnd: 0, bodyStart: 1 };
  for (let i = 0; i < buf.length - 1; i++) {
    if (buf[i] !== 0x0a) continue;
    if (buf[i + 1] === 0x0a) return { headerEnd: i + 1, bodyStart: i + 2 };
    if (buf[i + 1] === 0x0d && buf[i + 2] === 0x0a) return { headerEnd: i + 1, bodyStart: i + 3 };
  }
  return null;
}

/** The content fields in order, unfolded (RFC 5322 §2.2.3), whitespace runs collapsed, names lowercased. */
function canonicalHeader(raw: Buffer): { canonical: string; messageId: string | null } {
  const text = raw.toString('latin1').replace(/\r/g, '');
  const fields: string[] = [];
  for (const line of text.split('\n')) {
    if (/^[ \t]/.test(line) && fields.length) fields[fields.length - 1] += ` ${line}`;
    else if (line) fields.push(line);
  }
  const out: string[] = [];
  let messageId: string | null = null;
  for (const f of fields) {
    const colon = f.indexOf(':');
    if (colon <= 0) continue;
    const name = f.slice(0, colon).trim().toLowerCase();
    if (!CONTENT_FIELDS.has(name)) continue;
    const value = f.slice(colon + 1).replace(/[ \t]+/g, ' ').trim();
    if (name === 'message-id' && messageId === null) messageId = value;
    out.push(`${name}:${value}`);
  }
  return { canonical: out.join('\n'), messageId };
}
