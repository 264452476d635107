// Parses raw RFC 5322 mail into an IncomingMessage: the only module that imports mailparser.
// Never throws for bad input (unparsable mail comes back as parseStatus 'failed'); it rejects only
// when the source stream or the blob writer fails, which is I/O the caller should retry.
import { MailParser, type AddressObject, type AttachmentStream, type EmailAddress, type HeaderLines, type Headers, type HeaderValue, type MessageText } from 'mailparser';
import iconv from 'iconv-lite';
import { Readable, type Transform } from 'node:stream';
import { finished } from 'node:stream/promises';
import { normalizeAddress } from '../core/mail/addresses.ts';
import { sanitizeFilename } from '../core/platform/filenames.ts';
import { htmlToText } from '../core/mail/html.ts';
import type { HeadersOfInterest, IncomingAttachment, IncomingHeaders, IncomingMessage, MailAddress } from '../core/mail/incoming-message.ts';
import { parseMailDate } from '../core/mail/mail-date.ts';
import { cleanBodyText, cleanHeaderText } from '../core/platform/text.ts';
import { capReferences, parseMessageIdField, parseMessageIdList } from '../core/mail/threading.ts';

/**
 * Receives one attachment's decoded bytes and stores them (content-addressed), resolving with their
 * sha256 and size once the stream is fully read. `BlobStore.put` fits as is.
 */
export type BlobWriter = (content: Readable, info: { filename: string; contentType: string }) => Promise<{ sha256: string; size: number }>;

export type ParseOptions = {
  /** Where attachment bytes go. Without it attachments are hashed and measured, not kept. */
  writeBlob?: BlobWriter;
};

/** Longest text or HTML body kept, in characters; longer bodies are cut and the message is 'partial'. */
export const MAX_BODY_CHARS = 8 * 1024 * 1024;
const MAX_SUBJECT_CHARS = 1000;
const MAX_NAME_CHARS = 500;
const MAX_HEADER_VALUE_CHARS = 998;
/** Bytes kept from the start of a streamed message, to read its header fields if the full parse fails. */
const HEADER_PREFIX_BYTES = 4 * 1024 * 1024;
/** Header-only parsing keeps each address field up to this size (5,000 recipients fit) and the subject up to 64 KiB. */
const MAX_ADDRESS_FIELD_BYTES = 1024 * 1024;
const MAX_SUBJECT_FIELD_BYTES = 64 * 1024;

// mailparser settings for every parse:
// - sha256 checksums: the attachment's blob key, computed while it streams past.
// - ignoreEmbedded: a message/rfc822 part stays one attachment (.eml) instead of being parsed and
//   its HTML merged into ours (nested-rfc822-hostile.eml); it can be parsed on its own when opened.
// - skipTextToHtml/skipTextLinks/skipImageLinks: we use neither textAsHtml (its links included) nor data:
//   URLs for cid: images; rendering every text body as HTML cost a tenth of the parse.
// - maxHtmlLengthToParse: HTML-to-text on a huge HTML part costs seconds; such a part keeps its HTML.
// Body charsets are decoded by mailparser (libmime/iconv-lite, encoding-japanese for ISO-2022-JP);
// invalid bytes become U+FFFD. mailparser refuses UTF-7 (REFUSED_CHARSET: +ADw-script+AD4- becomes
// <script>, a danger only to code that filters for "<" before decoding); BodyParser decodes it.
const PARSER_OPTIONS = {
  checksumAlgo: 'sha256',
  ignoreEmbedded: true,
  skipTextLinks: true,
  skipImageLinks: true,
  skipTextToHtml: true,
  maxHtmlLengthToParse: 2 * 1024 * 1024,
} as const;

/** mailparser's per-part body decoder hook (internal: not in its typings, so declared here). */
type BodyDecoder = { decodeStream(charset: string): Transform };
declare module 'mailparser' {
  interface MailParser {
    getDecoder(): BodyDecoder;
  }
}

// RFC 2152 UTF-7 under the names mailers give it (Outlook: unicode-1-1-utf-7), compared as mailparser does.
const UTF7_CHARSET = /^(?:(?:cs)?unicode11)?utf7$/u;
const isUtf7 = (charset: string) => UTF7_CHARSET.test(charset.toLowerCase().replace(/[^a-z0-9]/gu, ''));

/**
 * mailparser that decodes UTF-7 bodies (iconv-lite's maintained RFC 2152 decoder, streaming, so a
 * shifted sequence split across chunks survives) instead of leaving them as +ADw-...- ASCII: they are
 * then text like any other (searchable, shown as written) and their HTML goes through the same sanitiser
 * as every other part. Every other charset is left to mailparser. Encoded words in header fields stay
 * refused (mailparser decodes those itself).
 */
class BodyParser extends MailParser {
  override getDecoder(): BodyDecoder {
    const own = super.getDecoder();
    return { decodeStream: (charset) => (isUtf7(charset) ? (iconv.decodeStream('utf-7') as Transform) : own.decodeStream(charset)) };
  }
}

const SINGLE_ADDRESS_FIELDS = new Set(['from', 'sender', 'reply-to']);
const LIST_ADDRESS_FIELDS = new Set(['to', 'cc', 'bcc']);
const RAW_FIELDS = new Set(['date', 'message-id', 'in-reply-to', 'references', 'list-id', 'auto-submitted', 'precedence']);

type RawField = { name: string; value: string };

// ---------------------------------------------------------------------------------------------
// Header fields

/** The value of a raw header line (mailparser gives bytes as a latin1 string), unfolded, as UTF-8. */
function rawFieldOf(key: string, line: string): RawField {
  const text = Buffer.from(line, 'latin1').toString('utf8');
  const colon = text.indexOf(':');
  // RFC 5322 §2.2.3: unfolding removes the CRLF, keeps the whitespace after it.
  return { name: key.toLowerCase(), value: (colon < 0 ? '' : text.slice(colon + 1)).replace(/\r?\n(?=[ \t])/gu, '').trim() };
}

function firstValue(fields: readonly RawField[], name: string): string | null {
  return fields.find((f) => f.name === name)?.value ?? null;
}

function cleanValue(s: string | null, max = MAX_HEADER_VALUE_CHARS): string | null {
  if (s === null) return null;
  const v = cleanHeaderText(s).slice(0, max);
  return v.length > 0 ? v : null;
}

function headersOfInterest(fields: readonly RawField[]): HeadersOfInterest {
  const listIdRaw = firstValue(fields, 'list-id');
  // RFC 2919: List-Id: [phrase] <list-label.domain>; the id is the last bracketed token (the
  // phrase may itself contain brackets: "<script>alert(2)</script> <list.attacker.example>").
  const listId = listIdRaw === null ? null : ([...listIdRaw.matchAll(/<([^<>]*)>/gu)].at(-1)?.[1] ?? listIdRaw);
  const token = (s: string | null) => (s === null ? null : cleanValue(s.split(/[;(]/u)[0]!.trim().toLowerCase(), 100));
  return { listId: cleanValue(listId), autoSubmitted: token(firstValue(fields, 'auto-submitted')), precedence: token(firstValue(fields, 'precedence')) };
}

function isAddressObject(v: unknown): v is AddressObject {
  return typeof v === 'object' && v !== null && Array.isArray((v as AddressObject).value);
}

/** Mailboxes of one or more parsed address fields: groups flattened, only the addr-spec is the address. */
function toAddressList(value: HeaderValue | undefined): MailAddress[] {
  const objects = value === undefined ? [] : Array.isArray(value) ? value : [value];
  const out: MailAddress[] = [];
  const seen = new Set<string>();
  const visit = (list: readonly EmailAddress[]) => {
    for (const entry of list) {
      if (entry.group) {
        visit(entry.group);
        continue;
      }
      // The display name is never searched for an address (from-spoof-display-name.eml): an entry
      // without a usable addr-spec is dropped, whatever its name says.
      const address = normalizeAddress(typeof entry.address === 'string' ? entry.address : null);
      if (address === null || seen.has(address)) continue;
      seen.add(address);
      out.push({ address, name: typeof entry.name === 'string' ? cleanHeaderText(entry.name).slice(0, MAX_NAME_CHARS) : '' });
    }
  };
  for (const o of objects) if (isAddressObject(o)) visit(o.value);
  return out;
}

/** IncomingHeaders from mailparser's parsed root headers plus the raw fields we read ourselves. */
function buildHeaders(parsed: Headers | null, fields: readonly RawField[]): IncomingHeaders {
  const get = (k: string) => parsed?.get(k);
  const subject = get('subject');
  // mailparser keeps the first of duplicated single fields (From, Sender, Reply-To, Subject): the one
  // mailsplit and mail clients use. DKIM signs the last one, so a second From (from-duplicate-header)
  // must not win.
  const from = toAddressList(get('from'));
  const sender = toAddressList(get('sender'));
  return {
    // Our own reading of the id fields: mailparser decodes encoded-words inside References, which
    // RFC 2047 §5 forbids and which lets "=?..?=" smuggle CRLF (header-injection-subject.eml).
    messageIdHeader: parseMessageIdField(firstValue(fields, 'message-id')),
    inReplyTo: parseMessageIdList(firstValue(fields, 'in-reply-to'))[0] ?? null,
    references: capReferences(parseMessageIdList(firstValue(fields, 'references'))),
    subject: typeof subject === 'string' ? cleanHeaderText(subject).slice(0, MAX_SUBJECT_CHARS) : '',
    // mailparser turns an unparsable Date into "now"; ours gives null for anything impossible.
    date: parseMailDate(firstValue(fields, 'date')),
    from: from[0] ?? null,
    sender: sender[0] ?? null,
    replyTo: toAddressList(get('reply-to')),
    to: toAddressList(get('to')),
    cc: toAddressList(get('cc')),
    bcc: toAddressList(get('bcc')),
    headers: headersOfInterest(fields),
  };
}

function emptyHeaders(): IncomingHeaders {
  return { messageIdHeader: null, inReplyTo: null, references: [], subject: '', date: null, from: null, sender: null, replyTo: [], to: [], cc: [], bcc: [], headers: { listId: null, autoSubmitted: null, precedence: null } };
}

/** The header block of a raw message: everything before the first empty line (all of it if none). */
function headerBlockOf(raw: Buffer): Buffer {
  if (raw.length === 0 || raw[0] === 0x0a || (raw[0] === 0x0d && raw[1] === 0x0a)) return raw.subarray(0, 0);
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  const ends = [crlf < 0 ? -1 : crlf + 2, lf < 0 ? -1 : lf + 1].filter((i) => i >= 0);
  return ends.length === 0 ? raw : raw.subarray(0, Math.min(...ends));
}

/** Raw header fields (name and folded bytes) of a header block, in order; lines without a name are skipped. */
function splitHeaderBlock(block: Buffer): Array<{ name: string; raw: Buffer }> {
  const fields: Array<{ name: string; raw: Buffer }> = [];
  let start = 0;
  while (start < block.length) {
    // A field runs until a line break that is not followed by folding whitespace.
    let end = start;
    for (;;) {
      const nl = block.indexOf(0x0a, end);
      if (nl < 0) {
        end = block.length;
        break;
      }
      end = nl + 1;
      if (end >= block.length || (block[end] !== 0x20 && block[end] !== 0x09)) break;
    }
    const raw = block.subarray(start, end);
    const colon = raw.indexOf(0x3a);
    const name = colon > 0 ? raw.subarray(0, colon).toString('latin1').trim().toLowerCase() : '';
    if (/^[\x21-\x39\x3b-\x7e]+$/u.test(name)) fields.push({ name, raw });
    start = end;
  }
  return fields;
}

/** Drains a message parser fed `input`, returning root headers and raw lines (attachments discarded). */
function runHeaderParser(input: Buffer): Promise<{ parsed: Headers | null; lines: HeaderLines | null }> {
  return new Promise((resolve, reject) => {
    const parser = new MailParser({ ...PARSER_OPTIONS, checksumAlgo: false, maxHeadSize: 8 * 1024 * 1024 });
    let parsed: Headers | null = null;
    let lines: HeaderLines | null = null;
    parser.on('headers', (h: Headers) => (parsed = h));
    parser.on('headerLines', (l: HeaderLines) => (lines = l));
    parser.on('data', (d: AttachmentStream | MessageText) => {
      if (d.type === 'attachment') {
        d.content.resume();
        d.release?.();
      }
    });
    parser.once('end', () => resolve({ parsed, lines }));
    parser.once('error', reject);
    parser.end(input);
  });
}

/**
 * Header fields only, from the start of a raw message (the full message or just its header block),
 * without decoding any body part: what filing needs, at a fraction of a full parse's cost. Reads only
 * the fields it uses, each capped, so a 1 MiB Subject or 100,000 other fields cannot stop it.
 * Never throws: unreadable input gives empty fields.
 */
export async function parseHeaders(raw: Buffer): Promise<IncomingHeaders> {
  try {
    const kept: Buffer[] = [];
    const rawFields: RawField[] = [];
    const seenSingle = new Set<string>();
    for (const { name, raw: bytes } of splitHeaderBlock(headerBlockOf(raw))) {
      if (RAW_FIELDS.has(name)) {
        if (!rawFields.some((f) => f.name === name)) rawFields.push(rawFieldOf(name, bytes.subarray(0, 256 * 1024).toString('latin1')));
      } else if (name === 'subject' || SINGLE_ADDRESS_FIELDS.has(name)) {
        if (seenSingle.has(name)) continue; // the first of a duplicated field counts, as in a full parse
        seenSingle.add(name);
        kept.push(capField(bytes, name === 'subject' ? MAX_SUBJECT_FIELD_BYTES : MAX_ADDRESS_FIELD_BYTES));
      } else if (LIST_ADDRESS_FIELDS.has(name)) {
        kept.push(capField(bytes, MAX_ADDRESS_FIELD_BYTES));
      }
    }
    kept.push(Buffer.from('\r\n'));
    const { parsed } = await runHeaderParser(Buffer.concat(kept));
    return buildHeaders(parsed, rawFields);
  } catch {
    return emptyHeaders();
  }
}

/** A header field cut to at most max bytes (at a line or comma boundary where possible), ending in CRLF. */
function capField(raw: Buffer, max: number): Buffer {
  let b = raw;
  if (b.length > max) {
    b = b.subarray(0, max);
    const comma = b.lastIndexOf(0x2c);
    if (comma > max / 2) b = b.subarray(0, comma);
  }
  const text = b.toString('latin1').replace(/[\r\n]+$/u, '');
  return Buffer.from(`${text}\r\n`, 'latin1');
}

// ---------------------------------------------------------------------------------------------
// Attachments

const EXTENSIONS: Record<string, string> = {
  'message/rfc822': '.eml', 'text/calendar': '.ics', 'application/ics': '.ics', 'text/plain': '.txt', 'text/html': '.html',
  'text/csv': '.csv', 'application/pdf': '.pdf', 'image/png': '.png', 'image/jpeg': '.jpg', 'image/gif': '.gif',
  'image/webp': '.webp', 'image/svg+xml': '.svg', 'application/zip': '.zip', 'message/delivery-status': '.txt',
  'application/pkcs7-signature': '.p7s', 'application/ms-tnef': '.dat', 'text/rfc822-headers': '.txt',
};

function normalizeContentType(raw: unknown): string {
  // mailparser's types say string, but a broken Content-Type gives `false` (flanker broken-ctype.eml).
  const t = typeof raw === 'string' ? raw.trim().toLowerCase() : '';
  return /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/u.test(t) ? t : 'application/octet-stream';
}

function attachmentName(given: unknown, contentType: string, index: number): string {
  const base = contentType === 'message/rfc822' ? 'message' : contentType === 'text/calendar' ? 'invite' : contentType.startsWith('image/') ? 'image' : 'attachment';
  const fallback = `${base}-${index}${EXTENSIONS[contentType] ?? '.bin'}`;
  let name = sanitizeFilename(typeof given === 'string' ? given : null, fallback);
  // An attached message is offered as a file the user's mail program opens: it needs the .eml.
  if (contentType === 'message/rfc822' && !/\.eml$/iu.test(name)) name = sanitizeFilename(`${name}.eml`, fallback);
  return name;
}

/** Content-IDs the HTML references with cid: URLs (RFC 2392, percent-decoded). */
function referencedCids(html: string | null): Set<string> {
  const out = new Set<string>();
  if (html === null) return out;
  for (const m of html.matchAll(/\bcid:([^\s'"<>)]+)/giu)) {
    try {
      out.add(decodeURIComponent(m[1]!));
    } catch {
      out.add(m[1]!);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The full parse

type PartialAttachment = Omit<IncomingAttachment, 'inline'>;

/**
 * Parses a raw message, streaming attachments to `writeBlob` one at a time as they are decoded (a
 * 30 MiB attachment never sits in memory). Text and HTML bodies are decoded to UTF-8, NUL and other
 * C0 controls removed. Resolves for every input, well-formed or not; a stream source is read to its
 * end even when parsing fails, so a network stream behind it is never left stalled.
 */
export async function parseMessage(source: Readable | Buffer, options: ParseOptions = {}): Promise<IncomingMessage> {
  const parser = new BodyParser(PARSER_OPTIONS);
  let rootHeaders: Headers | null = null;
  let rootLines: HeaderLines | null = null;
  let textPart: MessageText | null = null;
  let ioError: Error | null = null;
  const problems: string[] = [];
  const pending: Array<Promise<PartialAttachment | null>> = [];
  // Part streams still being read: when the parse fails mid-part they never end on their own.
  const active = new Set<Readable>();
  let index = 0;

  // Runs from a stream 'data' handler: nothing in it may throw (an exception there would take the
  // whole worker down), and every path releases the part so the parser can go on.
  const handleAttachment = async (a: AttachmentStream): Promise<PartialAttachment | null> => {
    const contentType = normalizeContentType(a.contentType);
    const filename = attachmentName(a.filename, contentType, ++index);
    // A decoding error inside the part is the message's fault; anything else the writer throws is I/O.
    let partError: Error | null = null;
    a.content.once('error', (err: Error) => (partError = err));
    active.add(a.content);
    let stored = false;
    try {
      if (options.writeBlob && ioError === null) {
        const written = await options.writeBlob(a.content, { filename, contentType });
        await finished(a.content);
        // The blob key must be the hash of exactly the decoded part: a writer that stopped reading
        // early would otherwise file a truncated attachment under a valid-looking key.
        if (written.sha256 !== a.checksum || written.size !== a.size) throw new Error(`blob writer stored ${written.size} bytes (${written.sha256}) of a ${a.size}-byte part (${a.checksum})`);
        stored = true;
      } else {
        a.content.resume();
        await finished(a.content);
      }
    } catch (err) {
      if (partError !== null) {
        problems.push(`attachment ${index} (${filename}) could not be decoded: ${(partError as Error).message}`);
        return null;
      }
      ioError ??= err instanceof Error ? err : new Error(String(err));
      parser.destroy(ioError);
      return null;
    } finally {
      active.delete(a.content);
      a.release?.();
    }
    return {
      filename,
      contentType,
      size: a.size ?? 0,
      sha256: a.checksum ?? '',
      contentId: typeof a.cid === 'string' ? cleanValue(a.cid) : null,
      related: a.related === true,
      disposition: a.contentDisposition === 'inline' ? 'inline' : 'attachment',
      partId: a.partId,
      stored,
    };
  };

  parser.on('headers', (h: Headers) => (rootHeaders = h));
  parser.on('headerLines', (l: HeaderLines) => (rootLines = l));
  parser.on('data', (d: AttachmentStream | MessageText) => {
    if (d.type === 'attachment') pending.push(handleAttachment(d));
    else textPart = d;
  });
  const outcome = new Promise<Error | null>((resolve) => {
    parser.once('end', () => resolve(null));
    // `on`, not `once`: mailparser can report more than one error, and an 'error' without a
    // listener would crash the worker.
    parser.on('error', (err: Error) => resolve(err));
    parser.once('close', () => resolve(ioError ?? new Error('the parser stopped before the end of the message')));
  });

  if (Buffer.isBuffer(source)) {
    parser.end(source);
    return finish(await outcome, source);
  }

  // Keep the first bytes: if the MIME structure defeats the parser, the header fields still count.
  const chunks: Buffer[] = [];
  let kept = 0;
  let sourceFailed = false;
  source.on('data', (chunk: Buffer | string) => {
    if (kept >= HEADER_PREFIX_BYTES) return;
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    chunks.push(b.subarray(0, HEADER_PREFIX_BYTES - kept));
    kept += Math.min(b.length, HEADER_PREFIX_BYTES - kept);
  });
  const sourceDone = finished(source).catch((err: unknown) => {
    sourceFailed = true;
    ioError ??= err instanceof Error ? err : new Error(String(err));
    parser.destroy(ioError);
  });
  source.pipe(parser);
  const parseError = await outcome;
  // After a failure, read and discard the rest so the caller's stream (an IMAP FETCH) completes.
  source.unpipe(parser);
  if (!sourceFailed) source.resume();
  await sourceDone;
  return finish(parseError, Buffer.concat(chunks));

  async function finish(parseError: Error | null, headPrefix: Buffer): Promise<IncomingMessage> {
    if (parseError !== null) for (const content of active) content.destroy(new Error('the message ends inside this part'));
    const settled = await Promise.all(pending);
    if (ioError !== null) throw ioError;

    let headers: IncomingHeaders;
    const lines: HeaderLines = rootLines ?? [];
    const hasFields = lines.some((l) => l.key.length > 0);
    if (rootHeaders !== null && hasFields) headers = buildHeaders(rootHeaders, lines.map((l) => rawFieldOf(l.key, l.line)));
    else if (parseError !== null) headers = await parseHeaders(headPrefix);
    else headers = emptyHeaders();

    if (parseError !== null) {
      // No attachments either: which parts got through before the failure depends on timing, and a
      // failed message is kept whole as its raw source. Blobs already written have no row and are
      // swept like any orphan blob.
      return { ...headers, text: '', html: null, attachments: [], parseStatus: 'failed', parseError: `MIME structure could not be parsed: ${parseError.message}` };
    }

    const part = textPart as MessageText | null;
    let html = typeof part?.html === 'string' ? cleanBodyText(part.html) : null;
    let text = typeof part?.text === 'string' ? cleanBodyText(part.text) : '';
    if (part?.textConversionError) problems.push(`HTML could not be converted to text: ${part.textConversionError.message}`);
    // mailparser renders HTML to text only for a top-level HTML body; HTML inside multipart/mixed
    // with no text part would otherwise leave the message without searchable text.
    if (text.trim().length === 0 && html !== null && !part?.textConversionError) {
      text = cleanBodyText(htmlToText(html.slice(0, PARSER_OPTIONS.maxHtmlLengthToParse)));
    }
    if (html !== null && html.length > MAX_BODY_CHARS) {
      html = html.slice(0, MAX_BODY_CHARS);
      problems.push(`HTML cut at ${MAX_BODY_CHARS} characters`);
    }
    if (text.length > MAX_BODY_CHARS) {
      text = text.slice(0, MAX_BODY_CHARS);
      problems.push(`text cut at ${MAX_BODY_CHARS} characters`);
    }
    const attachments = finalizeAttachments(settled, html);
    if (!hasFields) {
      // Without a header section the parser reads the text as (nameless) header lines; like other
      // parsers (mime4j) we take the whole message as its body instead.
      if (text.trim().length === 0 && html === null && attachments.length === 0) {
        text = cleanBodyText(headPrefix.subarray(0, MAX_BODY_CHARS).toString('utf8')).replace(/\r\n/gu, '\n').trim();
        if (text.length === 0) return { ...headers, text: '', html: null, attachments, parseStatus: 'failed', parseError: 'empty message' };
      }
      problems.push('no header fields: the message is taken as plain text');
    }
    return { ...headers, text, html, attachments, parseStatus: problems.length > 0 ? 'partial' : 'ok', parseError: problems.length > 0 ? problems.join('; ') : null };
  }
}

function finalizeAttachments(settled: ReadonlyArray<PartialAttachment | null>, html: string | null): IncomingAttachment[] {
  const cids = referencedCids(html);
  return settled
    .filter((a): a is PartialAttachment => a !== null)
    .map((a) => ({ ...a, inline: a.contentId !== null && cids.has(a.contentId) }));
}
