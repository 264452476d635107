// The Dovecot harness against the real server: what tests deliver is what an IMAP client sees, the capabilities the
// sync engine relies on are there, and the mailbox manipulations (flags, expunge, recreate) behave as on a real server.
import t from 'tap';
import net from 'node:net';
import { existsSync } from 'node:fs';
import { getDovecot, startDovecot } from '../support/dovecot.ts';
import type { MailUser } from '../support/dovecot.ts';
import { ImapProbe, quote, status } from './imap-probe.ts';

const dovecot = await getDovecot();

function message(subject: string, body = 'Hello.\r\n'): string {
  const id = `<${Math.random().toString(36).slice(2)}@harness.test>`;
  return `From: Ann <ann@client.test>\r\nTo: firm@dossier.test\r\nSubject: ${subject}\r\nMessage-ID: ${id}\r\nDate: Tue, 25 Nov 2025 09:00:00 +0000\r\n\r\n${body}`;
}

async function login(u: MailUser): Promise<ImapProbe> {
  const p = await ImapProbe.connect(u.port, u.host);
  const res = await p.command(`LOGIN ${quote(u.user)} ${quote(u.password)}`);
  if (status(res) !== 'OK') {
    p.close();
    throw new Error(`login failed: ${res.join(' | ')}`);
  }
  return p;
}

function selectInfo(lines: string[]) {
  const num = (re: RegExp) => Number(lines.map((l) => re.exec(l)?.[1]).find((v) => v !== undefined));
  return { exists: num(/^\* (\d+) EXISTS/), uidvalidity: num(/UIDVALIDITY (\d+)/), highestmodseq: num(/HIGHESTMODSEQ (\d+)/) };
}

function fetchedFlags(lines: string[]): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const l of lines) {
    const m = /^\* \d+ FETCH \((.*)\)$/.exec(l);
    if (!m) continue;
    const uid = Number(/UID (\d+)/.exec(m[1] ?? '')?.[1]);
    const flags = (/FLAGS \(([^)]*)\)/.exec(m[1] ?? '')?.[1] ?? '').split(' ').filter((f) => f && f !== '\\Recent');
    out.set(uid, flags.sort());
  }
  return out;
}

t.test('delivered mail is real mail: doveadm and an IMAP client both see it', async (t) => {
  const u = await dovecot.addUser();
  const uids = await dovecot.deliverMany(u.user, [message('one'), message('two'), message('three')]);
  t.same(uids, [1, 2, 3], 'deliverMany returns the UIDs Dovecot assigned');
  t.same(await dovecot.listUids(u.user, 'INBOX'), [1, 2, 3]);
  t.equal(await dovecot.messageCount(u.user, 'INBOX'), 3);

  const p = await login(u);
  t.teardown(() => p.close());
  const sel = selectInfo(await p.command('SELECT INBOX'));
  t.equal(sel.exists, 3, 'IMAP SELECT shows the 3 messages');
  t.equal(sel.uidvalidity, (await dovecot.folderStatus(u.user, 'INBOX')).uidvalidity, 'same UIDVALIDITY as doveadm reports');
  const fetched = await p.command('UID FETCH 1:* (UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
  t.equal(fetched.filter((l) => /^\* \d+ FETCH/.test(l)).length, 3);
  t.ok(fetched.some((l) => l === 'Subject: two'), 'the saved headers come back unchanged');
  t.same([...(await dovecot.fetchFlags(u.user, 'INBOX')).values()], [[], [], []], 'BODY.PEEK left the messages unseen');

  const uid = await dovecot.deliver(u.user, message('to Sent'), { folder: 'Sent', flags: ['\\Seen'] });
  t.equal(uid, 1, 'each folder has its own UIDs');
  t.same(await dovecot.fetchFlags(u.user, 'Sent'), new Map([[1, ['\\Seen']]]), 'deliver sets the requested flags');
});

t.test('appendMany files a batch over IMAP: UIDs in order, flags, INTERNALDATE, bytes IMAP literals forbid', async (t) => {
  const u = await dovecot.addUser();
  await dovecot.createFolder(u.user, 'Clients/Acme');
  const odd = Buffer.concat([Buffer.from('Subject: odd\r\n\r\nNUL:'), Buffer.from([0]), Buffer.from('\nbare LF\n')]);
  const when = new Date('2024-03-05T10:11:12Z');
  const uids = await dovecot.appendMany(u.user, [message('a'), odd, message('c')], { folder: 'Clients/Acme', flags: ['\\Seen'], internalDate: when });
  t.same(uids, [1, 2, 3]);
  t.same(await dovecot.fetchFlags(u.user, 'Clients/Acme'), new Map(uids.map((uid) => [uid, ['\\Seen']])));
  const p = await login(u);
  t.teardown(() => p.close());
  await p.command('SELECT "Clients/Acme"');
  const res = await p.command('UID FETCH 1:* (UID INTERNALDATE)');
  t.equal(res.filter((l) => l.includes('INTERNALDATE "05-Mar-2024 10:11:12 +0000"')).length, 3);
  await t.rejects(dovecot.appendMany('nobody-here', [message('x')]), /unknown user/);
  t.same(await dovecot.deliverMany(u.user, [message('d')], { folder: 'Clients/Acme' }), [4], 'doveadm delivery continues the numbering');
});

t.test('the server offers what the sync engine relies on', async (t) => {
  const u = await dovecot.addUser();
  const p = await login(u);
  t.teardown(() => p.close());
  const caps = (await p.command('CAPABILITY')).find((l) => l.startsWith('* CAPABILITY')) ?? '';
  for (const cap of ['IMAP4rev1', 'CONDSTORE', 'QRESYNC', 'IDLE', 'SPECIAL-USE', 'UIDPLUS', 'MOVE', 'ENABLE']) {
    t.ok(caps.split(' ').includes(cap), `advertises ${cap}`);
  }
  const list = await p.command('LIST "" "*" RETURN (SPECIAL-USE)');
  for (const [name, use] of [['Sent', '\\Sent'], ['Drafts', '\\Drafts'], ['Junk', '\\Junk'], ['Trash', '\\Trash']]) {
    t.ok(list.some((l) => l.startsWith('* LIST (') && l.includes(use ?? '') && l.endsWith(` ${name}`)), `${name} exists with ${use}`);
  }
  t.ok(list.some((l) => /^\* LIST \(.*\) "\/" INBOX$/.test(l)), 'hierarchy separator is "/"');
  t.same(await dovecot.listFolders(u.user), ['Drafts', 'INBOX', 'Junk', 'Sent', 'Trash']);
});

t.test('users: new ones and changed passwords work at once, wrong passwords are refused fast', async (t) => {
  const a = await dovecot.addUser({ prefix: 'info' });
  const b = await dovecot.addUser();
  t.match(a.user, /^info-[0-9a-f]{10}$/);
  t.not(a.user, b.user, 'names are unique');
  t.equal(a.email, `${a.user}@dossier.test`);
  (await login(a)).close();

  const p = await ImapProbe.connect(a.port);
  t.teardown(() => p.close());
  const started = Date.now();
  const wrong = await p.command(`LOGIN ${quote(a.user)} ${quote('not-the-password')}`);
  t.equal(status(wrong), 'NO');
  t.match(wrong.at(-1), /AUTHENTICATIONFAILED/);
  t.ok(Date.now() - started < 1900, 'no 2 s failure delay or brute-force penalty slowing the tests');

  await dovecot.setPassword(a.user, 'changed-password');
  const again = await p.command(`LOGIN ${quote(a.user)} ${quote(a.password)}`);
  t.equal(status(again), 'NO', 'the old password stops working');
  (await login({ ...a, password: 'changed-password' })).close();
  (await login(b)).close();
});

t.test('flags and expunge as another mail client would change them', async (t) => {
  const u = await dovecot.addUser();
  await dovecot.deliverMany(u.user, [message('a'), message('b'), message('c')]);
  const p = await login(u);
  t.teardown(() => p.close());
  // Select first: Dovecot bumps the MODSEQ of messages still in maildir new/ when a client first opens the folder.
  // QRESYNC on: without it, Dovecot 2.3 answers a UID FETCH on a session that already has pending flag updates
  // with those unsolicited FETCH lines, which carry no UID (RFC 7162 3.2.4 makes UID mandatory once enabled).
  await p.command('ENABLE QRESYNC');
  await p.command('SELECT INBOX (CONDSTORE)');
  const before = await dovecot.folderStatus(u.user, 'INBOX');

  await dovecot.setFlags(u.user, 'INBOX', [1, 3], ['\\Seen', '\\Flagged', '$Client']);
  await dovecot.setFlags(u.user, 'INBOX', 3, ['\\Answered']);
  t.same(await dovecot.fetchFlags(u.user, 'INBOX'), new Map([[1, ['$Client', '\\Flagged', '\\Seen']], [2, []], [3, ['\\Answered']]]));
  await dovecot.setFlags(u.user, 'INBOX', 1, []);
  t.same((await dovecot.fetchFlags(u.user, 'INBOX', 1)).get(1), [], 'setFlags with [] clears them');
  const after = await dovecot.folderStatus(u.user, 'INBOX');
  t.ok(after.highestmodseq > before.highestmodseq, 'flag changes raise HIGHESTMODSEQ');
  t.equal(after.unseen, 3);

  const changed = fetchedFlags(await p.command(`UID FETCH 1:* (UID FLAGS) (CHANGEDSINCE ${before.highestmodseq})`));
  t.same(changed, new Map([[1, []], [3, ['\\Answered']]]), 'CHANGEDSINCE finds exactly the changed messages');

  await dovecot.expunge(u.user, 'INBOX', 2);
  t.same(await dovecot.listUids(u.user, 'INBOX'), [1, 3]);
  t.equal(await dovecot.messageCount(u.user, 'INBOX'), 2);
  const noop = await p.command('NOOP');
  t.ok(noop.includes('* VANISHED 2'), 'the open session is told with QRESYNC VANISHED (RFC 7162 3.2.10)');
});

t.test('recreateFolder: new UIDVALIDITY, same messages and flags, UIDs from 1', async (t) => {
  const u = await dovecot.addUser();
  await dovecot.deliverMany(u.user, [message('a'), message('b'), message('c')]);
  await dovecot.expunge(u.user, 'INBOX', 1);
  await dovecot.addFlags(u.user, 'INBOX', 3, ['\\Seen']);
  await dovecot.deliver(u.user, message('sent'), { folder: 'Sent', flags: ['\\Seen'] });

  const p = await login(u);
  t.teardown(() => p.close());
  await p.command('SELECT INBOX');
  const inbox = await dovecot.folderStatus(u.user, 'INBOX');
  const idleFrom = p.lines.length;
  p.write('i1 IDLE\r\n');
  await p.waitForLine(/^\+ /, 5000, idleFrom);

  const recreated = await dovecot.recreateFolder(u.user, 'INBOX');
  t.not(recreated.uidvalidity, inbox.uidvalidity, 'INBOX has a new UIDVALIDITY');
  t.not(recreated.guid, inbox.guid, 'and a new mailbox GUID');
  t.equal(recreated.messages, 2);
  t.same(await dovecot.fetchFlags(u.user, 'INBOX'), new Map([[1, []], [2, ['\\Seen']]]), 'renumbered from 1, flags kept');
  await p.waitForLine(/^\* BYE/, 5000, idleFrom);
  t.pass('a session that had INBOX open is disconnected');

  const q = await login(u);
  t.teardown(() => q.close());
  t.equal(selectInfo(await q.command('SELECT INBOX')).uidvalidity, recreated.uidvalidity, 'a new session sees the new UIDVALIDITY');

  const sent = await dovecot.folderStatus(u.user, 'Sent');
  const sentAfter = await dovecot.recreateFolder(u.user, 'Sent');
  t.not(sentAfter.uidvalidity, sent.uidvalidity, 'a folder gets a new UIDVALIDITY');
  t.same(await dovecot.fetchFlags(u.user, 'Sent'), new Map([[1, ['\\Seen']]]));
  const list = await q.command('LIST "" "Sent" RETURN (SPECIAL-USE)');
  t.ok(list.some((l) => l.includes('\\Sent')), 'the recreated Sent folder is still \\Sent');
  t.same(await dovecot.listFolders(u.user), ['Drafts', 'INBOX', 'Junk', 'Sent', 'Trash'], 'no leftover folder');
});

t.test('a client in IDLE hears of a delivery within seconds', async (t) => {
  const u = await dovecot.addUser();
  const p = await login(u);
  t.teardown(() => p.close());
  await p.command('SELECT INBOX');
  const from = p.lines.length;
  p.write('i1 IDLE\r\n');
  await p.waitForLine(/^\+ /, 5000, from);
  const started = Date.now();
  await dovecot.deliver(u.user, message('new'));
  await p.waitForLine(/^\* 1 EXISTS/, 3000, from);
  t.ok(Date.now() - started < 3000, `EXISTS after ${Date.now() - started} ms`);
  p.write('DONE\r\n');
  await p.waitForLine(/^i1 OK/, 5000, from);
});

t.test('instances coexist, each on its own port, and stop() cleans up', async (t) => {
  const [a, b] = await Promise.all([startDovecot(), startDovecot()]);
  t.not(a.port, b.port);
  t.not(a.port, dovecot.port);
  const ua = await a.addUser();
  await a.deliver(ua.user, message('only in a'));
  t.equal(await a.messageCount(ua.user), 1);
  await t.rejects(b.messageCount(ua.user), 'users are per instance');
  await Promise.all([a.stop(), b.stop()]);
  t.notOk(existsSync(a.dir), 'temp dir removed');
  const refused = await new Promise<boolean>((resolve) => {
    const s = net.connect(a.port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(false))).once('error', () => resolve(true));
  });
  t.ok(refused, 'the port is free again');
});
