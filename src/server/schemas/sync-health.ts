// API contract of GET /api/sync-health (issue 14): per visible account, its status, last sync and error, and
// per folder the server's count, the stored count and what is missing. Response schemas list every field returned.
import { Type, type Static } from 'typebox';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
export const SyncHealthFolder = Type.Object({ path: Type.String(), serverCount: Type.Integer(), storedCount: Type.Integer(), missing: Type.Integer(), lastSyncAt: Nullable(Type.String()) });
export const SyncHealthItem = Type.Object({
  accountId: Type.String(), name: Type.String(), status: Type.String(), lastSyncAt: Nullable(Type.String()), lastError: Nullable(Type.String()), folders: Type.Array(SyncHealthFolder),
});
export const SyncHealthList = Type.Object({ items: Type.Array(SyncHealthItem) });
export type SyncHealthItem = Static<typeof SyncHealthItem>;
