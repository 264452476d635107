// API contract for messages (Inbox+), threads, downloads and manual filing. The web app imports the
// static types; response schemas list every field returned (Fastify strips the rest).
import { Type, type Static } from 'typebox';
import { DateTime, PageQuery, Uuid, page } from '../schemas.ts';

const Bool = Type.Union([Type.Literal('true'), Type.Literal('false'), Type.Literal('1'), Type.Literal('0')]);

const ViewFilters = {
  accountId: Type.Optional(Uuid),
  folder: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
  clientId: Type.Optional(Uuid),
  filed: Type.Optional(Bool),
  /** true: mail waiting for staff to choose a client (implies unfiled); false: none of it. */
  ambiguous: Type.Optional(Bool),
  hasAttachments: Type.Optional(Bool),
  reasonId: Type.Optional(Uuid),
  areaId: Type.Optional(Uuid),
  direction: Type.Optional(Type.Union([Type.Literal('inbound'), Type.Literal('outbound')])),
};

export const MessageListQuery = Type.Object({
  ...ViewFilters,
  /** Only messages the caller has not (true) or has (false) read. */
  unread: Type.Optional(Bool),
  /** conversations: one row per thread (its newest message in the view) with threadCount. */
  view: Type.Optional(Type.Union([Type.Literal('messages'), Type.Literal('conversations')])),
  q: Type.Optional(Type.String({ maxLength: 500 })),
  ...PageQuery,
}, { additionalProperties: false });

/** The unread count of a view: the list's filters (no search); counted up to 99, `more` beyond. */
export const UnreadCountQuery = Type.Object(ViewFilters, { additionalProperties: false });
export const UnreadCountResponse = Type.Object({ unread: Type.Integer(), more: Type.Boolean() });
export const ReadBody = Type.Object({ read: Type.Boolean() }, { additionalProperties: false });
export const ReadResponse = Type.Object({ id: Uuid, unread: Type.Boolean() });
export type MessageListQuery = Static<typeof MessageListQuery>;

export const ImagesQuery = Type.Object({
  /** 1 = load remote images (the user clicked "show images"); blocked by default. */
  images: Type.Optional(Bool),
}, { additionalProperties: false });
export type ImagesQuery = Static<typeof ImagesQuery>;

export const DownloadQuery = Type.Object({
  /** 1 = Content-Disposition inline, honoured only for PDF and raster images (the UI preview). */
  inline: Type.Optional(Bool),
  /** A signed link from the body document (its sandboxed frame sends no cookie): user, expiry, signature. */
  u: Type.Optional(Type.String({ format: 'uuid' })),
  exp: Type.Optional(Type.String({ pattern: '^[0-9]{1,12}$' })),
  sig: Type.Optional(Type.String({ maxLength: 100 })),
}, { additionalProperties: false });
export type DownloadQuery = Static<typeof DownloadQuery>;

export const AddressView = Type.Object({ name: Type.Union([Type.String(), Type.Null()]), address: Type.String() });
export const ClientRef = Type.Object({ id: Uuid, name: Type.String() });

export const MessageSummary = Type.Object({
  id: Uuid,
  threadId: Uuid,
  subject: Type.String(),
  from: Type.Union([AddressView, Type.Null()]),
  to: Type.Array(AddressView),
  cc: Type.Array(AddressView),
  date: DateTime,
  snippet: Type.String(),
  hasAttachments: Type.Boolean(),
  direction: Type.Union([Type.Literal('inbound'), Type.Literal('outbound')]),
  clients: Type.Array(ClientRef),
  folders: Type.Array(Type.Object({ accountId: Uuid, path: Type.String() })),
  unread: Type.Boolean(),
  /** Conversations view only: the thread's messages in the view. */
  threadCount: Type.Optional(Type.Integer()),
});
export type MessageSummary = Static<typeof MessageSummary>;

export const AttachmentView = Type.Object({ id: Uuid, filename: Type.String(), contentType: Type.String(), size: Type.Integer(), inline: Type.Boolean() });
export type AttachmentView = Static<typeof AttachmentView>;

const AuthMethodResult = Type.Union(['pass', 'fail', 'none', 'temperror', 'softfail'].map((r) => Type.Literal(r)));
export const MessageAuthenticationView = Type.Object({
  verdict: Type.Union([Type.Literal('pass'), Type.Literal('fail'), Type.Literal('none')]),
  dkim: AuthMethodResult,
  spf: AuthMethodResult,
  dmarc: AuthMethodResult,
  arc: AuthMethodResult,
  trustedAuthservId: Type.Union([Type.String(), Type.Null()]),
});

export const MessageDetail = Type.Object({
  ...MessageSummary.properties,
  messageIdHeader: Type.Union([Type.String(), Type.Null()]),
  inReplyTo: Type.Union([Type.String(), Type.Null()]),
  references: Type.Array(Type.String()),
  text: Type.String(),
  html: Type.Union([Type.String(), Type.Null()]),
  attachments: Type.Array(AttachmentView),
  parseStatus: Type.Union([Type.Literal('ok'), Type.Literal('partial'), Type.Literal('failed')]),
  blockedImages: Type.Integer(),
  receivedAt: Type.Union([DateTime, Type.Null()]),
  /** Sender verification at ingest (issue 12); null for mail stored before it, or not checked. */
  authentication: Type.Union([MessageAuthenticationView, Type.Null()]),
});
export type MessageDetail = Static<typeof MessageDetail>;

export const MessagePage = page(MessageSummary);
export type MessagePage = Static<typeof MessagePage>;
export const ThreadResponse = Type.Object({ items: Type.Array(MessageDetail) });
export type ThreadResponse = Static<typeof ThreadResponse>;

export const ThreadParams = Type.Object({ threadId: Uuid });
export const FileBody = Type.Object({ clientId: Uuid }, { additionalProperties: false });
export const UnfileParams = Type.Object({ id: Uuid, clientId: Uuid });

/** GET /api/messages/ambiguous-count: how many visible messages wait for a client. */
export const AmbiguousCount = Type.Object({ count: Type.Integer() });
