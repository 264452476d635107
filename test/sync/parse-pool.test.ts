// The parse pool: as many threads as DOSSIER_PARSE_THREADS asks (the memory lever for small hosts), and each
// parse comes back with the raw source stored and a search vector in the form the database takes: binary
// for PostgreSQL, a literal for embedded PGlite (which sends parameters as text).
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/core/platform/config.ts';
import { createLocalBlobStore } from '../../src/core/blobs/blob-store.ts';
import { createParsePool } from '../../src/sync/parse-pool.ts';

const raw = Buffer.from('From: Ana <ana@cliente.example>\r\nTo: info@firm.example\r\nSubject: Declaración IVA\r\nMessage-ID: <pool-1@cliente.example>\r\n\r\nAdjunto la declaración.\r\n');

function configFor(env: Record<string, string>) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'dossier-pool-'));
  return loadConfig({ DOSSIER_DATA_DIR: dataDir, ...env });
}

t.test('DOSSIER_PARSE_THREADS sets the number of parse threads', async (t) => {
  const pool = createParsePool(configFor({ DOSSIER_PARSE_THREADS: '1' }));
  t.teardown(() => pool.close());
  t.equal(pool.threads, 1);
  const outcomes = await Promise.all([0, 1, 2].map(() => pool.parse({ raw })));
  t.same(outcomes.map((o) => o.kind), ['parsed', 'parsed', 'parsed'], 'one thread still parses everything it is given');
});

t.test('the search vector comes in the form the database takes', async (t) => {
  const scaled = configFor({ DATABASE_URL: 'postgres://dossier@127.0.0.1:5432/x', REDIS_URL: 'redis://127.0.0.1:6379', DOSSIER_SECRET_KEY: 'a'.repeat(64), DOSSIER_PARSE_THREADS: '1' });
  const embedded = configFor({ DOSSIER_PARSE_THREADS: '1' });
  for (const [label, config, binary] of [['PostgreSQL', scaled, true], ['PGlite', embedded, false]] as const) {
    const pool = createParsePool(config);
    const outcome = await pool.parse({ raw });
    await pool.close();
    if (outcome.kind !== 'parsed') {
      t.fail(`${label}: ${outcome.kind}`);
      continue;
    }
    t.equal(Buffer.isBuffer(outcome.search), binary, `${label}: ${binary ? 'binary' : 'literal'}`);
    if (!binary) t.match(outcome.search, /'declaracion':\d/, `${label}: the accent-free term is in the vector`);
    t.ok(outcome.raw && (await createLocalBlobStore(config.blobDir).has(outcome.raw.sha256)), `${label}: the raw source is stored`);
  }
});
