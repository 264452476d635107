// Turns an attachment name taken from a message into one safe to show, store and offer as a download.
// It is only ever a label: storage is by content hash, so nothing may build a file path from a name.
import { toWellFormed } from './text.ts';

/** Longest name we keep, in UTF-8 bytes: under the 255-byte limit of common file systems with room for " (2)". */
export const MAX_FILENAME_BYTES = 200;
/** An extension longer than this is treated as part of the name when truncating. */
const MAX_EXTENSION_BYTES = 16;

// C0/C1 controls and DEL (CR/LF would inject headers into Content-Disposition; ESC drives terminals).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/gu;
// Characters that change how the rest of the name is displayed or hide in it: bidi embeddings,
// overrides, isolates and marks ("gpj.exe" shown as "exe.jpg"), zero-width characters, BOM,
// soft hyphen, interlinear annotation, Mongolian vowel separator.
const INVISIBLE = /[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]/gu;
// Path separators, including look-alikes that NFKC folds to "/" or "\" (fullwidth solidus,
// division and fraction slash, big solidus), so no later normalisation can turn them into one.
const SEPARATOR = /[/\\\u2044\u2215\u29f5\u29f8\u29f9\uff0f\uff3c]/u;
// Characters Windows forbids in names; ":" also blocks NTFS alternate data streams ("a.txt:evil").
const WINDOWS_FORBIDDEN = /[<>:"|?*]/gu;
// Device names Windows opens instead of a file, with or without an extension (CON, CON.txt, COM¹).
const WINDOWS_RESERVED = /^(?:con|prn|aux|nul|conin\$|conout\$|com[0-9¹²³]|lpt[0-9¹²³])(?:\.|$)/iu;

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** Cuts s to at most maxBytes of UTF-8 without splitting a character (or a grapheme cluster). */
function truncateBytes(s: string, maxBytes: number): string {
  if (Buffer.byteLength(s, 'utf8') <= maxBytes) return s;
  let out = '';
  let used = 0;
  for (const { segment } of segmenter.segment(s)) {
    const n = Buffer.byteLength(segment, 'utf8');
    if (used + n > maxBytes) break;
    out += segment;
    used += n;
  }
  return out;
}

function clean(name: string): string {
  let s = name.normalize('NFC').replace(CONTROL, '').replace(INVISIBLE, '');
  s = toWellFormed(s);
  // Keep only the last path component: "C:\Users\bob\invoice.pdf" and "../../etc/passwd" both
  // name a file, and the file's own name is what the user wants to see.
  const parts = s.split(SEPARATOR).filter((p: string) => p.trim().length > 0);
  s = parts.length > 0 ? parts[parts.length - 1]! : '';
  s = s.replace(WINDOWS_FORBIDDEN, '_');
  // Runs of blanks become one space, so padding cannot push the real extension out of view
  // ("invoice.pdf<60 spaces>.exe").
  s = s.replace(/\s+/gu, ' ');
  // Windows drops trailing dots and spaces; leading dots hide the file on Unix and form "." / "..".
  s = s.replace(/^[\s.]+/u, '').replace(/[\s.]+$/u, '');
  if (WINDOWS_RESERVED.test(s)) s = `_${s}`;
  if (Buffer.byteLength(s, 'utf8') > MAX_FILENAME_BYTES) {
    const dot = s.lastIndexOf('.');
    const ext = dot > 0 ? s.slice(dot) : '';
    if (ext.length > 1 && Buffer.byteLength(ext, 'utf8') <= MAX_EXTENSION_BYTES && !/\s/u.test(ext)) {
      s = truncateBytes(s.slice(0, dot), MAX_FILENAME_BYTES - Buffer.byteLength(ext, 'utf8')).replace(/[\s.]+$/u, '') + ext;
    } else {
      s = truncateBytes(s, MAX_FILENAME_BYTES).replace(/[\s.]+$/u, '');
    }
  }
  return s;
}

/**
 * A display and download name derived from an untrusted attachment name: the last path component
 * only, no control, bidi or zero-width characters, no characters Windows forbids, no Windows
 * device name, no leading or trailing dots/spaces, NFC-normalised, at most 200 UTF-8 bytes with
 * the extension kept. Returns the (equally cleaned) fallback, or "attachment", when nothing is left.
 * Two different inputs can give the same result: callers that need unique names add a suffix.
 */
export function sanitizeFilename(name: string | null | undefined, fallback = 'attachment'): string {
  const cleaned = typeof name === 'string' ? clean(name) : '';
  if (cleaned.length > 0) return cleaned;
  const fb = clean(fallback);
  return fb.length > 0 ? fb : 'attachment';
}
