// API shapes for sending: replies, new messages and forwards, and the outbox rows that track them.
// Addresses are checked here for form; line breaks in header fields are refused by core/outbox/outbox.ts
// (400 naming the field), so the rule holds for every caller, not only this API.
import { Type, type Static } from 'typebox';
import { DateTime, PageQuery, Uuid, page } from '../schemas.ts';

// Form only: core/outbox/outbox.ts decides what is an address we can send to (and names the field when not).
const Address = Type.String({ minLength: 1, maxLength: 320 });
/** A recipient: "a@b.example" or {name, address}. */
export const Recipient = Type.Union([
  Address,
  Type.Object({ name: Type.Optional(Type.String({ maxLength: 200 })), address: Address }, { additionalProperties: false }),
]);
const Recipients = Type.Array(Recipient, { maxItems: 100 });
const DocumentIds = Type.Array(Uuid, { maxItems: 20 });
const Body = { text: Type.Optional(Type.String({ maxLength: 2_000_000 })), html: Type.Optional(Type.String({ maxLength: 2_000_000 })) };

export const ReplyBody = Type.Object({
  accountId: Type.Optional(Uuid),
  ...Body,
  replyAll: Type.Optional(Type.Boolean()),
  documentIds: Type.Optional(DocumentIds),
}, { additionalProperties: false });
export type ReplyBody = Static<typeof ReplyBody>;

export const OutboxCreate = Type.Object({
  accountId: Uuid,
  to: Type.Array(Recipient, { minItems: 1, maxItems: 100 }),
  cc: Type.Optional(Recipients),
  bcc: Type.Optional(Recipients),
  subject: Type.String({ maxLength: 500 }),
  ...Body,
  clientId: Type.Optional(Uuid),
  documentIds: Type.Optional(DocumentIds),
  /** Forward this message: it goes along unchanged as a message/rfc822 attachment. */
  forwardMessageId: Type.Optional(Uuid),
}, { additionalProperties: false });
export type OutboxCreate = Static<typeof OutboxCreate>;

export const OutboxStatus = Type.Union([Type.Literal('queued'), Type.Literal('sending'), Type.Literal('sent'), Type.Literal('failed')]);
const OutboxAddress = Type.Object({ name: Type.Optional(Type.String()), address: Type.String() });

export const OutboxView = Type.Object({
  id: Uuid,
  kind: Type.String(),
  status: OutboxStatus,
  /** Why it failed (the server's own words), a retry in progress, or a problem after sending. */
  error: Type.Optional(Type.String()),
  /** The Message-ID header Dossier gave the message, with angle brackets. */
  messageId: Type.String(),
  accountId: Uuid,
  subject: Type.String(),
  to: Type.Array(OutboxAddress),
  cc: Type.Array(OutboxAddress),
  bcc: Type.Array(OutboxAddress),
  replyToMessageId: Type.Union([Uuid, Type.Null()]),
  clientId: Type.Union([Uuid, Type.Null()]),
  attempts: Type.Integer(),
  createdAt: DateTime,
  sentAt: Type.Union([DateTime, Type.Null()]),
});
export type OutboxView = Static<typeof OutboxView>;

export const OutboxQueued = Type.Object({ outboxId: Uuid });
export type OutboxQueued = Static<typeof OutboxQueued>;
export const OutboxListQuery = Type.Object({ status: Type.Optional(OutboxStatus), ...PageQuery }, { additionalProperties: false });
export type OutboxListQuery = Static<typeof OutboxListQuery>;
export const OutboxPage = page(OutboxView);
