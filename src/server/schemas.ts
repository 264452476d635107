// The API contract's shared shapes (TypeBox → JSON Schema → validation and OpenAPI). The web app
// imports the static types from here; area-specific schemas live in schemas/*.ts.
import { Type, type Static } from 'typebox';

export const Uuid = Type.String({ format: 'uuid' });
export const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
export const DateTime = Type.String({ format: 'date-time' });
export const Email = Type.String({ format: 'email', maxLength: 320 });
export const IdParams = Type.Object({ id: Uuid });
export const Language = Type.Union([Type.Literal('en'), Type.Literal('es'), Type.Literal('nl')]);
export const Role = Type.Union([Type.Literal('admin'), Type.Literal('staff')]);

export const ErrorResponse = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String(), field: Type.Optional(Type.String()) }),
});

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 500 })),
};
export const page = <T extends Parameters<typeof Type.Array>[0]>(item: T) =>
  Type.Object({ items: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) });

/** How a client owner hears of new mail filed to their clients (issue 15): 'email' is the bell plus a digest at most every 15 minutes. */
export const ClientMailNotice = Type.Union([Type.Literal('off'), Type.Literal('bell'), Type.Literal('email')]);
export const UserView = Type.Object({
  id: Uuid, email: Type.String(), name: Type.String(), role: Role, language: Language, signature: Type.String(), active: Type.Boolean(), totpEnabled: Type.Boolean(),
  clientMailNotice: ClientMailNotice, createdAt: DateTime,
});
export type UserView = Static<typeof UserView>;
/** totpEnrolmentRequired: the firm requires two-step sign-in and this session may only enrol (issue 12). */
export const SessionResponse = Type.Object({ user: UserView, csrfToken: Type.String(), totpEnrolmentRequired: Type.Boolean() });
export type SessionResponse = Static<typeof SessionResponse>;

export const LoginBody = Type.Object({
  email: Type.String({ minLength: 1, maxLength: 320 }), password: Type.String({ minLength: 1, maxLength: 1024 }),
  /** A code from the authenticator app or a recovery code, when the user has two-step sign-in on. */
  totp: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
}, { additionalProperties: false });
export const TotpStart = Type.Object({ secret: Type.String(), otpauthUrl: Type.String() });
export const TotpConfirm = Type.Object({ code: Type.String({ minLength: 1, maxLength: 20 }) }, { additionalProperties: false });
export const TotpDisable = Type.Object({ currentPassword: Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false });
export const SecuritySettings = Type.Object({ requireTotp: Type.Boolean() });
export const SecuritySettingsPatch = Type.Object({ requireTotp: Type.Optional(Type.Boolean()) }, { additionalProperties: false });
export const MePatch = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  language: Type.Optional(Language),
  signature: Type.Optional(Type.String({ maxLength: 10000 })),
  clientMailNotice: Type.Optional(ClientMailNotice),
  // Length and strength are the core's rule (422 weak_password), not the schema's (400).
  password: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  currentPassword: Type.Optional(Type.String({ maxLength: 1024 })),
}, { additionalProperties: false });

export const UserCreate = Type.Object({
  email: Email, name: Type.String({ minLength: 1, maxLength: 200 }), password: Type.String({ minLength: 1, maxLength: 1024 }), role: Role, language: Type.Optional(Language),
}, { additionalProperties: false });
export const UserPatch = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), role: Type.Optional(Role), active: Type.Optional(Type.Boolean()),
  password: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })), language: Type.Optional(Language),
}, { additionalProperties: false });

export const TokenCreate = Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false });
export const TokenView = Type.Object({ id: Uuid, name: Type.String(), prefix: Type.String(), createdAt: DateTime, lastUsedAt: Type.Union([DateTime, Type.Null()]) });
export type TokenView = Static<typeof TokenView>;
export const TokenCreated = Type.Object({ id: Uuid, name: Type.String(), token: Type.String() });
