// Mailbox credentials at rest: AES-256-GCM with a random 96-bit nonce per value, versioned so the
// key can be rotated later. Random tokens (sessions, API tokens) are stored only as sha256 digests.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const VERSION = 'v1';

export function encryptSecret(key: Buffer, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [VERSION, iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join(':');
}

export function decryptSecret(key: Buffer, sealed: string): string {
  const [version, iv, tag, body] = sealed.split(':');
  if (version !== VERSION || !iv || !tag || body === undefined) throw new Error('unrecognised secret format');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
  decipher.setAuthTag(Buffer.from(tag, 'base64'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8');
}

/** A random URL-safe token with a readable prefix, e.g. "dsr_3f9a…" for API tokens. */
export const newToken = (prefix: string) => `${prefix}_${randomBytes(32).toString('base64url')}`;
export const sha256Hex = (value: string | Buffer) => createHash('sha256').update(value).digest('hex');
