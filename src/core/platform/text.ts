// Makes decoded mail text safe to store and to put on one line: PostgreSQL text rejects U+0000 and
// invalid UTF-16, header values must never carry line breaks (reply-path header injection). And the one
// HTML escape for text we put into markup ourselves (mail templates, signatures, the plain-text viewer).

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/gu;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const BODY_CONTROLS = /[\u0000-\u0008\u000b\u000e-\u001f\u007f]/gu;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const LINE_CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/gu;
// Bidi embeddings/overrides/isolates: an unterminated RLO in a subject or name reverses the rest of
// the line it is shown in (list rows, notification mails). Implicit bidi (Arabic, Hebrew text) needs none.
const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069]/gu;

/** Replaces unpaired UTF-16 surrogates with U+FFFD (String.prototype.toWellFormed, ES2024). */
export function toWellFormed(s: string): string {
  return s.replace(LONE_SURROGATE, '\ufffd');
}

/**
 * Body text (plain text or HTML source) fit for a text column: NUL and other C0 controls removed
 * except TAB, LF, CR and FF, lone surrogates replaced. Line structure is kept.
 */
export function cleanBodyText(s: string): string {
  return toWellFormed(s.replace(BODY_CONTROLS, ''));
}

/**
 * A single-line header value (subject, display name): line breaks and tabs become spaces, every other
 * control character and bidi override/isolate is removed, runs of spaces collapse, ends are trimmed.
 * What remains can be put into an outgoing header or a list row without changing its structure.
 */
export function cleanHeaderText(s: string): string {
  return toWellFormed(s)
    .replace(/[\r\n\t\u0085\u2028\u2029]+/gu, ' ')
    .replace(LINE_CONTROLS, '')
    .replace(BIDI_CONTROLS, '')
    .replace(/ {2,}/gu, ' ')
    .trim();
}

/** Text as HTML character data or a quoted attribute value (either quote style). */
export function escapeHtml(s: string): string {
  return s.replace(/&/gu, '&amp;').replace(/</gu, '&lt;').replace(/>/gu, '&gt;').replace(/"/gu, '&quot;').replace(/'/gu, '&#39;');
}
