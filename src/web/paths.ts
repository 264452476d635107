// Where the app sends a signed-in user by default, and which `next` targets it honours. A leaf module (no
// imports), so pages can use it without importing the route table that lazily imports them.

/** Where signing in leads when no other page was asked for. */
export const homePath = '/inbox';

/** A `next` target from the URL, kept only when it is a path on this site (no open redirect). */
export function safeNext(next: string | undefined): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\') || next.startsWith('/login')) return homePath;
  return next;
}
