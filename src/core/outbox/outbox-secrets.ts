// Outbox rows that would carry a secret in clear text don't: a share mail's body (its links open client
// documents) is sealed with the secret key and opened only by the sender; a file-request mail's Reply-To token
// is looked up at send time (outbox.replyTokenOf). The database alone then gives no working link or token.
import { decryptSecret, encryptSecret } from '../platform/secrets.ts';
import type { Outbox } from './outbox.entity.ts';

export function sealOutboxBody(key: Buffer, body: { text: string; html: string | null }): { text: string; html: string | null; sealed: true } {
  return { text: encryptSecret(key, body.text), html: body.html === null ? null : encryptSecret(key, body.html), sealed: true };
}

export function openOutboxBody(key: Buffer | null, row: Pick<Outbox, 'text' | 'html' | 'sealed'>): { text: string; html: string | null } {
  if (!row.sealed) return { text: row.text, html: row.html ?? null };
  if (!key) throw new Error('the outbox row is sealed and no secret key is configured');
  return { text: decryptSecret(key, row.text), html: row.html ? decryptSecret(key, row.html) : null };
}
