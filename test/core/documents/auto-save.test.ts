// Auto-saved attachments on real PostgreSQL and the real blob store, with mail run through the sync
// pipeline's parse + store (which files): real documents, no logos or cid images, one document per
// content, winmail.dat unpacked (a real Outlook TNEF from the shared corpus), oversized files marked.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { openDb } from '../../../src/core/platform/db.ts';
import { createLocalBlobStore } from '../../../src/core/blobs/blob-store.ts';
import { isWellFramedTnef } from '../../../src/core/mail/tnef.ts';
import { skipReason, TINY_IMAGE_BYTES } from '../../../src/core/documents/auto-save.ts';
import { testConfig, uniqEmail } from '../../support/env.ts';
import { createFiledTestMessage, createTestAccount, createTestClient, createTestContact, createTestMessageFromSource, createTestPdf, createTestPng, createTestUser, listMessageRecords } from '../../support/factories.ts';

const config = testConfig();
const db = await openDb(config, { migrate: false, poolMax: 4 });
const blobs = createLocalBlobStore(config.blobDir);
const deps = { blobs, maxAttachmentBytes: config.maxAttachmentBytes };
t.teardown(() => db.close());
const { user } = await createTestUser(db);
const box = await createTestAccount(db, user, { visibility: 'public' });

const b64 = (b: Buffer) => b.toString('base64').replace(/.{76}/g, '$&\r\n');

/** A typical client mail: HTML with an embedded (cid:) photo, a signature logo attached, and a PDF. */
function clientMail(from: string, pdf: Buffer): Buffer {
  const photo = createTestPng(40_000);
  return Buffer.from([
    `From: Client <${from}>`, `To: <${box.account.email}>`, 'Subject: Documents for the tax return', `Message-ID: <${randomUUID()}@client.example>`,
    'Date: Mon, 06 Jan 2025 10:00:00 +0100', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="mix"', '',
    '--mix', 'Content-Type: multipart/related; boundary="rel"', '',
    '--rel', 'Content-Type: text/html; charset=utf-8', '', '<p>Here they are <img src="cid:photo1@client.example"></p>',
    '--rel', 'Content-Type: image/png', 'Content-ID: <photo1@client.example>', 'Content-Disposition: inline; filename="photo.png"', 'Content-Transfer-Encoding: base64', '', b64(photo),
    '--rel--',
    '--mix', 'Content-Type: image/png; name="logo.png"', 'Content-Disposition: attachment; filename="logo.png"', 'Content-Transfer-Encoding: base64', '', b64(createTestPng(2_500)),
    '--mix', 'Content-Type: application/pdf; name="tax return.pdf"', 'Content-Disposition: attachment; filename="tax return.pdf"', 'Content-Transfer-Encoding: base64', '', b64(pdf),
    '--mix--', '',
  ].join('\r\n'));
}

type DocRow = { name: string; source: string; status: string; visible_to_client: boolean; message_id: string | null; sha256: string | null; content_type: string; size: number | string };
const docsOf = (clientId: string) =>
  db.em.fork().execute<DocRow[]>('select name, source, status, visible_to_client, message_id, sha256, content_type, size from document where client_id = ? order by name', [clientId]);

async function autoSavingClient() {
  const client = await createTestClient(db);
  const addr = uniqEmail('autosave');
  await createTestContact(db, deps, { emails: [{ address: addr, autoSaveAttachments: true }], clientIds: [client.id] });
  return { client, addr };
}

t.test('the PDF becomes a document; the signature logo and the cid: image do not', async (t) => {
  const { client, addr } = await autoSavingClient();
  const pdf = createTestPdf(60_000);
  const message = await createTestMessageFromSource(db, blobs, box.inbox, clientMail(addr, pdf), deps);
  t.equal((await listMessageRecords(db, message.id)).length, 1, 'the message is filed');
  const docs = await docsOf(client.id);
  t.same(docs.map((d) => [d.name, d.source, d.status, d.visible_to_client, d.message_id, d.content_type]), [['tax return.pdf', 'email', 'saved', false, message.id, 'application/pdf']]);
  const chunks: Buffer[] = [];
  for await (const c of await blobs.get(docs[0]!.sha256!)) chunks.push(c as Buffer);
  t.ok(Buffer.concat(chunks).equals(pdf), 'the stored file is the PDF');
});

t.test('the same PDF twice gives one document', async (t) => {
  const { client, addr } = await autoSavingClient();
  const pdf = createTestPdf(50_000);
  await createTestMessageFromSource(db, blobs, box.inbox, clientMail(addr, pdf), deps);
  await createTestMessageFromSource(db, blobs, box.inbox, clientMail(addr, pdf), deps);
  t.equal((await docsOf(client.id)).length, 1);
});

t.test('a TNEF (winmail.dat) message yields its inner files, not winmail.dat', async (t) => {
  const { client, addr } = await autoSavingClient();
  const source = readFileSync(new URL('../../../../shared/corpus/real/mimekit/tnef/rich-text.eml', import.meta.url), 'latin1')
    .replace(/^From: .*$/m, `From: <${addr}>`)
    .replace(/^Message-ID: .*$/m, `Message-ID: <${randomUUID()}@outlook.example>`);
  await createTestMessageFromSource(db, blobs, box.inbox, Buffer.from(source, 'latin1'), deps);
  const docs = await docsOf(client.id);
  t.same(docs.map((d) => [d.name, d.content_type, Number(d.size)]), [['KITTEN~1.JPG', 'image/jpeg', 375081]], 'the photo inside, no placeholder for the embedded message');
});

t.test('a file over the size cap leaves a visible too_large marker instead of silence', async (t) => {
  const { client, addr } = await autoSavingClient();
  const small = { blobs, maxAttachmentBytes: 30_000 };
  await createFiledTestMessage(db, blobs, { from: addr, attachments: [{ filename: 'huge scan.pdf', contentType: 'application/pdf', content: createTestPdf(40_000) }] }, small);
  const docs = await docsOf(client.id);
  t.same(docs.map((d) => [d.name, d.status, Number(d.size)]), [['huge scan.pdf', 'too_large', 40_000]]);
});

t.test('without autoSaveAttachments the mail is filed but nothing is saved', async (t) => {
  const client = await createTestClient(db);
  const addr = uniqEmail('nosave');
  await createTestContact(db, deps, { emails: [addr], clientIds: [client.id] });
  const message = await createTestMessageFromSource(db, blobs, box.inbox, clientMail(addr, createTestPdf()), deps);
  t.equal((await listMessageRecords(db, message.id)).length, 1);
  t.same(await docsOf(client.id), []);
});

t.test('hygiene rules', async (t) => {
  const base = { filename: 'x', contentType: 'application/pdf', size: 100_000, contentId: null, inline: false };
  t.equal(skipReason(base, null), null);
  t.equal(skipReason({ ...base, inline: true }, null), 'inline');
  t.equal(skipReason({ ...base, contentType: 'image/png', contentId: 'a@b', size: 99_999 }, '<img src="cid:a@b">'), 'inline', 'referenced by cid:');
  t.equal(skipReason({ ...base, contentType: 'image/gif', size: 43 }, null), 'tiny_image', 'tracking pixel');
  t.equal(skipReason({ ...base, contentType: 'image/jpeg', size: TINY_IMAGE_BYTES + 1 }, null), null, 'a real photo');
  t.equal(skipReason({ ...base, filename: 'smime.p7s', contentType: 'application/pkcs7-signature' }, null), 'signature');
  t.equal(skipReason({ ...base, size: 0 }, null), 'empty');
  t.notOk(isWellFramedTnef(Buffer.from('not tnef at all')), 'garbage is not handed to the TNEF library');
});
