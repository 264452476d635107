// The one place HTTP statuses live: maps domain errors and Fastify's own errors (validation, body
// parsing, rate limit, CSRF) to the API's error shape {error: {code, message, field?}}.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ConflictError, DomainError, ForbiddenError, InvalidInputError, MailServerError, NotFoundError, RuleError } from '../core/platform/errors.ts';

export type ErrorBody = { error: { code: string; message: string; field?: string } };

export const STATUS = {
  ok: 200, created: 201, accepted: 202, noContent: 204,
  found: 302,
  badRequest: 400, unauthorized: 401, forbidden: 403, notFound: 404, conflict: 409, gone: 410, tooLarge: 413, unprocessable: 422, tooMany: 429,
  internal: 500,
} as const;

export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;
  constructor(status: number, code: string, message: string, field?: string) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}
export const unauthorized = (message = 'Sign in to continue') => new HttpError(STATUS.unauthorized, 'unauthorized', message);

function statusOf(err: DomainError): number {
  if (err instanceof NotFoundError) return STATUS.notFound;
  if (err instanceof InvalidInputError) return STATUS.badRequest;
  if (err instanceof ForbiddenError) return STATUS.forbidden;
  if (err instanceof ConflictError) return STATUS.conflict;
  if (err instanceof RuleError || err instanceof MailServerError) return STATUS.unprocessable;
  return STATUS.badRequest;
}

type AjvError = { instancePath?: string; keyword?: string; params?: Record<string, unknown>; message?: string };

/** "/emails/0/address" + missing "x" -> "emails.0.address.x"; prefixed with the part for query/params. */
function fieldOf(v: AjvError, context: string | undefined): string {
  const parts = (v.instancePath ?? '').split('/').filter(Boolean);
  if (v.keyword === 'required' && typeof v.params?.missingProperty === 'string') parts.push(v.params.missingProperty);
  if (v.keyword === 'additionalProperties' && typeof v.params?.additionalProperty === 'string') parts.push(v.params.additionalProperty);
  const prefix = context && context !== 'body' ? (context === 'querystring' ? 'query' : context) : '';
  return [prefix, ...parts].filter(Boolean).join('.') || (prefix || 'body');
}

export function toErrorResponse(err: unknown): { status: number; body: ErrorBody; log: boolean } {
  const body = (code: string, message: string, field?: string): ErrorBody => ({ error: field ? { code, message, field } : { code, message } });
  if (err instanceof HttpError) return { status: err.status, body: body(err.code, err.message, err.field), log: false };
  if (err instanceof DomainError) return { status: statusOf(err), body: body(err.code, err.message, err.field), log: false };
  const fe = err as FastifyError & { validation?: AjvError[]; validationContext?: string };
  if (fe.validation?.length) {
    const v = fe.validation[0]!;
    const field = fieldOf(v, fe.validationContext);
    const detail = v.keyword === 'required' ? 'is required' : v.keyword === 'additionalProperties' ? 'is not an allowed field' : (v.message ?? 'is invalid');
    return { status: STATUS.badRequest, body: body('invalid_input', `${field} ${detail}`, field), log: false };
  }
  const code = fe.code ?? '';
  if (code === 'FST_ERR_CTP_INVALID_JSON_BODY' || code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || (fe.statusCode === 400 && err instanceof SyntaxError)) {
    return { status: STATUS.badRequest, body: body('invalid_json', 'The request body is not valid JSON', 'body'), log: false };
  }
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return { status: 415, body: body('unsupported_media_type', fe.message), log: false };
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE' || code === 'FST_REQ_FILE_TOO_LARGE' || code === 'FST_FILES_LIMIT' || code === 'FST_PARTS_LIMIT') {
    return { status: STATUS.tooLarge, body: body('too_large', 'The upload is larger than allowed', 'file'), log: false };
  }
  if (code.startsWith('FST_CSRF') ) return { status: STATUS.forbidden, body: body('csrf_invalid', 'Missing or invalid CSRF token (send the x-csrf-token header)'), log: false };
  if (fe.statusCode === 429) return { status: STATUS.tooMany, body: body('rate_limited', fe.message || 'Too many requests; try again later'), log: false };
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { status: fe.statusCode, body: body(code ? code.toLowerCase().replace(/^fst_(err_)?/, '') : 'bad_request', fe.message), log: false };
  }
  return { status: STATUS.internal, body: body('internal_error', 'Something went wrong on our side; it has been logged'), log: true };
}

export function handleError(err: unknown, req: FastifyRequest, reply: FastifyReply) {
  const { status, body, log } = toErrorResponse(err);
  if (log) req.log.error({ err }, 'unhandled error');
  return reply.status(status).send(body);
}
