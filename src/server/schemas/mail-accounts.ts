// API contract for mail accounts: create/update bodies (passwords go in, never come out), the account
// view with per-folder counts and sync progress, and the server folder list for the folder picker.
import { Type, type Static } from 'typebox';
import { DateTime, Uuid } from '../schemas.ts';

const Host = Type.String({ minLength: 1, maxLength: 255 });
const Port = Type.Integer({ minimum: 1, maximum: 65535 });
const Username = Type.String({ minLength: 1, maxLength: 320 });
const Password = Type.String({ minLength: 1, maxLength: 1024 });
const Visibility = Type.Union([Type.Literal('private'), Type.Literal('public')]);
const FolderPath = Type.String({ minLength: 1, maxLength: 1000 });

/**
 * `secure`: implicit TLS (993/465). When false, STARTTLS is required unless `allowInsecure` is true
 * (plain text only when explicitly configured, e.g. a server on localhost).
 */
const ServerIn = Type.Object({
  host: Host, port: Port, secure: Type.Boolean(), username: Username, password: Password,
  allowInsecure: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });
const ServerPatch = Type.Object({
  host: Type.Optional(Host), port: Type.Optional(Port), secure: Type.Optional(Type.Boolean()),
  username: Type.Optional(Username), password: Type.Optional(Password), allowInsecure: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });
const ServerOut = Type.Object({ host: Type.String(), port: Type.Integer(), secure: Type.Boolean(), username: Type.String() });

export const MailAccountCreate = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  email: Type.String({ format: 'email', maxLength: 320 }),
  visibility: Visibility,
  imap: ServerIn,
  smtp: ServerIn,
  /** Folders to sync besides INBOX and the \Sent folder (which are always synced). */
  folders: Type.Optional(Type.Array(FolderPath, { maxItems: 200 })),
}, { additionalProperties: false });
export type MailAccountCreate = Static<typeof MailAccountCreate>;

export const MailAccountPatch = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  email: Type.Optional(Type.String({ format: 'email', maxLength: 320 })),
  visibility: Type.Optional(Visibility),
  imap: Type.Optional(ServerPatch),
  smtp: Type.Optional(ServerPatch),
  folders: Type.Optional(Type.Array(FolderPath, { maxItems: 200 })),
}, { additionalProperties: false });
export type MailAccountPatch = Static<typeof MailAccountPatch>;

export const FolderRole = Type.Union([Type.Literal('inbox'), Type.Literal('sent'), Type.Literal('other')]);
export const MailFolderView = Type.Object({
  path: Type.String(),
  role: FolderRole,
  /** Messages in the folder on the server at the last sync. */
  serverMessages: Type.Integer(),
  /** Messages stored for it (parsed or failed). */
  storedMessages: Type.Integer(),
  /** Stored raw because they could not be parsed. */
  failedMessages: Type.Integer(),
  syncedAt: Type.Union([DateTime, Type.Null()]),
});

export const MailAccountView = Type.Object({
  id: Uuid,
  name: Type.String(),
  email: Type.String(),
  visibility: Visibility,
  owner: Type.Object({ id: Uuid, name: Type.String() }),
  status: Type.Union([Type.Literal('syncing'), Type.Literal('idle'), Type.Literal('error'), Type.Literal('needs_reauth')]),
  lastSyncAt: Type.Union([DateTime, Type.Null()]),
  /** The last problem in plain words (cleared by a successful sync). */
  lastError: Type.Union([Type.String(), Type.Null()]),
  folders: Type.Array(MailFolderView),
  /** While a folder's initial (or catch-up) fetch runs: messages done of the total; null otherwise. */
  progress: Type.Union([Type.Object({ done: Type.Integer(), total: Type.Integer() }), Type.Null()]),
  imap: ServerOut,
  smtp: ServerOut,
  /** Folders picked besides INBOX and \Sent. */
  extraFolders: Type.Array(Type.String()),
});
export type MailAccountView = Static<typeof MailAccountView>;

export const ServerFolderView = Type.Object({
  path: Type.String(),
  name: Type.String(),
  /** RFC 6154 special use (\Sent, \Junk, \Trash, ...) or null. */
  specialUse: Type.Union([Type.String(), Type.Null()]),
  /** Synced by default (INBOX and \Sent); Junk and Trash never by default. */
  isDefault: Type.Boolean(),
  /** Synced now (default or picked). */
  selected: Type.Boolean(),
});
export type ServerFolderView = Static<typeof ServerFolderView>;
export const ServerFolderList = Type.Object({ items: Type.Array(ServerFolderView) });
