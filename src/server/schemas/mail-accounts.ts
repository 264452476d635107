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
const ServerOut = Type.Object({ host: Type.String(), port: Type.Integer(), secure: Type.Boolean(), username: Type.String(), allowInsecure: Type.Boolean() });
export const OAuthProvider = Type.Union([Type.Literal('microsoft'), Type.Literal('google')]);

export const MailAccountCreate = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  email: Type.String({ format: 'email', maxLength: 320 }),
  visibility: Visibility,
  imap: ServerIn,
  /** Omitted or null: receive-only (an archive, or a mailbox whose mail is sent elsewhere). */
  smtp: Type.Optional(Type.Union([ServerIn, Type.Null()])),
  /** Folders to sync besides INBOX and the \Sent folder (which are always synced). */
  folders: Type.Optional(Type.Array(FolderPath, { maxItems: 200 })),
}, { additionalProperties: false });
export type MailAccountCreate = Static<typeof MailAccountCreate>;

/** Microsoft's app-only access (client credentials) to a mailbox, shared with everyone: admins only. */
export const MailAccountAppCreate = Type.Object({
  auth: Type.Literal('oauth2-app'),
  provider: Type.Literal('microsoft'),
  name: Type.String({ minLength: 1, maxLength: 200 }),
  email: Type.String({ format: 'email', maxLength: 320 }),
  visibility: Type.Literal('public'),
  folders: Type.Optional(Type.Array(FolderPath, { maxItems: 200 })),
}, { additionalProperties: false });
export type MailAccountAppCreate = Static<typeof MailAccountAppCreate>;

export const OAuthStart = Type.Object({
  provider: OAuthProvider,
  visibility: Visibility,
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  /** A shared mailbox to open with the signed-in user's token (Microsoft delegated access). */
  mailbox: Type.Optional(Type.String({ format: 'email', maxLength: 320 })),
}, { additionalProperties: false });
export type OAuthStart = Static<typeof OAuthStart>;
export const AuthorizeUrl = Type.Object({ authorizeUrl: Type.String() });
export const OAuthProviderList = Type.Object({
  items: Type.Array(Type.Object({ id: OAuthProvider, name: Type.String(), configured: Type.Boolean() })),
});
export const OAuthCallbackQuery = Type.Object({
  code: Type.Optional(Type.String({ maxLength: 4096 })),
  state: Type.Optional(Type.String({ maxLength: 512 })),
  error: Type.Optional(Type.String({ maxLength: 200 })),
  error_description: Type.Optional(Type.String({ maxLength: 2000 })),
}, { additionalProperties: true });

export const MailAccountPatch = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  email: Type.Optional(Type.String({ format: 'email', maxLength: 320 })),
  visibility: Type.Optional(Visibility),
  imap: Type.Optional(ServerPatch),
  /** null: make the account receive-only. */
  smtp: Type.Optional(Type.Union([ServerPatch, Type.Null()])),
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
  /** null: receive-only, replies from it are refused. */
  smtp: Type.Union([ServerOut, Type.Null()]),
  auth: Type.Union([Type.Literal('password'), Type.Literal('oauth2'), Type.Literal('oauth2-app')]),
  provider: Type.Union([OAuthProvider, Type.Null()]),
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
