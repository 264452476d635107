// Messages (Inbox+): lists, one message, its sandboxed HTML body, threads, raw and attachment
// downloads, and filing by hand. Thin: visibility and queries live in core/mail/message-queries.ts.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Static } from 'typebox';
import { fileMessageToClient, unfileMessageFromClient } from '../../core/log/communications.ts';
import { countAwaitingClient, countUnread, getAttachmentFile, getMessage, getMessageRaw, listMessages, listThread, loadSummaries, type DetailOptions } from '../../core/mail/message-queries.ts';
import { setMessagesRead } from '../../core/mail/read-state.ts';
import { User, type Language } from '../../core/staff/user.entity.ts';
import { escapeHtml } from '../../core/platform/text.ts';
import { collapseQuotedHtml } from '../../core/mail/html-quotes.ts';
import { currentUser } from '../auth.ts';
import { STATUS, unauthorized } from '../errors.ts';
import { sendFile } from '../file-response.ts';
import { signAttachmentLink, verifyAttachmentLink } from '../signed-links.ts';
import { IdParams } from '../schemas.ts';
import {
  AmbiguousCount, DownloadQuery, FileBody, ImagesQuery, MessageDetail, MessageListQuery, MessagePage, MessageSummary, ReadBody, ReadResponse, ThreadParams,
  ThreadResponse, UnfileParams, UnreadCountQuery, UnreadCountResponse,
} from '../schemas/messages.ts';

const flag = (v: string | undefined): boolean | undefined => (v === undefined ? undefined : v === 'true' || v === '1');

/** cid: images in JSON detail point here (the app's own origin sends the session cookie). */
const attachmentUrl = (id: string) => `/api/attachments/${id}?inline=1`;
const detailOptions = (req: FastifyRequest<{ Querystring: Static<typeof ImagesQuery> }>): DetailOptions => ({
  allowRemoteImages: flag(req.query.images) === true,
  attachmentUrl,
});

/** The collapsed quote's label, as the web app says it for text mail (message.showQuoted). */
const SHOW_QUOTED: Record<Language, string> = { en: 'Show quoted text', es: 'Mostrar texto citado', nl: 'Geciteerde tekst tonen' };

/**
 * The sanitised body as a standalone document for <iframe sandbox="allow-popups
 * allow-popups-to-escape-sandbox">: no scripts can run in it (sandbox and CSP), links open outside,
 * and the charset is pinned so no byte sequence can be re-read as markup.
 */
function bodyDocument(html: string | null, text: string): string {
  const body = html ?? `<pre style="white-space:pre-wrap;word-wrap:break-word;font:inherit">${escapeHtml(text)}</pre>`;
  return '<!doctype html><html><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><base target="_blank">' +
    '<style>body{margin:0;padding:8px;font-family:system-ui,sans-serif;overflow-wrap:anywhere}img{max-width:100%;height:auto}' +
    'details.quote>summary{cursor:pointer;color:#555;font-size:.875em;margin:.5em 0}</style>' +
    `</head><body>${body}</body></html>`;
}

export function bodyCsp(allowRemoteImages: boolean): string {
  const img = allowRemoteImages ? "'self' https: http:" : "'self'";
  return `default-src 'none'; img-src ${img}; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'`;
}

export async function messageRoutes(app: FastifyInstance) {
  const tags = ['messages'];

  app.get<{ Querystring: MessageListQuery }>('/messages', { schema: { tags, querystring: MessageListQuery, response: { 200: MessagePage } } }, async (req) => {
    const { limit = 50, cursor, filed, ambiguous, hasAttachments, unread, ...rest } = req.query;
    return listMessages(req.em, currentUser(req), { ...rest, filed: flag(filed), ambiguous: flag(ambiguous), hasAttachments: flag(hasAttachments), unread: flag(unread) }, { limit, cursor });
  });

  app.get<{ Querystring: Static<typeof UnreadCountQuery> }>('/messages/unread-count', {
    schema: { tags, querystring: UnreadCountQuery, response: { 200: UnreadCountResponse } },
  }, async (req) => {
    const { filed, ambiguous, hasAttachments, ...rest } = req.query;
    return countUnread(req.em, currentUser(req), { ...rest, filed: flag(filed), ambiguous: flag(ambiguous), hasAttachments: flag(hasAttachments) });
  });

  // Read state is the caller's own (the mailbox's \Seen is never touched); 404 for mail they may not see.
  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof ReadBody> }>('/messages/:id/read', {
    schema: { tags, params: IdParams, body: ReadBody, response: { 200: ReadResponse } },
  }, async (req) => {
    await setMessagesRead(req.em, currentUser(req), [req.params.id], req.body.read);
    return { id: req.params.id, unread: !req.body.read };
  });

  app.get('/messages/ambiguous-count', { schema: { tags, response: { 200: AmbiguousCount } } }, async (req) => ({
    count: await countAwaitingClient(req.em, currentUser(req)),
  }));

  app.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof ImagesQuery> }>('/messages/:id', {
    schema: { tags, params: IdParams, querystring: ImagesQuery, response: { 200: MessageDetail } },
  }, async (req) => getMessage(req.em, currentUser(req), req.params.id, detailOptions(req)));

  app.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof ImagesQuery> }>('/messages/:id/body', {
    schema: { tags, params: IdParams, querystring: ImagesQuery, produces: ['text/html'] },
  }, async (req, reply) => {
    const user = currentUser(req);
    // The frame's origin is opaque: its image requests carry no session cookie, so cid: images get
    // signed links (same origin, so img-src 'self' admits them).
    const opts = { ...detailOptions(req), attachmentUrl: (id: string) => signAttachmentLink(app.deps.config.secretKey!, id, user.id), markQuotes: true };
    const message = await getMessage(req.em, user, req.params.id, opts);
    // The quoted original of a reply starts collapsed, as "> " lines do in text mail (the web app's TextBody).
    const html = message.html === null ? null : collapseQuotedHtml(message.html, SHOW_QUOTED[user.language as Language] ?? SHOW_QUOTED.en);
    return reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', bodyCsp(opts.allowRemoteImages))
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'private, no-store')
      .send(bodyDocument(html, message.text));
  });

  app.get<{ Params: Static<typeof IdParams> }>('/messages/:id/raw', { schema: { tags, params: IdParams, produces: ['message/rfc822'] } }, async (req, reply) => {
    const file = await getMessageRaw(req.em, currentUser(req), req.params.id);
    return sendFile(reply, { ...file, stream: await app.deps.blobs.get(file.sha256) });
  });

  app.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof DownloadQuery> }>('/attachments/:id', {
    // Signed in, or holding a signed link from the body document (checked here, not by the auth hook).
    config: { auth: 'public' },
    schema: { tags, params: IdParams, querystring: DownloadQuery, produces: ['application/octet-stream'] },
  }, async (req, reply) => {
    let viewer = req.user;
    const signedFor = viewer ? null : verifyAttachmentLink(app.deps.config.secretKey!, req.params.id, req.query);
    if (signedFor) {
      const user = await req.em.findOne(User, { id: signedFor });
      viewer = user?.active ? user : null;
    }
    if (!viewer) throw unauthorized();
    const file = await getAttachmentFile(req.em, viewer, req.params.id);
    return sendFile(reply, { ...file, inline: flag(req.query.inline) === true, crossOrigin: signedFor !== null, stream: await app.deps.blobs.get(file.sha256) });
  });

  app.get<{ Params: Static<typeof ThreadParams>; Querystring: Static<typeof ImagesQuery> }>('/threads/:threadId', {
    schema: { tags, params: ThreadParams, querystring: ImagesQuery, response: { 200: ThreadResponse } },
  }, async (req) => ({ items: await listThread(req.em, currentUser(req), req.params.threadId, detailOptions(req)) }));

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof FileBody> }>('/messages/:id/clients', {
    schema: { tags, params: IdParams, body: FileBody, response: { 200: MessageSummary, 201: MessageSummary } },
  }, async (req, reply) => {
    const user = currentUser(req);
    const { created } = await fileMessageToClient(req.em, user, req.params.id, req.body.clientId);
    await req.em.flush();
    const [summary] = await loadSummaries(req.em, user, [req.params.id]);
    return reply.status(created ? STATUS.created : STATUS.ok).send(summary);
  });

  app.delete<{ Params: Static<typeof UnfileParams> }>('/messages/:id/clients/:clientId', { schema: { tags, params: UnfileParams } }, async (req, reply) => {
    await unfileMessageFromClient(req.em, currentUser(req), req.params.id, req.params.clientId);
    await req.em.flush();
    return reply.status(STATUS.noContent).send();
  });
}
