// API contract for the communication log, its .xlsx export, and the reasons/areas tag tables.
import { Type, type Static } from 'typebox';
import { DateTime, PageQuery, Uuid, page } from '../schemas.ts';

export const ManualKind = Type.Union([Type.Literal('call'), Type.Literal('visit'), Type.Literal('meeting'), Type.Literal('letter'), Type.Literal('other')]);
export const Kind = Type.Union([Type.Literal('email'), ...ManualKind.anyOf]);
export const Initiator = Type.Union([Type.Literal('client'), Type.Literal('firm')]);
/** A full ISO date-time, or a date (YYYY-MM-DD: the whole UTC day, inclusive at both ends of a range). */
const DateOrDateTime = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:?\\d{2}))?$' });

const filterProps = {
  kind: Type.Optional(Kind),
  reasonId: Type.Optional(Uuid),
  areaId: Type.Optional(Uuid),
  initiatedBy: Type.Optional(Initiator),
  from: Type.Optional(DateOrDateTime),
  to: Type.Optional(DateOrDateTime),
  q: Type.Optional(Type.String({ maxLength: 500 })),
};
export const CommunicationListQuery = Type.Object({ ...filterProps, ...PageQuery }, { additionalProperties: false });
export type CommunicationListQuery = Static<typeof CommunicationListQuery>;
export const CommunicationExportQuery = Type.Object(filterProps, { additionalProperties: false });

/** The firm-wide log (issue 15): every client the caller may see, or one. No full-text `q` (firm-wide search is Inbox+'s). */
const firmFilterProps = {
  from: filterProps.from, to: filterProps.to, reasonId: filterProps.reasonId, areaId: filterProps.areaId, kind: filterProps.kind,
  initiatedBy: filterProps.initiatedBy, clientId: Type.Optional(Uuid),
};
export const FirmCommunicationQuery = Type.Object({ ...firmFilterProps, ...PageQuery }, { additionalProperties: false });
export type FirmCommunicationQuery = Static<typeof FirmCommunicationQuery>;
export const FirmCommunicationExportQuery = Type.Object(firmFilterProps, { additionalProperties: false });
export type FirmCommunicationExportQuery = Static<typeof FirmCommunicationExportQuery>;
export type CommunicationExportQuery = Static<typeof CommunicationExportQuery>;

const Ref = Type.Object({ id: Uuid, name: Type.String() });
const NullableRef = Type.Union([Ref, Type.Null()]);

export const CommunicationView = Type.Object({
  id: Uuid,
  clientId: Uuid,
  client: Ref,
  kind: Kind,
  subject: Type.String(),
  notes: Type.String(),
  occurredAt: DateTime,
  initiatedBy: Initiator,
  reason: NullableRef,
  area: NullableRef,
  author: NullableRef,
  messageId: Type.Optional(Uuid),
  from: Type.Optional(Type.Union([Type.Object({ name: Type.Union([Type.String(), Type.Null()]), address: Type.String() }), Type.Null()])),
  direction: Type.Optional(Type.Union([Type.Literal('inbound'), Type.Literal('outbound')])),
  attachments: Type.Array(Type.Object({ id: Uuid, filename: Type.String(), contentType: Type.String(), size: Type.Integer() })),
  filedBy: Type.Union([Type.Literal('auto'), Type.Literal('manual'), Type.Null()]),
  createdAt: DateTime,
  updatedAt: DateTime,
});
export type CommunicationView = Static<typeof CommunicationView>;
export const CommunicationPage = page(CommunicationView);
export type CommunicationPage = Static<typeof CommunicationPage>;

const Subject = Type.String({ minLength: 1, maxLength: 1000, pattern: '\\S' });
const Notes = Type.String({ maxLength: 100000 });

export const CommunicationCreate = Type.Object({
  kind: ManualKind,
  subject: Subject,
  occurredAt: Type.Optional(DateTime),
  initiatedBy: Type.Optional(Initiator),
  reasonId: Type.Optional(Type.Union([Uuid, Type.Null()])),
  areaId: Type.Optional(Type.Union([Uuid, Type.Null()])),
  notes: Type.Optional(Notes),
}, { additionalProperties: false });
export type CommunicationCreate = Static<typeof CommunicationCreate>;

/** Every field of a manual record; an email record accepts only reasonId and areaId (422 field_not_editable). */
export const CommunicationPatch = Type.Object({
  kind: Type.Optional(ManualKind),
  subject: Type.Optional(Subject),
  occurredAt: Type.Optional(DateTime),
  initiatedBy: Type.Optional(Initiator),
  reasonId: Type.Optional(Type.Union([Uuid, Type.Null()])),
  areaId: Type.Optional(Type.Union([Uuid, Type.Null()])),
  notes: Type.Optional(Notes),
}, { additionalProperties: false });
export type CommunicationPatch = Static<typeof CommunicationPatch>;

export const TagView = Type.Object({ id: Uuid, name: Type.String(), active: Type.Boolean(), createdAt: DateTime });
export type TagView = Static<typeof TagView>;
export const TagList = Type.Object({ items: Type.Array(TagView) });
export const TagListQuery = Type.Object({ includeInactive: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false'), Type.Literal('1'), Type.Literal('0')])) }, { additionalProperties: false });
export const TagCreate = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }), active: Type.Optional(Type.Boolean()) }, { additionalProperties: false });
export type TagCreate = Static<typeof TagCreate>;
export const TagPatch = Type.Object({ name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' })), active: Type.Optional(Type.Boolean()) }, { additionalProperties: false });
export type TagPatch = Static<typeof TagPatch>;
