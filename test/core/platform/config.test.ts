// Configuration: defaults for the one-command start, one error listing every bad variable, and the
// embedded secret key generated once and reused (losing it would make stored mailbox passwords unreadable).
import t from 'tap';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig, resolveSecretKey } from '../../../src/core/platform/config.ts';
import { decryptSecret, encryptSecret } from '../../../src/core/platform/secrets.ts';

t.test('nothing configured means embedded mode on port 3000 with data under ./data', async (t) => {
  const c = loadConfig({});
  t.equal(c.port, 3000);
  t.equal(c.databaseUrl, null);
  t.equal(c.redisUrl, null);
  t.equal(c.dataDir, path.resolve('data'));
  t.equal(c.syncIntervalSeconds, 60);
  t.equal(c.maxAttachmentBytes, 25 * 1024 * 1024);
  t.equal(c.trustProxy, false);
  t.equal(c.parseThreads, null, 'one parse thread per core');
  t.ok(Object.isFrozen(c));
});

t.test('every bad variable is reported at once', async (t) => {
  try {
    loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', DOSSIER_SYNC_INTERVAL: '1', DOSSIER_ADMIN_EMAIL: 'a@b.example', DOSSIER_PARSE_THREADS: '0' });
    t.fail('should throw');
  } catch (err) {
    t.ok(err instanceof ConfigError);
    const problems = (err as ConfigError).problems.join('\n');
    for (const name of ['PORT', 'DATABASE_URL', 'DOSSIER_SYNC_INTERVAL', 'DOSSIER_SECRET_KEY', 'REDIS_URL', 'DOSSIER_ADMIN_PASSWORD', 'DOSSIER_PARSE_THREADS']) {
      t.match(problems, name, `names ${name}`);
    }
  }
});

t.test('scaled mode needs a shared secret key of 32 bytes', async (t) => {
  const base = { DATABASE_URL: 'postgres://h/db', REDIS_URL: 'redis://h:6379' };
  t.throws(() => loadConfig({ ...base, DOSSIER_SECRET_KEY: 'short' }), /DOSSIER_SECRET_KEY must be 32 bytes/);
  const c = loadConfig({ ...base, DOSSIER_SECRET_KEY: 'ab'.repeat(32) });
  t.equal(c.secretKey!.length, 32);
});

t.test('embedded mode generates a private key file once and keeps using it', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dossier-key-'));
  const first = await resolveSecretKey(loadConfig({ DOSSIER_DATA_DIR: dir }));
  const file = path.join(dir, 'secret.key');
  t.equal(statSync(file).mode & 0o777, 0o600, 'readable by the owner only');
  const sealed = encryptSecret(first.secretKey!, 'imap password');
  const second = await resolveSecretKey(loadConfig({ DOSSIER_DATA_DIR: dir }));
  t.equal(decryptSecret(second.secretKey!, sealed), 'imap password', 'a restart can still read stored credentials');
  t.equal(readFileSync(file, 'utf8').trim().length, 64);
});

t.test('sealed secrets do not contain the plaintext and tampering is detected', async (t) => {
  const key = Buffer.alloc(32, 7);
  const sealed = encryptSecret(key, 'hunter2-hunter2');
  t.notMatch(sealed, 'hunter2');
  t.not(encryptSecret(key, 'hunter2-hunter2'), sealed, 'a fresh nonce each time');
  const parts = sealed.split(':');
  parts[3] = Buffer.from('tampered').toString('base64');
  t.throws(() => decryptSecret(key, parts.join(':')));
  t.throws(() => decryptSecret(Buffer.alloc(32, 8), sealed), 'another key cannot open it');
});

t.test('S3 blob storage: the bucket turns it on, the other DOSSIER_S3_* variables refine it', async (t) => {
  t.equal(loadConfig({}).s3, null, 'off by default: blobs in the blob dir');
  t.same(loadConfig({ DOSSIER_S3_BUCKET: 'mail' }).s3, {
    bucket: 'mail', prefix: '', endpoint: null, region: 'us-east-1', accessKeyId: null, secretAccessKey: null, forcePathStyle: false,
  }, 'AWS defaults: us-east-1, the default credential chain, virtual-hosted addressing');
  const s3 = loadConfig({
    DOSSIER_S3_BUCKET: 'mail', DOSSIER_S3_PREFIX: '/dossier/prod/', DOSSIER_S3_ENDPOINT: 'http://minio:9000', DOSSIER_S3_REGION: 'eu-central-1',
    DOSSIER_S3_ACCESS_KEY_ID: 'id', DOSSIER_S3_SECRET_ACCESS_KEY: 'secret', DOSSIER_S3_FORCE_PATH_STYLE: 'true',
  }).s3;
  t.same(s3, { bucket: 'mail', prefix: 'dossier/prod/', endpoint: 'http://minio:9000', region: 'eu-central-1', accessKeyId: 'id', secretAccessKey: 'secret', forcePathStyle: true });
  t.ok(Object.isFrozen(s3));
});

t.test('S3 settings that cannot work are refused at start-up', async (t) => {
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig(env);
      return '';
    } catch (err) {
      return (err as ConfigError).problems.join('\n');
    }
  };
  t.match(problems({ DOSSIER_S3_BUCKET: 'mail', DOSSIER_S3_ACCESS_KEY_ID: 'id' }), /DOSSIER_S3_ACCESS_KEY_ID and DOSSIER_S3_SECRET_ACCESS_KEY must be set together/);
  t.match(problems({ DOSSIER_S3_BUCKET: 'mail', DOSSIER_S3_FORCE_PATH_STYLE: 'yes' }), /DOSSIER_S3_FORCE_PATH_STYLE must be true or false/);
  t.match(problems({ DOSSIER_S3_BUCKET: 'mail', DOSSIER_S3_ENDPOINT: 'minio:9000' }), /DOSSIER_S3_ENDPOINT/);
  t.match(problems({ DOSSIER_S3_BUKET: 'mail', DOSSIER_S3_ENDPOINT: 'http://minio:9000' }), /DOSSIER_S3_BUCKET is required when DOSSIER_S3_BUKET, DOSSIER_S3_ENDPOINT are set/, 'a misspelt bucket variable does not fall back to local disk silently');
});
