// API contract for clients, contacts, contact addresses, filing preview / add-sender, documents, bulk
// settings, CSV import and the client audit trail. Response schemas list every field returned.
import { Type, type Static } from 'typebox';
import { DateTime, Language, PageQuery, Uuid, page, Nullable } from '../schemas.ts';

const Name = Type.String({ minLength: 1, maxLength: 200 });
const Notes = Type.String({ maxLength: 20000 });
const TaxId = Type.Union([Type.String({ maxLength: 64 }), Type.Null()]);
const NotifyCategory = Type.Union([Type.Literal('documents'), Type.Literal('file_requests'), Type.Literal('reminders'), Type.Literal('messages')]);
const Toggle = Type.Union([Type.Literal('enable'), Type.Literal('disable')]);
const Ref = Type.Object({ id: Uuid, name: Type.String() });

export const ListQuery = Type.Object({ q: Type.Optional(Type.String({ maxLength: 200 })), ...PageQuery }, { additionalProperties: false });
export type ListQuery = Static<typeof ListQuery>;
export const PageOnlyQuery = Type.Object({ ...PageQuery }, { additionalProperties: false });
export type PageOnlyQuery = Static<typeof PageOnlyQuery>;

// ---------------------------------------------------------------- clients
/** The responsible staff member (an active user), told of new client mail; null clears it. */
const OwnerId = Type.Optional(Nullable(Uuid));
/** A restricted client is visible to its team (these users) and to admins alone (issue 12). */
const Access = { restricted: Type.Optional(Type.Boolean()), teamUserIds: Type.Optional(Type.Array(Uuid, { maxItems: 200, uniqueItems: true })) };
export const ClientCreate = Type.Object({ name: Name, taxId: Type.Optional(TaxId), notes: Type.Optional(Notes), ownerId: OwnerId, ...Access }, { additionalProperties: false });
export type ClientCreate = Static<typeof ClientCreate>;
export const ClientPatch = Type.Object({ name: Type.Optional(Name), taxId: Type.Optional(TaxId), notes: Type.Optional(Notes), ownerId: OwnerId, ...Access }, { additionalProperties: false });
export type ClientPatch = Static<typeof ClientPatch>;

export const ClientListQuery = Type.Object({ q: Type.Optional(Type.String({ maxLength: 200 })), ownerId: Type.Optional(Uuid), ...PageQuery }, { additionalProperties: false });
export type ClientListQuery = Static<typeof ClientListQuery>;
export const ClientListItem = Type.Object({
  id: Uuid, name: Type.String(), taxId: Nullable(Type.String()), contacts: Type.Integer(), notify: Type.Boolean(), sync: Type.Boolean(), owner: Nullable(Ref),
  restricted: Type.Boolean(),
});
export type ClientListItem = Static<typeof ClientListItem>;
export const ClientPage = page(ClientListItem);

export const ClientView = Type.Object({
  id: Uuid, name: Type.String(), taxId: Nullable(Type.String()), contacts: Type.Integer(), notify: Type.Boolean(), sync: Type.Boolean(), owner: Nullable(Ref),
  restricted: Type.Boolean(), team: Type.Array(Ref),
  notes: Type.String(), createdAt: DateTime, updatedAt: DateTime,
  /** The linked contacts with their addresses (list items carry only the count, `contacts`). */
  contactList: Type.Array(Type.Object({
    id: Uuid, name: Type.String(), role: Nullable(Type.String()),
    emails: Type.Array(Type.Object({ id: Uuid, address: Type.String(), sync: Type.Boolean(), notify: Type.Boolean(), autoSaveAttachments: Type.Boolean() })),
  })),
});
export type ClientView = Static<typeof ClientView>;

export const ClientContactParams = Type.Object({ id: Uuid, contactId: Uuid });
export type ClientContactParams = Static<typeof ClientContactParams>;
export const LinkBody = Type.Object({ role: Type.Optional(Nullable(Type.String({ maxLength: 100 }))) }, { additionalProperties: false });
export type LinkBody = Static<typeof LinkBody>;
export const LinkResult = Type.Object({ created: Type.Boolean(), filed: Type.Integer() });

// ---------------------------------------------------------------- contacts
const EmailSettings = {
  notify: Type.Optional(Type.Boolean()),
  notifyCategories: Type.Optional(Type.Array(NotifyCategory, { maxItems: 10 })),
  sync: Type.Optional(Type.Boolean()),
  autoSaveAttachments: Type.Optional(Type.Boolean()),
  language: Type.Optional(Language),
};
export const ContactEmailCreate = Type.Object({ address: Type.String({ minLength: 3, maxLength: 320 }), ...EmailSettings }, { additionalProperties: false });
export type ContactEmailCreate = Static<typeof ContactEmailCreate>;
export const ContactEmailPatch = Type.Object({ ...EmailSettings }, { additionalProperties: false });
export type ContactEmailPatch = Static<typeof ContactEmailPatch>;
export const ContactCreate = Type.Object({
  name: Name, notes: Type.Optional(Notes),
  emails: Type.Optional(Type.Array(ContactEmailCreate, { maxItems: 50 })),
  clientIds: Type.Optional(Type.Array(Uuid, { maxItems: 100 })),
}, { additionalProperties: false });
export type ContactCreate = Static<typeof ContactCreate>;
export const ContactFiling = Type.Union([Type.Literal('all'), Type.Literal('primary'), Type.Literal('ask')]);
export const ContactPatch = Type.Object({
  name: Type.Optional(Name), notes: Type.Optional(Notes),
  /** Where mail goes when the contact belongs to several clients (issue 15). */
  filing: Type.Optional(ContactFiling), primaryClientId: Type.Optional(Nullable(Uuid)),
}, { additionalProperties: false });
export type ContactPatch = Static<typeof ContactPatch>;

export const ContactEmailView = Type.Object({
  id: Uuid, contactId: Uuid, address: Type.String(), notify: Type.Boolean(), notifyCategories: Type.Array(NotifyCategory), sync: Type.Boolean(),
  autoSaveAttachments: Type.Boolean(), language: Language, createdAt: DateTime, updatedAt: DateTime,
});
export type ContactEmailView = Static<typeof ContactEmailView>;
export const ContactEmailResult = Type.Object({ ...ContactEmailView.properties, filed: Type.Integer() });
export const ContactView = Type.Object({
  id: Uuid, name: Type.String(), notes: Type.String(), emails: Type.Array(ContactEmailView),
  clients: Type.Array(Type.Object({ id: Uuid, name: Type.String(), role: Nullable(Type.String()) })), createdAt: DateTime, updatedAt: DateTime,
  filing: ContactFiling, primaryClientId: Nullable(Uuid),
});
export type ContactView = Static<typeof ContactView>;
export const ContactCreated = Type.Object({ ...ContactView.properties, filed: Type.Integer() });
export const ContactPage = page(Type.Object({ id: Uuid, name: Type.String(), emails: Type.Array(Type.String()), clients: Type.Array(Ref) }));

// ---------------------------------------------------------------- filing
export const FilingPreviewQuery = Type.Object({ address: Type.String({ minLength: 1, maxLength: 320 }), clientId: Type.Optional(Uuid) }, { additionalProperties: false });
export type FilingPreviewQuery = Static<typeof FilingPreviewQuery>;
export const FilingPreview = Type.Object({ address: Type.String(), messages: Type.Integer(), clients: Type.Array(Ref), ownAddress: Type.Boolean() });
export const AddSenderBody = Type.Object({ clientId: Uuid, name: Type.Optional(Name) }, { additionalProperties: false });
export type AddSenderBody = Static<typeof AddSenderBody>;
export const AddSenderResult = Type.Object({ contactId: Uuid, contactCreated: Type.Boolean(), address: Type.String(), clientId: Uuid, filed: Type.Integer() });

// ---------------------------------------------------------------- bulk, import
export const BulkSettingsBody = Type.Object({
  clientIds: Type.Array(Type.String({ maxLength: 100 }), { minItems: 1, maxItems: 1000 }),
  notify: Type.Optional(Toggle), sync: Type.Optional(Toggle), autoSaveAttachments: Type.Optional(Toggle),
  /** Single notification categories on or off; the others stay as they are. */
  notifyCategories: Type.Optional(Type.Object({
    documents: Type.Optional(Toggle), file_requests: Type.Optional(Toggle), reminders: Type.Optional(Toggle), messages: Type.Optional(Toggle),
  }, { additionalProperties: false })),
  dryRun: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });
export type BulkSettingsBody = Static<typeof BulkSettingsBody>;
export const BulkSettingsResult = Type.Object({
  changed: Type.Integer(), unchanged: Type.Integer(), dryRun: Type.Boolean(),
  errors: Type.Array(Type.Object({ clientId: Type.String(), code: Type.String(), message: Type.String() })),
  clients: Type.Array(Type.Object({ clientId: Uuid, changed: Type.Integer(), unchanged: Type.Integer() })),
});
export const BulkOwnerBody = Type.Object({
  clientIds: Type.Array(Type.String({ maxLength: 100 }), { minItems: 1, maxItems: 1000 }), ownerId: Nullable(Uuid),
}, { additionalProperties: false });
export type BulkOwnerBody = Static<typeof BulkOwnerBody>;
export const BulkOwnerResult = Type.Object({
  changed: Type.Integer(), unchanged: Type.Integer(),
  errors: Type.Array(Type.Object({ clientId: Type.String(), code: Type.String(), message: Type.String() })),
});
export const ImportQuery = Type.Object({ dryRun: Type.Optional(Type.Boolean()) }, { additionalProperties: false });
export type ImportQuery = Static<typeof ImportQuery>;
export const ImportResult = Type.Object({
  dryRun: Type.Boolean(), created: Type.Integer(), updated: Type.Integer(), unchanged: Type.Integer(), lines: Type.Integer(),
  errors: Type.Array(Type.Object({ line: Type.Integer(), code: Type.String(), message: Type.String(), field: Type.Optional(Type.String()) })),
  ignoredColumns: Type.Array(Type.String()),
});

// ---------------------------------------------------------------- documents, audit
export const DocumentView = Type.Object({
  id: Uuid, clientId: Uuid, name: Type.String(), category: Nullable(Type.String()), visibleToClient: Type.Boolean(), size: Type.Integer(),
  contentType: Type.String(), sha256: Nullable(Type.String()),
  source: Type.Union([Type.Literal('email'), Type.Literal('upload'), Type.Literal('request')]),
  /** 'too_large': an auto-saved attachment over the size cap, listed so nothing disappears silently; it has no file. */
  status: Type.Union([Type.Literal('saved'), Type.Literal('too_large')]),
  messageId: Nullable(Uuid), createdAt: DateTime, updatedAt: DateTime,
});
export type DocumentView = Static<typeof DocumentView>;
export const DocumentPage = page(DocumentView);
/** GET /api/clients/:id/documents: `visible=true` lists only what the client's contacts may receive (shares offer these). */
export const DocumentPageQuery = Type.Object({ ...PageQuery, visible: Type.Optional(Type.Boolean()) }, { additionalProperties: false });
export type DocumentPageQuery = Static<typeof DocumentPageQuery>;
/** GET /api/clients/:id/visible-documents: the newest visible documents and how many there are. */
export const VisibleDocuments = Type.Object({ items: Type.Array(DocumentView), total: Type.Integer() });
export const DocumentsCreated = Type.Object({ items: Type.Array(DocumentView) });
export const DocumentPatch = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })), category: Type.Optional(Nullable(Type.String({ maxLength: 100 }))),
  visibleToClient: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });
export type DocumentPatch = Static<typeof DocumentPatch>;

export const AttachmentSave = Type.Object({
  clientId: Uuid,
  filename: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  /** A name from the firm's document categories (a new name is added to the list); null or blank: none. */
  category: Type.Optional(Nullable(Type.String({ maxLength: 100 }))),
  visibleToClient: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });
export type AttachmentSave = Static<typeof AttachmentSave>;
/** `created`: false when the client already had these bytes (status 200), true for a new document (201). */
export const AttachmentSaved = Type.Object({ document: DocumentView, created: Type.Boolean() });

export const AuditItem = Type.Object({
  id: Uuid, at: DateTime, actor: Nullable(Ref), action: Type.String(), entityType: Type.String(), entityId: Nullable(Uuid),
  details: Type.Record(Type.String(), Type.Unknown()),
});
export const AuditPage = page(AuditItem);
