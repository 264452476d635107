// Built messages are read by a real MIME implementation (Dovecot's) the way the builder means them: structure,
// decoded subject, names and bodies, threading headers; and the corpus listing finds the messages and only them.
import t from 'tap';
import path from 'node:path';
import { getDovecot } from '../support/dovecot.ts';
import { ImapProbe, quote, status } from './imap-probe.ts';
import { createTestMessageId, createTestMime } from '../support/factories.ts';
import { listCorpus } from '../support/corpus.ts';

const dovecot = await getDovecot();

async function search(user: string, ...query: string[]): Promise<number[]> {
  const out = await dovecot.doveadm(['search', '-u', user, 'mailbox', 'INBOX', ...query]);
  return out.split('\n').slice(1).filter(Boolean).map((l) => Number(l.split('\t')[1])).sort((a, b) => a - b);
}

t.test('a built message has the MIME structure and decoded text it was given', async (t) => {
  const u = await dovecot.addUser();
  const raw = createTestMime({
    from: 'Zoë Müller <zoe@client.test>',
    to: ['Firm <firm@dossier.test>', 'backup@dossier.test'],
    subject: 'Überweisung März',
    text: 'Viele Grüße\nZoë',
    html: '<p>Viele <b>Grüße</b></p><img src="cid:logo@client">',
    attachments: [
      { filename: 'report.pdf', contentType: 'application/pdf', content: Buffer.alloc(3000, 7) },
      { filename: 'Bestätigung.txt', content: 'ok' },
      { filename: 'logo.png', contentType: 'image/png', content: Buffer.from([137, 80, 78, 71]), inline: true, cid: 'logo@client' },
    ],
  });
  t.notOk(/[^\r]\n/.test(raw), 'every line ends in CRLF');
  t.notOk(/[^\t\r\n\x20-\x7e]/.test(raw), 'the raw message is 7-bit: everything non-ASCII is encoded');
  const [uid] = await dovecot.appendMany(u.user, [raw]);

  const p = await ImapProbe.connect(dovecot.port);
  t.teardown(() => p.close());
  t.equal(status(await p.command(`LOGIN ${quote(u.user)} ${quote(u.password)}`)), 'OK');
  await p.command('SELECT INBOX');
  const structure = (await p.command(`UID FETCH ${uid} (BODYSTRUCTURE)`))[0] ?? '';
  t.match(structure, /\("text" "plain" .*\("text" "html" .*"alternative"/i, 'text and html as alternatives');
  // 3,000 bytes → 4,000 base64 characters in 53 lines of at most 76: 4,000 + 52 CRLF.
  t.match(structure, /"application" "pdf" \("name" "report.pdf"\) NIL NIL "base64" 4104 /i, 'the PDF, base64 in 76-column lines');
  t.match(structure, /"filename\*" "UTF-8''Best%C3%A4tigung.txt"/i, 'a non-ASCII file name in RFC 2231 form');
  t.match(structure, /"mixed"/i, 'inside multipart/mixed');
  t.match(structure, /"image" "png" .*"<logo@client>" NIL "base64".*"inline"/i, 'inline image with its Content-ID');

  t.same(await search(u.user, 'subject', 'Überweisung März'), [uid], 'subject decoded from RFC 2047');
  t.same(await search(u.user, 'from', 'Zoë Müller'), [uid], 'display name decoded');
  t.same(await search(u.user, 'body', 'Viele Grüße'), [uid], 'UTF-8 body decoded from base64');
  t.same(await search(u.user, 'to', 'backup@dossier.test'), [uid]);
});

t.test('threading headers and Message-ID are what a server threads by', async (t) => {
  const u = await dovecot.addUser();
  const first = createTestMessageId();
  const second = createTestMessageId();
  const uids = await dovecot.appendMany(u.user, [
    createTestMime({ subject: 'Contract', messageId: first }),
    createTestMime({ subject: 'Unrelated', messageId: null }),
    createTestMime({ subject: 'Re: Contract', messageId: second, inReplyTo: first, references: [first] }),
    createTestMime({ subject: 'Re: Re: Contract', inReplyTo: second, references: [first, second] }),
  ]);
  const p = await ImapProbe.connect(dovecot.port);
  t.teardown(() => p.close());
  await p.command(`LOGIN ${quote(u.user)} ${quote(u.password)}`);
  await p.command('SELECT INBOX');
  const thread = (await p.command('UID THREAD REFERENCES UTF-8 ALL')).find((l) => l.startsWith('* THREAD')) ?? '';
  t.equal(thread, `* THREAD (${uids[0]} ${uids[2]} ${uids[3]})(${uids[1]})`, 'the replies thread under the first message');
  const ids = await dovecot.doveadm(['fetch', '-u', u.user, 'uid hdr.message-id', 'mailbox', 'INBOX', 'all']);
  const byUid = new Map(ids.split('\n').slice(1).filter(Boolean).map((l) => l.split('\t') as [string, string]));
  t.equal(byUid.get(String(uids[0])), first);
  t.equal(byUid.get(String(uids[1])), '', 'messageId: null leaves the header out');
});

t.test('listCorpus finds the shared corpora, messages only', async (t) => {
  const real = await listCorpus('real');
  const hostile = await listCorpus('hostile');
  t.ok(real.length > 100, `${real.length} real messages`);
  t.ok(hostile.some((f) => f.endsWith('duplicate-message-id-a.eml')));
  const names = [...real, ...hostile].map((f) => path.basename(f).toLowerCase());
  t.notOk(names.some((n) => n === 'readme.md' || n.endsWith('.js') || n.startsWith('.')), 'no docs, scripts or dotfiles');
  t.same([...real].sort(), real, 'stable order');
});
