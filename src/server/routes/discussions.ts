// Discussions with a client's contacts: post a topic (one mail to the group), list, view with comments,
// comment from the app (sent to the group in the thread), accept a held comment. Mail is sent after the commit.
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import { getClient } from '../../core/crm/clients.ts';
import { addDiscussionComment, createDiscussion, enqueueDiscussionMail, getDiscussionView, listClientAddresses, listDiscussions } from '../../core/collaboration/discussions.ts';
import { acceptHeldComment } from '../../core/collaboration/discussion-replies.ts';
import { currentUser } from '../auth.ts';
import { STATUS } from '../errors.ts';
import { IdParams } from '../schemas.ts';
import { HeldParams } from '../schemas/file-requests.ts';
import { CommentCreate, CommentCreated, ContactAddressList, DiscussionCreate, DiscussionCreated, DiscussionPage, DiscussionView, ListQuery } from '../schemas/collaboration.ts';

export async function discussionRoutes(app: FastifyInstance) {
  const tags = ['discussions'];

  app.post<{ Params: Static<typeof IdParams>; Body: DiscussionCreate }>('/clients/:id/discussions', {
    schema: { tags, params: IdParams, body: DiscussionCreate, response: { 201: DiscussionCreated } },
  }, async (req, reply) => {
    const { discussion, outboxIds } = await createDiscussion(req.em, currentUser(req), req.params.id, req.body);
    await req.em.flush();
    await enqueueDiscussionMail(app.deps.queue, outboxIds);
    return reply.status(STATUS.created).send({ discussion: await getDiscussionView(req.em, discussion.id, currentUser(req)), outboxIds });
  });

  // For the discussion and share dialogs: every contact address of the client with its notify switches.
  app.get<{ Params: Static<typeof IdParams> }>('/clients/:id/contact-addresses', {
    schema: { tags, params: IdParams, response: { 200: ContactAddressList } },
  }, async (req) => {
    await getClient(req.em, req.params.id);
    return { items: await listClientAddresses(req.em, req.params.id) };
  });

  app.get<{ Params: Static<typeof IdParams>; Querystring: ListQuery }>('/clients/:id/discussions', {
    schema: { tags, params: IdParams, querystring: ListQuery, response: { 200: DiscussionPage } },
  }, async (req) => listDiscussions(req.em, req.params.id, { limit: req.query.limit ?? 50, cursor: req.query.cursor }));

  app.get<{ Params: Static<typeof IdParams> }>('/discussions/:id', {
    schema: { tags, params: IdParams, response: { 200: DiscussionView } },
  }, async (req) => getDiscussionView(req.em, req.params.id, currentUser(req)));

  app.post<{ Params: Static<typeof IdParams>; Body: CommentCreate }>('/discussions/:id/comments', {
    schema: { tags, params: IdParams, body: CommentCreate, response: { 201: CommentCreated } },
  }, async (req, reply) => {
    const { comment, outboxIds } = await addDiscussionComment(req.em, currentUser(req), req.params.id, req.body);
    await req.em.flush();
    await enqueueDiscussionMail(app.deps.queue, outboxIds);
    const view = await getDiscussionView(req.em, req.params.id, currentUser(req));
    return reply.status(STATUS.created).send({ comment: view.comments.find((c) => c.id === comment.id)!, outboxIds });
  });

  // Mirrors POST /file-requests/:id/held/:messageId/accept: only the held mail's reviewers (issue 12).
  app.post<{ Params: Static<typeof HeldParams> }>('/discussions/:id/held/:messageId/accept', {
    schema: { tags, params: HeldParams, response: { 200: DiscussionView } },
  }, async (req) => {
    await acceptHeldComment(req.em, currentUser(req), req.params.id, req.params.messageId);
    await req.em.flush();
    return getDiscussionView(req.em, req.params.id, currentUser(req));
  });
}
