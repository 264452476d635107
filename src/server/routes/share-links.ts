// The public download route of share links, GET /s/:token (no login, rate-limited per IP). A valid token
// gets its one file as an attachment (nosniff, sandbox CSP); anything else gets a small translated page,
// never the file. Registered outside /api by app.ts.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Static } from 'typebox';
import { enqueueSend } from '../../core/outbox/outbox.ts';
import { recordShareDownload, resolveShareToken } from '../../core/collaboration/shares.ts';
import { renderLinkProblemPage, type LinkProblem } from '../../core/collaboration/templates/collaboration-mail.ts';
import type { Language } from '../../core/staff/user.entity.ts';
import { STATUS } from '../errors.ts';
import { sendFile } from '../file-response.ts';
import { TokenParams } from '../schemas/collaboration.ts';

/** Per IP: enough for a client opening a handful of documents, too few to guess tokens. */
const LINK_LIMIT = { max: 60, timeWindow: '1 minute' };

/** The visitor's language when the token says nothing (Accept-Language, RFC 9110 §12.5.4; q-values ignored). */
function browserLanguage(req: FastifyRequest): Language {
  const header = String(req.headers['accept-language'] ?? '').toLowerCase();
  for (const part of header.split(',')) {
    const tag = part.trim().slice(0, 2);
    if (tag === 'en' || tag === 'es' || tag === 'nl') return tag;
  }
  return 'en';
}

function sendProblem(reply: FastifyReply, language: Language, problem: LinkProblem) {
  return reply
    .status(problem === 'invalid' ? STATUS.notFound : STATUS.gone)
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
    .header('x-content-type-options', 'nosniff')
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .send(renderLinkProblemPage(language, problem));
}

export async function shareLinkRoutes(app: FastifyInstance) {
  app.get<{ Params: Static<typeof TokenParams> }>('/s/:token', {
    onRequest: app.rateLimit({ ...LINK_LIMIT, keyGenerator: (req) => `share-link:${req.ip}` }),
    config: { auth: 'public' },
    // The URL is a bearer secret: keep it out of the request/response log lines (info level).
    logLevel: 'warn',
    schema: { hide: true, params: TokenParams },
  }, async (req, reply) => {
    const { config, blobs, queue } = app.deps;
    const access = await resolveShareToken(req.em, config.secretKey!, req.params.token);
    if (access.kind !== 'ok') return sendProblem(reply, access.language ?? browserLanguage(req), access.kind);
    const sha = access.document.sha256!;
    if (!(await blobs.has(sha))) return sendProblem(reply, access.recipient.language, 'invalid');
    const { outboxId } = await recordShareDownload(req.em, access, { ip: req.ip, userAgent: req.headers['user-agent'] ?? null }, { publicUrl: config.publicUrl });
    await req.em.flush();
    if (outboxId) await enqueueSend(queue, outboxId);
    return sendFile(reply, { stream: await blobs.get(sha), size: Number(access.document.size), filename: access.document.name, contentType: access.document.contentType });
  });
}
