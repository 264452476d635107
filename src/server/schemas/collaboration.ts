// API shapes for discussions, document shares and the notification bell's extra routes.
// Form only here: core/collaboration/discussions.ts, core/collaboration/shares.ts and core/collaboration/staff-notifications.ts apply the rules.
import { Type, type Static } from 'typebox';
import { DateTime, Language, PageQuery, Uuid, page, Nullable } from '../schemas.ts';

const Person = Nullable(Type.Object({ id: Uuid, name: Type.String() }));

export const DiscussionCreate = Type.Object({
  subject: Type.String({ minLength: 1, maxLength: 1000 }),
  body: Type.String({ minLength: 1, maxLength: 100_000 }),
  contactEmailIds: Type.Array(Uuid, { minItems: 1, maxItems: 30 }),
  accountId: Type.Optional(Uuid),
}, { additionalProperties: false });
export type DiscussionCreate = Static<typeof DiscussionCreate>;

export const CommentCreate = Type.Object({ body: Type.String({ minLength: 1, maxLength: 100_000 }) }, { additionalProperties: false });
export type CommentCreate = Static<typeof CommentCreate>;

const Author = Type.Union([
  Type.Object({ kind: Type.Literal('user'), id: Nullable(Uuid), name: Type.String() }),
  Type.Object({ kind: Type.Literal('contact'), address: Type.String(), name: Nullable(Type.String()) }),
]);
export const CommentView = Type.Object({
  id: Uuid, status: Type.Union([Type.Literal('posted'), Type.Literal('held')]), body: Type.String(), createdAt: DateTime, messageId: Nullable(Uuid), author: Author,
});
export const DiscussionView = Type.Object({
  id: Uuid, clientId: Uuid, subject: Type.String(), language: Language, createdAt: DateTime, updatedAt: DateTime, createdBy: Person,
  participants: Type.Array(Type.Object({ contactEmailId: Nullable(Uuid), address: Type.String(), name: Nullable(Type.String()) })),
  comments: Type.Array(CommentView),
  held: Type.Array(CommentView),
});
export const DiscussionCreated = Type.Object({ discussion: DiscussionView, outboxIds: Type.Array(Uuid) });
export const CommentCreated = Type.Object({ comment: CommentView, outboxIds: Type.Array(Uuid) });
export const DiscussionSummary = Type.Object({
  id: Uuid, subject: Type.String(), createdAt: DateTime, updatedAt: DateTime, createdBy: Person,
  participants: Type.Integer(), comments: Type.Integer(), lastCommentAt: Nullable(DateTime),
});
export const DiscussionPage = page(DiscussionSummary);
export const ContactAddressList = Type.Object({
  items: Type.Array(Type.Object({ contactEmailId: Uuid, contactName: Type.String(), address: Type.String(), language: Language, notify: Type.Boolean(), categories: Type.Array(Type.String()) })),
});
export const ListQuery = Type.Object({ ...PageQuery }, { additionalProperties: false });
export type ListQuery = Static<typeof ListQuery>;

export const ShareCreate = Type.Object({
  documentIds: Type.Array(Uuid, { minItems: 1, maxItems: 20 }),
  contactEmailIds: Type.Array(Uuid, { minItems: 1, maxItems: 20 }),
  expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 90, default: 14 })),
  message: Type.Optional(Type.String({ maxLength: 10_000 })),
  accountId: Type.Optional(Uuid),
}, { additionalProperties: false });
export type ShareCreate = Static<typeof ShareCreate>;
export const ShareCreated = Type.Object({ id: Uuid, expiresAt: DateTime, outboxIds: Type.Array(Uuid) });
export const ShareView = Type.Object({
  id: Uuid, clientId: Uuid, status: Type.Union([Type.Literal('active'), Type.Literal('expired'), Type.Literal('revoked')]), message: Type.String(),
  createdAt: DateTime, expiresAt: DateTime, revokedAt: Nullable(DateTime), createdBy: Person,
  recipients: Type.Array(Type.Object({ id: Uuid, address: Type.String(), name: Nullable(Type.String()), language: Language, downloads: Type.Array(Type.Object({ at: DateTime })) })),
});
export const ShareList = Type.Object({ items: Type.Array(ShareView) });
export const ClientShareView = Type.Object({
  id: Uuid, clientId: Uuid, status: Type.Union([Type.Literal('active'), Type.Literal('expired'), Type.Literal('revoked')]), message: Type.String(),
  createdAt: DateTime, expiresAt: DateTime, revokedAt: Nullable(DateTime), createdBy: Person,
  documents: Type.Array(Type.Object({ id: Uuid, name: Type.String() })),
  recipients: Type.Array(Type.Object({ id: Uuid, address: Type.String(), name: Nullable(Type.String()), language: Language, downloads: Type.Array(Type.Object({ at: DateTime, documentId: Uuid })) })),
});
export const ClientShareList = Type.Object({ items: Type.Array(ClientShareView) });
export const TokenParams = Type.Object({ token: Type.String({ maxLength: 200 }) });

export const NotificationItem = Type.Object({
  id: Uuid, kind: Type.String(), title: Type.String(), body: Type.String(), link: Nullable(Type.String()), clientId: Nullable(Uuid),
  fileRequestId: Nullable(Uuid), messageId: Nullable(Uuid), taskId: Nullable(Uuid), readAt: Nullable(DateTime), createdAt: DateTime,
});
export const NotificationPage = Type.Object({ items: Type.Array(NotificationItem), nextCursor: Nullable(Type.String()), unread: Type.Integer() });
export const NotificationPageQuery = Type.Object({ ...PageQuery, unread: Type.Optional(Type.Boolean()) }, { additionalProperties: false });
export type NotificationPageQuery = Static<typeof NotificationPageQuery>;
export const UnreadCount = Type.Object({ unread: Type.Integer() });
export const ReadAllResult = Type.Object({ marked: Type.Integer(), unread: Type.Integer() });
export const NotificationSettings = Type.Object({ notifyByEmail: Type.Boolean() }, { additionalProperties: false });
export type NotificationSettings = Static<typeof NotificationSettings>;
