// Short-lived signed links to a message's inline images, for the sandboxed body frame: its origin is
// opaque, so the browser sends no SameSite session cookie with the image requests. A link names the
// attachment, the user it was made for and an expiry; it grants nothing the user could not see anyway.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Long enough for lazy-loaded images of a message left open; short enough that a copied link dies. */
export const LINK_TTL_SECONDS = 3600;

export type LinkParams = { u: string; exp: string; sig: string };

const keyOf = (secret: Buffer) => createHmac('sha256', secret).update('dossier inline image links v1').digest();
const mac = (secret: Buffer, attachmentId: string, userId: string, exp: number) =>
  createHmac('sha256', keyOf(secret)).update(`${attachmentId}\n${userId}\n${exp}`).digest('base64url');

export function signAttachmentLink(secret: Buffer, attachmentId: string, userId: string, nowMs = Date.now()): string {
  const exp = Math.floor(nowMs / 1000) + LINK_TTL_SECONDS;
  const q = new URLSearchParams({ inline: '1', u: userId, exp: String(exp), sig: mac(secret, attachmentId, userId, exp) });
  return `/api/attachments/${attachmentId}?${q.toString()}`;
}

/** The user id the link was made for, or null when it is forged, altered or expired. */
export function verifyAttachmentLink(secret: Buffer, attachmentId: string, p: Partial<LinkParams>, nowMs = Date.now()): string | null {
  if (!p.u || !p.exp || !p.sig || !/^\d{1,12}$/.test(p.exp)) return null;
  const exp = Number(p.exp);
  if (exp * 1000 < nowMs) return null;
  const want = Buffer.from(mac(secret, attachmentId, p.u, exp));
  const got = Buffer.from(p.sig);
  return want.length === got.length && timingSafeEqual(want, got) ? p.u : null;
}
