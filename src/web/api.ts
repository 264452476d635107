// The web app's only door to the server: every fetch() lives here. Typed helpers per endpoint,
// the CSRF header on writes, one error type (ApiError) for every failure. No UI, no strings shown to users.
import type { SessionResponse, UserView } from '../server/schemas.ts';

// The API contract's types come from the server's schemas (types only: nothing of the server is bundled).
export type User = UserView;
export type Role = User['role'];
export type Session = SessionResponse;
export type UserPatch = Partial<Pick<User, 'name' | 'language' | 'signature' | 'clientMailNotice'>> & { password?: string; currentPassword?: string };

/** Every failed call: the server's `{error: {code, message, field?}}`, or a code of our own when there is none. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;
  /** From Retry-After on 429, in seconds. */
  readonly retryAfter: number | undefined;

  constructor(status: number, code: string, message: string, field?: string, retryAfter?: number) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field;
    this.retryAfter = retryAfter;
  }
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
type Query = Record<string, string | number | boolean | undefined | null>;
type RequestOptions = {
  body?: unknown;
  /** Sent as is (FormData for uploads, CSV text): fetch sets a FormData's multipart boundary itself. */
  raw?: { body: FormData | string; contentType?: string };
  query?: Query;
  signal?: AbortSignal;
  /** false when a 401 is an answer the caller handles (login form, the start-up session probe). */
  redirectOn401?: boolean;
};

// The server hands the token out with the session (login, GET /api/me); it is not readable from a cookie.
let csrfToken: string | null = null;
let onUnauthorized: () => void = () => {
  window.location.assign(`/login?next=${encodeURIComponent(window.location.pathname + window.location.search)}`);
};

/** The session layer replaces the default full-page redirect with an in-app one. */
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

function buildUrl(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined && value !== null) params.set(key, String(value));
  const search = params.toString();
  return `/api${path}${search ? `?${search}` : ''}`;
}

function fallbackCode(status: number): string {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'server_error';
  return 'unknown';
}

async function toApiError(res: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    // A proxy's HTML error page or an empty body: the status alone has to speak.
  }
  const error = (body as { error?: { code?: unknown; message?: unknown; field?: unknown } } | null)?.error;
  const retryAfterHeader = Number.parseInt(res.headers.get('retry-after') ?? '', 10);
  // @fastify/rate-limit answers 429 with its own code; callers only need to know it was a rate limit.
  const code = res.status === 429 ? 'rate_limited' : typeof error?.code === 'string' ? error.code : fallbackCode(res.status);
  return new ApiError(
    res.status,
    code,
    typeof error?.message === 'string' ? error.message : res.statusText || code,
    typeof error?.field === 'string' ? error.field : undefined,
    Number.isFinite(retryAfterHeader) ? retryAfterHeader : undefined,
  );
}

async function send(method: Method, path: string, options: RequestOptions): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.raw?.contentType) headers['content-type'] = options.raw.contentType;
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  try {
    return await fetch(buildUrl(path, options.query), {
      method,
      headers,
      body: options.raw ? options.raw.body : options.body === undefined ? undefined : JSON.stringify(options.body),
      credentials: 'same-origin',
      signal: options.signal,
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiError(0, 'network_error', error instanceof Error ? error.message : String(error));
  }
}

async function request<T>(method: Method, path: string, options: RequestOptions = {}): Promise<T> {
  let res = await send(method, path, options);
  if (res.status === 403 && method !== 'GET') {
    const error = await toApiError(res.clone());
    // A sign-in in another tab replaces the session and its token; fetch the current one and retry once.
    if (error.code === 'csrf_invalid' && (await refreshCsrfToken())) res = await send(method, path, options);
  }
  if (!res.ok) {
    const error = await toApiError(res);
    if (res.status === 401 && options.redirectOn401 !== false) {
      csrfToken = null;
      onUnauthorized();
    }
    throw error;
  }
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

async function refreshCsrfToken(): Promise<boolean> {
  const res = await send('GET', '/me', {});
  if (!res.ok) return false;
  csrfToken = ((await res.json()) as Session).csrfToken;
  return true;
}

// Generic helpers for the pages that come later (paths are relative to /api: getJson('/clients', {q})).
// Add an endpoint-specific wrapper below when a shape repeats; type responses with the server's schemas.
export const getJson = <T>(path: string, query?: Query, signal?: AbortSignal) => request<T>('GET', path, { query, signal });
export const postJson = <T>(path: string, body?: unknown) => request<T>('POST', path, { body });
export const putJson = <T>(path: string, body?: unknown) => request<T>('PUT', path, { body });
export const patchJson = <T>(path: string, body: unknown) => request<T>('PATCH', path, { body });
export const deleteJson = <T = void>(path: string, body?: unknown) => request<T>('DELETE', path, body === undefined ? {} : { body });
/** Uploads (multipart FormData) and other non-JSON bodies such as CSV text; the answer is JSON. */
export const postRaw = <T>(path: string, body: FormData | string, options: { contentType?: string; query?: Query } = {}) =>
  request<T>('POST', path, { raw: { body, contentType: options.contentType }, query: options.query });

// --- auth and the current user -------------------------------------------------------------------

export async function login(email: string, password: string, totp?: string): Promise<Session> {
  const session = await request<Session>('POST', '/auth/login', { body: totp ? { email, password, totp } : { email, password }, redirectOn401: false });
  csrfToken = session.csrfToken;
  return session;
}

export async function logout(): Promise<void> {
  try {
    await request<void>('POST', '/auth/logout', { redirectOn401: false });
  } catch (error) {
    // Already signed out (expired session): the goal is reached.
    if (!(error instanceof ApiError && error.status === 401)) throw error;
  } finally {
    csrfToken = null;
  }
}

/** The signed-in session, or null when there is none (401 is an answer here, not a redirect). */
export async function getSession(): Promise<Session | null> {
  try {
    const session = await request<Session>('GET', '/me', { redirectOn401: false });
    csrfToken = session.csrfToken;
    return session;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

export async function updateMe(patch: UserPatch): Promise<User> {
  const session = await request<Session>('PATCH', '/me', { body: patch });
  csrfToken = session.csrfToken;
  return session.user;
}
