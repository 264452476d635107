// Request/response between the API and a sync worker for what needs a live IMAP session (verify a
// login, list folders): the API writes an imap_check row, enqueues 'check-imap' after the commit and
// polls the row; the worker answers into it. Works the same on PostgreSQL+BullMQ and embedded PGlite.
import { kysely, type Db, type Em } from '../platform/db.ts';
import type { JobQueue } from '../platform/jobs.ts';
import { MailServerError } from '../platform/errors.ts';
import { decryptSecret, encryptSecret } from '../platform/secrets.ts';
import { ImapCheck, type ImapCheckKind, type ImapCheckResult, type MailCheckCode } from './imap-check.entity.ts';
import type { ImapConnectSettings, SmtpConnectSettings } from './accounts.ts';
import type { Language } from '../staff/user.entity.ts';

/** The servers a login check tries: IMAP, SMTP or both. */
export type MailCheckSettings = { imap?: ImapConnectSettings; smtp?: SmtpConnectSettings };

/** Long enough for a slow server's TLS handshake and login, short enough for a browser request. */
export const IMAP_CHECK_TIMEOUT_MS = 30_000;
const POLL_MS = 50;
/** Answers nobody collected (the request timed out) are removed after this long. */
const STALE_MS = 3600_000;

export async function requestImapCheck(
  db: Db, queue: JobQueue, key: Buffer | null,
  req: { kind: ImapCheckKind; settings?: MailCheckSettings; accountId?: string },
): Promise<string> {
  const em = db.em.fork();
  if (!key) throw new Error('no secret key configured for mailbox credentials');
  const check = em.create(ImapCheck, {
    kind: req.kind,
    account: req.accountId ?? null,
    secret: req.settings ? encryptSecret(key, JSON.stringify(req.settings)) : null,
  });
  await em.flush();
  await queue.enqueue('check-imap', { checkId: check.id }, { attempts: 1 });
  return check.id;
}

/** Waits for the worker's answer and removes the row; a timeout means no worker took the job. */
export async function awaitImapCheck(db: Db, id: string, timeoutMs = IMAP_CHECK_TIMEOUT_MS): Promise<ImapCheckResult> {
  const deadline = Date.now() + timeoutMs;
  // A fork outside any transaction: each poll sees the worker's committed answer.
  const k = kysely(db.em.fork());
  try {
    while (Date.now() < deadline) {
      const row = await k.selectFrom('imap_check').select(['status', 'result']).where('id', '=', id).executeTakeFirst();
      if (row && row.status === 'done' && row.result) return row.result;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    throw new MailServerError('imap_check_timeout', 'No sync worker answered in time to check the mail server; make sure a worker is running, then try again');
  } finally {
    await k.deleteFrom('imap_check').where((eb) => eb.or([eb('id', '=', id), eb('created_at', '<', new Date(Date.now() - STALE_MS))])).execute();
  }
}

/** Runs a check end to end and turns a refusal into the API's 422 error with the server's words. */
export async function checkImapThroughWorker(
  db: Db, queue: JobQueue, key: Buffer | null,
  req: { kind: ImapCheckKind; settings?: MailCheckSettings; accountId?: string },
  opts: { timeoutMs?: number; language?: Language } = {},
): Promise<Extract<ImapCheckResult, { ok: true }>> {
  const result = await awaitImapCheck(db, await requestImapCheck(db, queue, key, req), opts.timeoutMs);
  if (!result.ok) {
    // SMTP refusals lead with a hint in the user's language, then the server's one-line reply.
    const hint = result.code.startsWith('smtp_') ? SMTP_HINTS[opts.language ?? 'en'][result.code as keyof (typeof SMTP_HINTS)['en']] : null;
    throw new MailServerError(result.code, hint ? `${hint} ${result.message}` : result.message, CHECK_FIELDS[result.code]);
  }
  return result;
}

const CHECK_FIELDS: Record<MailCheckCode, string> = {
  imap_auth_failed: 'imap.password', imap_unreachable: 'imap.host',
  smtp_auth_failed: 'smtp.password', smtp_unreachable: 'smtp.host', smtp_tls_failed: 'smtp.secure',
};

const SMTP_HINTS = {
  en: {
    smtp_auth_failed: 'The outgoing (SMTP) server refused the user name or password. Check them, or whether this server needs an app password. The server said:',
    smtp_unreachable: 'The outgoing (SMTP) server cannot be reached. Check the host and port. Details:',
    smtp_tls_failed: 'The secure connection to the outgoing (SMTP) server failed. Try the other security setting (TLS on port 465, STARTTLS on 587). Details:',
  },
  es: {
    smtp_auth_failed: 'El servidor de salida (SMTP) rechazó el usuario o la contraseña. Revíselos, o compruebe si este servidor exige una contraseña de aplicación. El servidor dijo:',
    smtp_unreachable: 'No se puede conectar con el servidor de salida (SMTP). Revise el servidor y el puerto. Detalles:',
    smtp_tls_failed: 'Falló la conexión segura con el servidor de salida (SMTP). Pruebe la otra opción de seguridad (TLS en el puerto 465, STARTTLS en el 587). Detalles:',
  },
  nl: {
    smtp_auth_failed: 'De uitgaande (SMTP-)server weigerde de gebruikersnaam of het wachtwoord. Controleer ze, of deze server een app-wachtwoord vraagt. De server zei:',
    smtp_unreachable: 'De uitgaande (SMTP-)server is niet bereikbaar. Controleer de server en de poort. Details:',
    smtp_tls_failed: 'De beveiligde verbinding met de uitgaande (SMTP-)server mislukte. Probeer de andere beveiligingsinstelling (TLS op poort 465, STARTTLS op 587). Details:',
  },
} as const;

// ---------------------------------------------------------------- worker side

/** The pending check with its settings decrypted, or null when it was answered or abandoned. */
export async function getPendingImapCheck(em: Em, key: Buffer | null, id: string): Promise<{ check: ImapCheck; settings: MailCheckSettings | null } | null> {
  const check = await em.findOne(ImapCheck, { id, status: 'pending' }, { populate: ['account'] });
  if (!check) return null;
  const row = await kysely(em).selectFrom('imap_check').select('secret').where('id', '=', id).executeTakeFirst();
  const sealed = row?.secret ?? null;
  const settings = sealed && key ? (JSON.parse(decryptSecret(key, sealed)) as MailCheckSettings) : null;
  return { check, settings };
}

export async function answerImapCheck(em: Em, id: string, result: ImapCheckResult): Promise<void> {
  // The secret is not needed any more: drop it with the answer.
  await kysely(em).updateTable('imap_check').set({ status: 'done', result, secret: null }).where('id', '=', id).execute();
}
