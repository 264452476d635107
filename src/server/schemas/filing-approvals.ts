// API contract for private-mail consent (issue 12): filing approvals (the owner's pending requests), the
// owner's answered ones (Settings), and keeping a message private. Response schemas list every field returned.
import { Type, type Static } from 'typebox';
import { DateTime, Nullable, Uuid } from '../schemas.ts';

const Ref = Type.Object({ id: Uuid, name: Type.String() });
export const ConsentStatus = Type.Union([Type.Literal('pending'), Type.Literal('approved'), Type.Literal('declined')]);

export const FilingApproval = Type.Object({
  id: Uuid, address: Type.String(), client: Ref,
  /** null when no one asked: the address was a client's before this mail arrived in the owner's mailbox. */
  requestedBy: Nullable(Ref),
  accountId: Nullable(Uuid), messages: Type.Integer(), status: ConsentStatus, createdAt: DateTime, decidedAt: Nullable(DateTime),
});
export type FilingApproval = Static<typeof FilingApproval>;
export const FilingApprovalList = Type.Object({ items: Type.Array(FilingApproval) });
export const FilingApprovalDecision = Type.Object({ decision: Type.Union([Type.Literal('approve'), Type.Literal('decline')]) }, { additionalProperties: false });
export type FilingApprovalDecision = Static<typeof FilingApprovalDecision>;
export const FilingApprovalResult = Type.Object({ id: Uuid, status: ConsentStatus, filed: Type.Integer() });

export const PrivateBody = Type.Object({ private: Type.Boolean() }, { additionalProperties: false });
export type PrivateBody = Static<typeof PrivateBody>;
export const PrivateResult = Type.Object({ id: Uuid, private: Type.Boolean(), removedFromClients: Type.Integer() });
export const PrivacyState = Type.Object({ id: Uuid, private: Type.Boolean(), canChange: Type.Boolean() });
