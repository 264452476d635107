// Test configuration: real PostgreSQL and Redis at DATABASE_URL / REDIS_URL (defaults: this machine's),
// one migrated database for the run (test/support/global-setup.ts), a unique key prefix per test file.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../src/core/platform/config.ts';

export const TEST_DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/dossier_test';
export const TEST_REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

/** A fresh config for one test file: shared test database, own data dir, own Redis prefix. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'dossier-test-'));
  return loadConfig({
    DATABASE_URL: TEST_DATABASE_URL,
    REDIS_URL: TEST_REDIS_URL,
    DOSSIER_SECRET_KEY: randomBytes(32).toString('hex'),
    DOSSIER_DATA_DIR: dataDir,
    DOSSIER_QUEUE_PREFIX: `dossier-test-${randomUUID().slice(0, 8)}`,
    LOG_LEVEL: 'silent',
    // Dovecot and the SMTP sink listen on 127.0.0.1.
    DOSSIER_ALLOW_PRIVATE_MAIL_HOSTS: 'true',
    ...overrides,
  });
}

/**
 * The environment of a Dossier process (`runDossier`) that shares `config`'s database, Redis, key, data dir and
 * queue prefix with the test, so the test's own connections see what the process does. Scheduled syncs hourly
 * unless `extra` says otherwise.
 */
export function processEnv(config: Config, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: config.databaseUrl!, REDIS_URL: config.redisUrl!, DOSSIER_SECRET_KEY: config.secretKey!.toString('hex'),
    DOSSIER_DATA_DIR: config.dataDir, DOSSIER_QUEUE_PREFIX: config.queuePrefix, DOSSIER_SYNC_INTERVAL: '3600', LOG_LEVEL: 'warn',
    // Dovecot listens on 127.0.0.1: the on-premises allowance, as testConfig sets it.
    DOSSIER_ALLOW_PRIVATE_MAIL_HOSTS: 'true',
    ...extra,
  };
}

/** Unique, readable values so every test owns its rows. */
export const uniq = (label = 'x') => `${label}-${randomUUID().slice(0, 8)}`;
export const uniqEmail = (label = 'user') => `${uniq(label)}@test.example`;
