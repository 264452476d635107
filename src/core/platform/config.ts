// Reads the environment once into a frozen Config. The only module that touches process.env
// (callers pass env in); every bad variable is reported in one error so an operator fixes all at once.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** A mail server from a URL: imaps/smtps = implicit TLS; imap/smtp = STARTTLS, plain text only to a loopback host. */
export type MailServerUrl = Readonly<{ host: string; port: number; secure: boolean; allowInsecure: boolean }>;
/** One OAuth2 provider's app registration (Microsoft Entra, Google Cloud) and its mail servers. */
export type OAuthProviderConfig = Readonly<{
  clientId: string;
  clientSecret: string | null;
  /** OpenID issuer; endpoints are found by discovery at ISSUER/.well-known/openid-configuration. */
  issuer: string;
  imap: MailServerUrl;
  smtp: MailServerUrl;
}>;

export type Config = Readonly<{
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | null;
  redisUrl: string | null;
  /** 32-byte key for mailbox credentials (AES-256-GCM); resolved by resolveSecretKey in embedded mode. */
  secretKey: Buffer | null;
  publicUrl: string;
  blobDir: string;
  /** Blobs in an S3-compatible bucket instead of blobDir; prefix is '' or ends with '/'. */
  s3: Readonly<{ bucket: string; prefix: string; endpoint: string | null; region: string; accessKeyId: string | null; secretAccessKey: string | null; forcePathStyle: boolean }> | null;
  adminEmail: string | null;
  adminPassword: string | null;
  syncIntervalSeconds: number;
  /** An IMAP connection silent this long while waiting for an answer is dropped (a sync reconnects); an IDLE
   *  connection silent this long is probed with NOOP and dropped when that goes unanswered as long again. */
  imapTimeoutSeconds: number;
  maxAttachmentBytes: number;
  maxUploadBytes: number;
  workerConcurrency: number;
  /** Threads a worker parses mail on; null for one per core. Fewer use less memory and sync slower. */
  parseThreads: number | null;
  cookieSecure: boolean;
  /** Believe X-Forwarded-* (true, a hop count, or a list of proxy addresses) — set only behind a reverse proxy. */
  trustProxy: boolean | number | string;
  logLevel: string;
  /** Prefix for queue keys in Redis, so several installations (or test files) can share one Redis. */
  queuePrefix: string;
  /** OAuth2 sign-in for Microsoft 365 and Google mailboxes; a provider is null when not configured. */
  oauth: Readonly<{ microsoft: OAuthProviderConfig | null; google: OAuthProviderConfig | null }>;
  /** Mail servers on loopback/private/link-local addresses are allowed (an on-premises server). */
  allowPrivateMailHosts: boolean;
  /** Bearer token for GET /metrics (Prometheus); null: no metrics endpoint. */
  metricsToken: string | null;
  /** authserv-ids (lowercase) of the firm's own receiving hosts, whose Authentication-Results header fields are believed. */
  trustedAuthservIds: readonly string[];
}>;

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
  }
}

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = {}): Config {
  const problems: string[] = [];
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return n;
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    if (raw !== 'true' && raw !== 'false') problems.push(`${name} must be true or false (got "${raw}")`);
    return raw === 'true';
  };
  const url = (name: string, protocols: string[]): string | null => {
    const raw = env[name];
    if (!raw) return null;
    try {
      const u = new URL(raw);
      if (!protocols.includes(u.protocol)) problems.push(`${name} must start with ${protocols.join(' or ')} (got "${u.protocol}")`);
    } catch {
      problems.push(`${name} is not a valid URL`);
    }
    return raw;
  };

  const port = int('PORT', 3000, 0, 65535);
  const dataDir = path.resolve(env.DOSSIER_DATA_DIR || './data');
  const databaseUrl = url('DATABASE_URL', ['postgres:', 'postgresql:']);
  const redisUrl = url('REDIS_URL', ['redis:', 'rediss:']);
  const publicUrl = url('DOSSIER_PUBLIC_URL', ['http:', 'https:']) ?? `http://localhost:${port}`;

  let secretKey: Buffer | null = null;
  if (env.DOSSIER_SECRET_KEY) {
    secretKey = parseKey(env.DOSSIER_SECRET_KEY);
    if (!secretKey) problems.push('DOSSIER_SECRET_KEY must be 32 bytes as 64 hex characters or base64 (generate one with: openssl rand -hex 32)');
  } else if (databaseUrl) {
    problems.push('DOSSIER_SECRET_KEY is required when DATABASE_URL is set (every server and worker must share it; generate one with: openssl rand -hex 32)');
  }
  if (databaseUrl && !redisUrl) problems.push('REDIS_URL is required when DATABASE_URL is set (scaled mode runs jobs on Redis)');
  if (redisUrl && !databaseUrl) problems.push('DATABASE_URL is required when REDIS_URL is set (workers on other machines cannot reach the embedded database)');

  let s3: Config['s3'] = null;
  if (env.DOSSIER_S3_BUCKET) {
    const accessKeyId = env.DOSSIER_S3_ACCESS_KEY_ID || null;
    const secretAccessKey = env.DOSSIER_S3_SECRET_ACCESS_KEY || null;
    if ((accessKeyId === null) !== (secretAccessKey === null)) problems.push('DOSSIER_S3_ACCESS_KEY_ID and DOSSIER_S3_SECRET_ACCESS_KEY must be set together (or neither, for the AWS default credentials)');
    const pathStyle = env.DOSSIER_S3_FORCE_PATH_STYLE;
    if (pathStyle && pathStyle !== 'true' && pathStyle !== 'false') problems.push(`DOSSIER_S3_FORCE_PATH_STYLE must be true or false (got "${pathStyle}")`);
    const prefix = (env.DOSSIER_S3_PREFIX ?? '').replace(/^\/+|\/+$/g, '');
    s3 = Object.freeze({
      bucket: env.DOSSIER_S3_BUCKET,
      prefix: prefix ? `${prefix}/` : '',
      endpoint: url('DOSSIER_S3_ENDPOINT', ['http:', 'https:']),
      region: env.DOSSIER_S3_REGION || 'us-east-1',
      accessKeyId,
      secretAccessKey,
      forcePathStyle: pathStyle === 'true',
    });
  } else {
    // A misspelt bucket variable would otherwise store every blob on local disk without a word.
    const stray = Object.keys(env).filter((name) => name.startsWith('DOSSIER_S3_') && env[name]);
    if (stray.length) problems.push(`DOSSIER_S3_BUCKET is required when ${stray.join(', ')} ${stray.length > 1 ? 'are' : 'is'} set`);
  }

  const adminEmail = env.DOSSIER_ADMIN_EMAIL || null;
  const adminPassword = env.DOSSIER_ADMIN_PASSWORD || null;
  if ((adminEmail === null) !== (adminPassword === null)) problems.push('DOSSIER_ADMIN_EMAIL and DOSSIER_ADMIN_PASSWORD must be set together');
  // Length here; strength (zxcvbn) when the administrator is created, which loads the word lists only then.
  if (adminPassword !== null && adminPassword.length < 12) problems.push('DOSSIER_ADMIN_PASSWORD must be at least 12 characters');

  const mailServer = (name: string, fallback: string, kind: 'imap' | 'smtp'): MailServerUrl => {
    const raw = env[name] || fallback;
    const fallbackServer = parseMailServerUrl(fallback, kind)!;
    const parsed = parseMailServerUrl(raw, kind);
    if (!parsed) {
      problems.push(`${name} must look like ${kind}s://host:port or ${kind}://host:port (got "${raw}")`);
      return fallbackServer;
    }
    return parsed;
  };
  const provider = (prefix: string, issuer: string, imap: string, smtp: string): OAuthProviderConfig | null => {
    const clientId = env[`${prefix}_CLIENT_ID`] || null;
    if (!clientId) {
      const stray = Object.keys(env).filter((name) => name.startsWith(`${prefix}_`) && env[name]);
      if (stray.length) problems.push(`${prefix}_CLIENT_ID is required when ${stray.join(', ')} ${stray.length > 1 ? 'are' : 'is'} set`);
      return null;
    }
    return Object.freeze({
      clientId,
      clientSecret: env[`${prefix}_CLIENT_SECRET`] || null,
      issuer: (url(`${prefix}_ISSUER`, ['https:', 'http:']) ?? issuer).replace(/\/+$/, ''),
      imap: mailServer(`${prefix}_IMAP`, imap, 'imap'),
      smtp: mailServer(`${prefix}_SMTP`, smtp, 'smtp'),
    });
  };
  const tenant = env.DOSSIER_OAUTH_MICROSOFT_TENANT || 'organizations';
  if (!/^[A-Za-z0-9.-]+$/.test(tenant)) problems.push(`DOSSIER_OAUTH_MICROSOFT_TENANT must be a tenant id, domain, "organizations" or "common" (got "${tenant}")`);
  const metricsToken = env.DOSSIER_METRICS_TOKEN || null;
  if (metricsToken !== null && (metricsToken.length < 16 || /\s/.test(metricsToken))) problems.push('DOSSIER_METRICS_TOKEN must be at least 16 characters without spaces (generate one with: openssl rand -hex 24)');
  const oauth = Object.freeze({
    microsoft: provider('DOSSIER_OAUTH_MICROSOFT', `https://login.microsoftonline.com/${tenant}/v2.0`, 'imaps://outlook.office365.com:993', 'smtp://smtp.office365.com:587'),
    google: provider('DOSSIER_OAUTH_GOOGLE', 'https://accounts.google.com', 'imaps://imap.gmail.com:993', 'smtps://smtp.gmail.com:465'),
  });

  const config: Config = Object.freeze({
    port,
    host: env.HOST || '0.0.0.0',
    dataDir,
    databaseUrl,
    redisUrl,
    secretKey,
    publicUrl: publicUrl.replace(/\/+$/, ''),
    blobDir: path.resolve(env.DOSSIER_BLOB_DIR || path.join(dataDir, 'blobs')),
    s3,
    adminEmail,
    adminPassword,
    syncIntervalSeconds: int('DOSSIER_SYNC_INTERVAL', 60, 5, 86400),
    imapTimeoutSeconds: int('DOSSIER_IMAP_TIMEOUT', 120, 1, 3600),
    maxAttachmentBytes: int('DOSSIER_MAX_ATTACHMENT_MB', 25, 1, 1024) * 1024 * 1024,
    maxUploadBytes: int('DOSSIER_MAX_UPLOAD_MB', 50, 1, 1024) * 1024 * 1024,
    workerConcurrency: int('DOSSIER_WORKER_CONCURRENCY', 4, 1, 64),
    parseThreads: env.DOSSIER_PARSE_THREADS ? int('DOSSIER_PARSE_THREADS', 1, 1, 64) : null,
    cookieSecure: env.DOSSIER_COOKIE_SECURE ? env.DOSSIER_COOKIE_SECURE === 'true' : publicUrl.startsWith('https:'),
    trustProxy: parseTrustProxy(env.DOSSIER_TRUST_PROXY),
    logLevel: env.LOG_LEVEL || 'info',
    queuePrefix: env.DOSSIER_QUEUE_PREFIX || 'dossier',
    oauth,
    allowPrivateMailHosts: bool('DOSSIER_ALLOW_PRIVATE_MAIL_HOSTS', false),
    metricsToken,
    trustedAuthservIds: (env.DOSSIER_TRUSTED_AUTHSERV_IDS ?? '').split(',').map((id) => id.trim().toLowerCase()).filter(Boolean),
  });
  if (problems.length) throw new ConfigError(problems);
  return config;
}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\]|::1)$/i;

/** `imaps://host:993` → implicit TLS; `imap://host:143` → STARTTLS, or plain text when the host is loopback. */
export function parseMailServerUrl(raw: string, kind: 'imap' | 'smtp'): MailServerUrl | null {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return null;
  }
  const secure = u.protocol === `${kind}s:`;
  if (!secure && u.protocol !== `${kind}:`) return null;
  if (!u.hostname || u.pathname.replace(/\/+$/, '') || u.search || u.username) return null;
  const port = u.port ? Number(u.port) : kind === 'imap' ? (secure ? 993 : 143) : secure ? 465 : 587;
  return Object.freeze({ host: u.hostname.replace(/^\[|\]$/g, ''), port, secure, allowInsecure: !secure && LOOPBACK.test(u.hostname) });
}

function parseTrustProxy(raw: string | undefined): boolean | number | string {
  if (!raw || raw === 'false') return false;
  if (raw === 'true') return true;
  return /^\d+$/.test(raw) ? Number(raw) : raw;
}

function parseKey(raw: string): Buffer | null {
  const hex = /^[0-9a-f]{64}$/i.test(raw) ? Buffer.from(raw, 'hex') : null;
  const key = hex ?? Buffer.from(raw, 'base64');
  return key.length === 32 ? key : null;
}

/**
 * Embedded mode: a key generated once into the data dir, so `npm start` needs no setup. `generate: false`
 * (restore) only reads it: a fresh key could never decrypt the restored mailbox passwords.
 */
export async function resolveSecretKey(config: Config, { generate = true } = {}): Promise<Config> {
  if (config.secretKey) return config;
  const file = path.join(config.dataDir, 'secret.key');
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  let key: Buffer | null = null;
  try {
    key = parseKey((await readFile(file, 'utf8')).trim());
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (!key && !generate) return config;
  if (!key) {
    key = randomBytes(32);
    await writeFile(file, key.toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  }
  return Object.freeze({ ...config, secretKey: key });
}
