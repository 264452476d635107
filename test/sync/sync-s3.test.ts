// The sync engine with its blobs in S3 (s3rver, a real S3-compatible server): raw sources and attachments,
// written by the parse threads from the config they are handed, land in the bucket under the configured
// prefix, and nothing lands on local disk.
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { blobPath } from '../../src/core/blobs/blob-store.ts';
import { startS3Server } from '../support/s3-server.ts';
import { testConfig, uniq } from '../support/env.ts';
import { listLocations, query, runSync, startSyncEnv, type SyncEnv } from '../support/sync.ts';
import { createTestImapAccount, createTestMail } from '../support/factories.ts';

const s3 = await startS3Server();
const prefix = `${uniq('sync')}/`;
let env: SyncEnv;
t.before(async () => {
  env = await startSyncEnv({
    config: testConfig({
      DOSSIER_S3_BUCKET: s3.bucket, DOSSIER_S3_ENDPOINT: s3.endpoint, DOSSIER_S3_FORCE_PATH_STYLE: 'true', DOSSIER_S3_PREFIX: prefix,
      DOSSIER_S3_ACCESS_KEY_ID: s3.options.accessKeyId, DOSSIER_S3_SECRET_ACCESS_KEY: s3.options.secretAccessKey,
    }),
  });
});
t.teardown(async () => {
  await env.close();
  await s3.close();
});

t.test('raw sources and attachments, small and multi-megabyte, are stored in the bucket', async (t) => {
  const mail = await env.dovecot.addUser();
  const big = randomBytes(12 * 1024 * 1024);
  const small = randomBytes(20_000);
  await env.dovecot.appendMany(mail.user, [
    createTestMail({ subject: 'Scans', attachment: { name: 'scans.pdf', content: big } }),
    createTestMail({ subject: 'Invoice', attachment: { name: 'invoice.pdf', content: small } }),
    createTestMail({ subject: 'Plain' }),
  ]);
  const account = await createTestImapAccount(env, mail);
  const outcome = await runSync(env, account.id);
  t.equal(outcome.outcome, 'done', JSON.stringify(outcome));

  const locs = await listLocations(env.db, account.id);
  t.same(locs.map((l) => l.parse_status), ['ok', 'ok', 'ok']);
  const attachments = await query<{ sha256: string; size: string }>(env.db,
    'select a.sha256, a.size from attachment a join message_location l on l.message_id = a.message_id join mailbox b on b.id = l.mailbox_id where b.account_id = ? order by a.size desc', [account.id]);
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  t.same(attachments.map((a) => a.sha256), [sha(big), sha(small)], 'both attachments decoded whole');

  const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix }));
  const keys = new Set((listed.Contents ?? []).map((o) => o.Key));
  for (const blob of [...locs.map((l) => l.raw_blob), ...attachments.map((a) => a.sha256)]) t.ok(keys.has(prefix + blobPath(blob)), `${blob} is in the bucket`);
  const chunks: Buffer[] = [];
  for await (const c of await env.blobs.get(sha(big))) chunks.push(c as Buffer);
  t.ok(Buffer.concat(chunks).equals(big), 'the large attachment reads back whole');
  t.notOk(existsSync(env.config.blobDir), 'nothing written to the local blob dir');
});
