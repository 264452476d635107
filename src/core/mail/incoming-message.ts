// The shape a parsed message has when it reaches core (storeMessage, fileMessage). Types only:
// src/sync/parse-message.ts builds it, core consumes it, neither needs the other's code.

export type IncomingParseStatus = 'ok' | 'partial' | 'failed';

/** One mailbox: the normalised addr-spec (see core/mail/addresses.ts) and the display name apart. */
export type MailAddress = {
  /** Normalised address; never taken from a display name. */
  address: string;
  /** Display name, decoded, single line, no control or bidi-override characters; '' when none. */
  name: string;
};

/** Header fields that mark automated or list mail (no notifications, never auto-replies). */
export type HeadersOfInterest = {
  /** List-Id identifier without angle brackets (RFC 2919), e.g. "news.lists.example.com". */
  listId: string | null;
  /** Auto-Submitted value, lowercased (RFC 3834: "no", "auto-generated", "auto-replied", ...). */
  autoSubmitted: string | null;
  /** Precedence value, lowercased ("bulk", "list", "junk"). */
  precedence: string | null;
};

/** Everything the header block says; all a filing decision needs. */
export type IncomingHeaders = {
  /** Message-ID without angle brackets; null when absent or not a usable id. */
  messageIdHeader: string | null;
  /** First id of In-Reply-To, without brackets. */
  inReplyTo: string | null;
  /** References ids in order, duplicates removed, capped (root + most recent; core/mail/threading.ts). */
  references: string[];
  /** Decoded subject on one line; '' when absent. */
  subject: string;
  /** Date header when it names a possible date in 1970..9999; null means use INTERNALDATE. */
  date: Date | null;
  /** First usable mailbox of the first From field (a second From field is ignored). */
  from: MailAddress | null;
  sender: MailAddress | null;
  replyTo: MailAddress[];
  /** Recipients with groups flattened, invalid addresses dropped, duplicates (same address) merged. */
  to: MailAddress[];
  cc: MailAddress[];
  bcc: MailAddress[];
  headers: HeadersOfInterest;
};

export type IncomingAttachment = {
  /** Sanitised display/download name (core/platform/filenames.ts), never empty. */
  filename: string;
  /** Lowercased MIME type as declared (or detected from the name for octet-stream); never trusted for serving. */
  contentType: string;
  /** Decoded size in bytes. */
  size: number;
  /** Hex sha256 of the decoded content: the blob key. */
  sha256: string;
  /** Content-ID without angle brackets, if the part has one. */
  contentId: string | null;
  /** Shown in the body: the HTML references it with cid:. Hidden from the attachment list. */
  inline: boolean;
  /** Has a Content-ID inside multipart/related (an embedded resource of the HTML). */
  related: boolean;
  /** Content-Disposition as declared ('inline' or 'attachment'). */
  disposition: 'inline' | 'attachment';
  /** IMAP-style part number ("1.2"), null for a single-part message. */
  partId: string | null;
  /** True when the content was handed to the blob writer (false when parsing without one). */
  stored: boolean;
};

export type IncomingMessage = IncomingHeaders & {
  /** Plain text; a text rendering of the HTML when there is no text part; '' when none. */
  text: string;
  /** HTML as received, decoded to UTF-8 (NUL and C0 controls removed) and never sanitised here. */
  html: string | null;
  /** Attachments, inline parts and attached messages (message/rfc822 kept whole, as .eml). */
  attachments: IncomingAttachment[];
  /**
   * ok: fully parsed. partial: parsed, but something was lost (reason in parseError).
   * failed: the MIME structure could not be parsed; header fields are filled as far as they could
   * be read, text/html are empty, the raw source is what the caller must keep.
   */
  parseStatus: IncomingParseStatus;
  parseError: string | null;
};

/** One authentication method's outcome, as RFC 8601 names results (fail also stands for neutral, policy and permerror). */
export type AuthMethodResult = 'pass' | 'fail' | 'none' | 'temperror' | 'softfail';

/**
 * Whether the sender in From is who the mail says (issue 12): DKIM and ARC checked by the sync itself,
 * SPF and DMARC as the firm's own receiving hosts recorded them (trusted Authentication-Results), DMARC
 * also from our own DKIM check. verdict pass: an aligned DKIM signature or a DMARC pass vouches for the
 * From domain; fail: a check failed (a broken signature, a DMARC fail); none: nothing says either way.
 */
export type MessageAuthentication = {
  verdict: 'pass' | 'fail' | 'none';
  dkim: AuthMethodResult;
  spf: AuthMethodResult;
  dmarc: AuthMethodResult;
  arc: AuthMethodResult;
  /** The authserv-id of the trusted Authentication-Results used, if any. */
  trustedAuthservId: string | null;
};
