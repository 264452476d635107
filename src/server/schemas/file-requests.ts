// API shapes for file requests (answered by email), their preview, the recipient picker, the firm's
// defaults and staff notifications. Form only here: core/collaboration/file-requests.ts applies the business rules.
import { Type, type Static } from 'typebox';
import { FILE_REQUEST_EVENT_KINDS } from '../../core/collaboration/file-request.entity.ts';
import { DateTime, Language, PageQuery, Uuid, page, Nullable } from '../schemas.ts';

const Person = Nullable(Type.Object({ id: Uuid, name: Type.String() }));
export const FileRequestStatus = Type.Union([Type.Literal('open'), Type.Literal('partially_fulfilled'), Type.Literal('fulfilled'), Type.Literal('cancelled')]);
const DueDate = Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' });
const Reminders = Type.Object({
  count: Type.Integer({ minimum: 0, maximum: 10 }),
  intervalDays: Type.Number({ exclusiveMinimum: 0, maximum: 365 }),
}, { additionalProperties: false });

export const FileRequestCreate = Type.Object({
  clientId: Uuid,
  accountId: Type.Optional(Uuid),
  recipients: Type.Array(Type.String({ minLength: 1, maxLength: 320 }), { minItems: 1, maxItems: 20 }),
  subject: Type.String({ minLength: 1, maxLength: 1000 }),
  description: Type.Optional(Type.String({ maxLength: 20_000 })),
  message: Type.Optional(Type.String({ maxLength: 20_000 })),
  items: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 300 }), { maxItems: 50 })),
  documentIds: Type.Optional(Type.Array(Uuid, { maxItems: 20 })),
  dueDate: Type.Optional(Nullable(DueDate)),
  reminders: Type.Optional(Reminders),
}, { additionalProperties: false });
export type FileRequestCreate = Static<typeof FileRequestCreate>;

const Recipient = Type.Object({ id: Uuid, address: Type.String(), name: Nullable(Type.String()), language: Language });
const summaryFields = {
  id: Uuid,
  client: Type.Object({ id: Uuid, name: Type.String() }),
  subject: Type.String(),
  status: FileRequestStatus,
  overdue: Type.Boolean(),
  dueDate: Nullable(Type.String()),
  owner: Person,
  accountId: Nullable(Uuid),
  recipients: Type.Array(Recipient),
  documents: Type.Integer(),
  remindersSent: Type.Integer(),
  nextReminderAt: Nullable(DateTime),
  sentAt: Nullable(DateTime),
  fulfilledAt: Nullable(DateTime),
  cancelledAt: Nullable(DateTime),
  createdAt: DateTime,
};
export const FileRequestSummary = Type.Object({ ...summaryFields, items: Type.Object({ total: Type.Integer(), fulfilled: Type.Integer() }) });
export const FileRequestPage = page(FileRequestSummary);

export const FileRequestEventKind = Type.Union(FILE_REQUEST_EVENT_KINDS.map((k) => Type.Literal(k)));
export type FileRequestEventKindName = (typeof FILE_REQUEST_EVENT_KINDS)[number];
export const FileRequestView = Type.Object({
  ...summaryFields,
  description: Type.String(),
  message: Type.String(),
  attachedDocumentIds: Type.Array(Uuid),
  reminders: Type.Object({ count: Type.Integer(), intervalDays: Type.Number() }),
  items: Type.Array(Type.Object({ id: Uuid, label: Type.String(), fulfilled: Type.Boolean(), fulfilledAt: Nullable(DateTime), documentIds: Type.Array(Uuid) })),
  receivedDocuments: Type.Array(Type.Object({ id: Uuid, name: Type.String(), itemId: Nullable(Uuid), messageId: Nullable(Uuid) })),
  heldForReview: Type.Integer(),
  timeline: Type.Array(Type.Object({
    id: Uuid, kind: FileRequestEventKind, at: DateTime, actor: Person, address: Nullable(Type.String()), messageId: Nullable(Uuid),
    outboxId: Nullable(Uuid), documentIds: Type.Array(Uuid), details: Type.Record(Type.String(), Type.Unknown()),
  })),
});
export const FileRequestCreated = Type.Object({ request: FileRequestView, outboxIds: Type.Array(Uuid) });

export const FileRequestListQuery = Type.Object({
  status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('overdue'), Type.Literal('partially_fulfilled'), Type.Literal('fulfilled'), Type.Literal('cancelled')])),
  clientId: Type.Optional(Uuid),
  ...PageQuery,
}, { additionalProperties: false });
export type FileRequestListQuery = Static<typeof FileRequestListQuery>;

export const ItemParams = Type.Object({ id: Uuid, itemId: Uuid });
export const HeldParams = Type.Object({ id: Uuid, messageId: Uuid });
export const ItemPatch = Type.Object({ fulfilled: Type.Boolean() }, { additionalProperties: false });

export const FileRequestPreview = Type.Object({
  items: Type.Array(Type.Object({
    address: Type.String(), name: Nullable(Type.String()), language: Language, from: Type.String(), replyTo: Type.String(),
    subject: Type.String(), text: Type.String(), html: Type.String(),
  })),
});

export const RecipientChoices = Type.Object({
  items: Type.Array(Type.Object({
    contactEmailId: Uuid, contactId: Uuid, contactName: Type.String(), address: Type.String(), language: Language, eligible: Type.Boolean(),
    reason: Nullable(Type.Union([Type.Literal('notify_off'), Type.Literal('category_off')])),
  })),
});

export const FileRequestSettings = Type.Object({ reminderCount: Type.Integer(), reminderIntervalDays: Type.Number(), acknowledge: Type.Boolean() });
export const FileRequestSettingsPatch = Type.Object({
  reminderCount: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 })),
  reminderIntervalDays: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 365 })),
  acknowledge: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });
export type FileRequestSettingsPatch = Static<typeof FileRequestSettingsPatch>;

export const NotificationView = Type.Object({
  id: Uuid, kind: Type.String(), title: Type.String(), body: Type.String(), clientId: Nullable(Uuid), fileRequestId: Nullable(Uuid),
  messageId: Nullable(Uuid), readAt: Nullable(DateTime), createdAt: DateTime,
});
export const NotificationList = Type.Object({ items: Type.Array(NotificationView), unread: Type.Integer() });
export const NotificationQuery = Type.Object({ unread: Type.Optional(Type.Boolean()), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })) }, { additionalProperties: false });
