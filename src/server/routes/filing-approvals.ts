// Private-mail consent (issue 12): the owner's filing approvals (pending: the bell's page), the ones they
// answered (Settings), and their decision. Only the owner ever sees a row: anyone else gets 404. And "Keep
// private" on a message, which only the owner of a private mailbox holding it may set.
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import { decideApproval, listFilingApprovals } from '../../core/log/filing-consent.ts';
import { fileAddress } from '../../core/log/filing.ts';
import { getMessagePrivacy, setMessagePrivate } from '../../core/log/private-messages.ts';
import { assertMessageVisible } from '../../core/mail/visibility.ts';
import { currentUser } from '../auth.ts';
import { fileAndAnnounce } from '../filing-announce.ts';
import { IdParams } from '../schemas.ts';
import { FilingApprovalDecision, FilingApprovalList, FilingApprovalResult, PrivacyState, PrivateBody, PrivateResult } from '../schemas/filing-approvals.ts';

export async function filingApprovalRoutes(app: FastifyInstance) {
  const tags = ['filing'];
  const deps = () => ({ blobs: app.deps.blobs, maxAttachmentBytes: app.deps.config.maxAttachmentBytes });

  app.get('/filing-approvals', { schema: { tags, response: { 200: FilingApprovalList } } }, async (req) => {
    return { items: await listFilingApprovals(req.em, currentUser(req), { statuses: ['pending'] }) };
  });

  app.get('/filing-consents', { schema: { tags, response: { 200: FilingApprovalList } } }, async (req) => {
    return { items: await listFilingApprovals(req.em, currentUser(req), { statuses: ['approved', 'declined'] }) };
  });

  app.post<{ Params: Static<typeof IdParams>; Body: FilingApprovalDecision }>('/filing-approvals/:id', {
    schema: { tags, params: IdParams, body: FilingApprovalDecision, response: { 200: FilingApprovalResult } },
  }, async (req) => {
    const user = currentUser(req);
    return fileAndAnnounce(app, req.em, async (em) => {
      const decided = await decideApproval(em, user, req.params.id, req.body.decision);
      // Approving files the address's mail to that client now (the new row lets fileAddress through).
      const filed = decided.status === 'approved'
        ? (await fileAddress(em, decided.address, deps(), { clientIds: [decided.clientId], actorId: user.id })).messages : 0;
      return { id: req.params.id, status: decided.status, filed };
    });
  });

  app.get<{ Params: Static<typeof IdParams> }>('/messages/:id/private', { schema: { tags, params: IdParams, response: { 200: PrivacyState } } }, async (req) => {
    await assertMessageVisible(req.em, currentUser(req), req.params.id);
    return getMessagePrivacy(req.em, currentUser(req), req.params.id);
  });

  app.post<{ Params: Static<typeof IdParams>; Body: PrivateBody }>('/messages/:id/private', {
    schema: { tags, params: IdParams, body: PrivateBody, response: { 200: PrivateResult } },
  }, async (req) => {
    return req.em.transactional((em) => setMessagePrivate(em, currentUser(req), req.params.id, req.body.private, deps()));
  });
}
