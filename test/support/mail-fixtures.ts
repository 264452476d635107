// Test fixtures for mail: builds well-formed RFC 5322/MIME messages from a few fields, and lists the shared corpora
// (../shared/corpus beside the repo) so tests read them in place; nothing here copies corpus files into the repo.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';

export type Attachment = {
  filename: string;
  content: Buffer | string;
  contentType?: string;
  /** Shown in the body (Content-Disposition: inline) and referable as cid:<cid>. */
  inline?: boolean;
  cid?: string;
};

export type MessageSpec = {
  from?: string;
  to?: string | string[];
  cc?: string | string[];
  subject?: string;
  text?: string;
  html?: string;
  /** Without angle brackets or with; null leaves the header out. Default: a fresh unique one. */
  messageId?: string | null;
  date?: Date;
  inReplyTo?: string;
  references?: string[];
  attachments?: Attachment[];
  /** Extra headers, written as given (ASCII). */
  headers?: Record<string, string>;
};

const CRLF = '\r\n';

/** A fresh Message-ID, in angle brackets. */
export function newMessageId(domain = 'dossier.test'): string {
  return `<${randomBytes(8).toString('hex')}@${domain}>`;
}

function bracket(id: string): string {
  return id.startsWith('<') ? id : `<${id}>`;
}

const nonAscii = /[^\x20-\x7e]/;

/** RFC 2047 encoded-word (UTF-8, base64) when the text is not plain ASCII. */
function encodeWord(text: string): string {
  return nonAscii.test(text) ? `=?UTF-8?B?${Buffer.from(text, 'utf8').toString('base64')}?=` : text;
}

/** "Name <addr>" with a non-ASCII display name encoded; bare addresses pass through. */
function encodeAddress(address: string): string {
  const m = /^\s*(.*?)\s*<([^>]+)>\s*$/.exec(address);
  if (!m) return address.trim();
  const name = m[1] ?? '';
  if (!name) return `<${m[2]}>`;
  const shown = nonAscii.test(name) ? encodeWord(name) : /[(),.:;<>@[\]"\\]/.test(name) ? `"${name.replace(/["\\]/g, '\\$&')}"` : name;
  return `${shown} <${m[2]}>`;
}

function addressList(value: string | string[]): string {
  return (Array.isArray(value) ? value : [value]).map(encodeAddress).join(', ');
}

function base64Lines(data: Buffer): string {
  return (data.toString('base64').match(/.{1,76}/g) ?? []).join(CRLF);
}

function textPart(type: 'plain' | 'html', body: string): string {
  const normalized = body.replace(/\r?\n/g, CRLF);
  if (!nonAscii.test(normalized.replace(/\r\n/g, ''))) {
    return `Content-Type: text/${type}; charset=us-ascii${CRLF}Content-Transfer-Encoding: 7bit${CRLF}${CRLF}${normalized}`;
  }
  return `Content-Type: text/${type}; charset=utf-8${CRLF}Content-Transfer-Encoding: base64${CRLF}${CRLF}${base64Lines(Buffer.from(normalized, 'utf8'))}`;
}

/** filename parameter: quoted when ASCII, RFC 2231 extended form (UTF-8, percent-encoded) otherwise. */
function fileParam(param: 'filename' | 'name', filename: string): string {
  if (!nonAscii.test(filename)) return `${param}="${filename.replace(/["\\]/g, '\\$&')}"`;
  const encoded = [...Buffer.from(filename, 'utf8')]
    .map((b) => (/[A-Za-z0-9._-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`))
    .join('');
  return `${param}*=UTF-8''${encoded}`;
}

function attachmentPart(a: Attachment): string {
  const type = a.contentType ?? 'application/octet-stream';
  const lines = [
    `Content-Type: ${type}; ${fileParam('name', a.filename)}`,
    `Content-Disposition: ${a.inline ? 'inline' : 'attachment'}; ${fileParam('filename', a.filename)}`,
    'Content-Transfer-Encoding: base64',
  ];
  if (a.cid) lines.push(`Content-ID: <${a.cid}>`);
  const data = Buffer.isBuffer(a.content) ? a.content : Buffer.from(a.content, 'utf8');
  return `${lines.join(CRLF)}${CRLF}${CRLF}${base64Lines(data)}`;
}

function multipart(subtype: 'mixed' | 'alternative', parts: string[]): string {
  const boundary = `=_dossier_${randomBytes(6).toString('hex')}`;
  const body = parts.map((p) => `--${boundary}${CRLF}${p}${CRLF}`).join('');
  return `Content-Type: multipart/${subtype}; boundary="${boundary}"${CRLF}${CRLF}${body}--${boundary}--${CRLF}`;
}

/** RFC 5322 date-time, e.g. "Tue, 25 Nov 2025 09:00:00 +0000". */
function mailDate(d: Date): string {
  return d.toUTCString().replace('GMT', '+0000');
}

/**
 * Builds a message with CRLF line ends: text/plain, multipart/alternative when html is given, multipart/mixed when
 * there are attachments. Non-ASCII subjects, names and bodies are encoded (RFC 2047, RFC 2231, base64).
 */
export function buildMessage(spec: MessageSpec = {}): string {
  const headers: string[] = [
    `From: ${addressList(spec.from ?? 'Ann Client <ann@client.test>')}`,
    `To: ${addressList(spec.to ?? 'Firm <firm@dossier.test>')}`,
  ];
  if (spec.cc) headers.push(`Cc: ${addressList(spec.cc)}`);
  headers.push(`Subject: ${encodeWord(spec.subject ?? 'Test message')}`);
  headers.push(`Date: ${mailDate(spec.date ?? new Date())}`);
  if (spec.messageId !== null) headers.push(`Message-ID: ${bracket(spec.messageId ?? newMessageId())}`);
  if (spec.inReplyTo) headers.push(`In-Reply-To: ${bracket(spec.inReplyTo)}`);
  if (spec.references?.length) headers.push(`References: ${spec.references.map(bracket).join(' ')}`);
  for (const [name, value] of Object.entries(spec.headers ?? {})) headers.push(`${name}: ${value}`);
  headers.push('MIME-Version: 1.0');

  const text = spec.text ?? (spec.html === undefined ? 'Hello,\r\n\r\nthis is a test.\r\n' : undefined);
  const bodyParts: string[] = [];
  if (text !== undefined) bodyParts.push(textPart('plain', text));
  if (spec.html !== undefined) bodyParts.push(textPart('html', spec.html));
  let body = bodyParts.length === 1 ? (bodyParts[0] as string) : multipart('alternative', bodyParts);
  if (spec.attachments?.length) body = multipart('mixed', [body, ...spec.attachments.map(attachmentPart)]);
  return `${headers.join(CRLF)}${CRLF}${body}${body.endsWith(CRLF) ? '' : CRLF}`;
}

export type CorpusKind = 'real' | 'hostile';

/** The shared corpus directory beside the repo (`../shared/corpus/<kind>`, as laid out for developers and CI). */
export function corpusDir(kind: CorpusKind): string {
  const dir = path.resolve(import.meta.dirname, '../../../shared/corpus', kind);
  if (!existsSync(dir)) throw new Error(`corpus not found at ${dir}: tests expect ../shared beside the repository`);
  return dir;
}

const notMail = /^(readme|license|copying)|\.(md|js|json|txt\.license)$|^\./i;

/** Every message file of a corpus (recursively; docs and scripts left out), absolute paths in a stable order. */
export async function listCorpus(kind: CorpusKind): Promise<string[]> {
  const root = corpusDir(kind);
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && !notMail.test(e.name))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}
