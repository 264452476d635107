// Mail accounts through the full server: the login check (done by a worker, the API never opens IMAP),
// who sees and manages which account, the account view, updates, re-entering a password, deletion.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { userSession, type TestApp } from '../support/app.ts';
import { startAppWithWorker } from '../support/app-worker.ts';
import type { Dovecot, MailUser } from '../support/dovecot.ts';
import { createTestMail } from '../support/factories.ts';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';

let ta: TestApp;
let dovecot: Dovecot;
let close: () => Promise<void>;
let sink: SmtpSink;
t.before(async () => {
  ({ ta, dovecot, close } = await startAppWithWorker('api-test'));
  sink = await startSmtpSink({ requireAuth: true });
});
t.teardown(async () => {
  await sink.close();
  await close();
});

const body = (mail: MailUser, over: { password?: string; port?: number; visibility?: 'private' | 'public'; folders?: string[] } = {}) => ({
  name: `Box ${mail.user}`, email: mail.email, visibility: over.visibility ?? 'private',
  imap: { host: mail.host, port: over.port ?? mail.port, secure: false, allowInsecure: true, username: mail.user, password: over.password ?? mail.password },
  smtp: { host: sink.host, port: sink.port, secure: false, allowInsecure: true, username: sink.user, password: sink.password },
  ...(over.folders ? { folders: over.folders } : {}),
});
const until = async (fn: () => Promise<boolean>, ms = 20_000) => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
};

t.test('create checks the login first: wrong password and unreachable server are 422 with the server\'s words', async (t) => {
  const s = await userSession(ta);
  const mail = await dovecot.addUser();
  const bad = await s.request('POST', '/api/mail-accounts', body(mail, { password: 'not-the-password' }));
  t.equal(bad.statusCode, 422);
  t.equal(bad.json().error.code, 'imap_auth_failed');
  t.match(bad.json().error.message, /refused the login: .*(auth|fail)/i, 'carries the server\'s own text');
  const down = await s.request('POST', '/api/mail-accounts', body(mail, { port: 1 }));
  t.equal(down.statusCode, 422);
  t.equal(down.json().error.code, 'imap_unreachable');
  t.match(down.json().error.message, /refused the connection/);
  const list = await s.request('GET', '/api/mail-accounts');
  t.notOk(list.json().items.some((a: { email: string }) => a.email === mail.email), 'nothing was saved');
});

t.test('create, view, visibility, sync now, folders, delete', async (t) => {
  const owner = await userSession(ta, 'staff', 'Olivia Owner');
  const other = await userSession(ta, 'staff');
  const admin = await userSession(ta, 'admin');
  const mail = await dovecot.addUser();
  await dovecot.createFolder(mail.user, 'Clients');
  await dovecot.appendMany(mail.user, [createTestMail(), createTestMail()]);
  await dovecot.appendMany(mail.user, [createTestMail()], { folder: 'Clients' });

  const res = await owner.request('POST', '/api/mail-accounts', body(mail, { folders: ['Clients'] }));
  t.equal(res.statusCode, 201, res.body);
  const account = res.json();
  t.match(account, {
    name: `Box ${mail.user}`, email: mail.email, visibility: 'private', owner: { id: owner.user.id, name: 'Olivia Owner' },
    imap: { host: mail.host, port: mail.port, secure: false, username: mail.user }, extraFolders: ['Clients'],
  });
  t.same(Object.keys(account).sort(), ['auth', 'email', 'extraFolders', 'folders', 'id', 'imap', 'lastError', 'lastSyncAt', 'name', 'owner', 'progress', 'provider', 'smtp', 'status', 'visibility']);
  t.match(account, { auth: 'password', provider: null, smtp: { host: sink.host, port: sink.port, secure: false, allowInsecure: true, username: sink.user } });
  t.notMatch(res.body, mail.password, 'the IMAP password is never returned');
  t.notMatch(res.body, sink.password, 'nor the SMTP one');
  const secret = await ta.db.em.fork().execute<{ secret: string }[]>('select secret from mail_account where id = ?', [account.id]);
  t.notMatch(secret[0]!.secret, mail.password, 'stored encrypted');
  t.notMatch(secret[0]!.secret, sink.password);

  // The first sync runs on its own.
  t.ok(await until(async () => {
    const a = (await owner.request('GET', `/api/mail-accounts/${account.id}`)).json();
    return a.status === 'idle' && a.lastSyncAt !== null && a.folders.length === 3;
  }), 'synced after creation');
  const synced = (await owner.request('GET', `/api/mail-accounts/${account.id}`)).json();
  t.same(synced.folders.map((f: { path: string; role: string; serverMessages: number; storedMessages: number; failedMessages: number }) => [f.path, f.role, f.serverMessages, f.storedMessages, f.failedMessages]),
    [['INBOX', 'inbox', 2, 2, 0], ['Sent', 'sent', 0, 0, 0], ['Clients', 'other', 1, 1, 0]]);
  t.ok(synced.folders.every((f: { syncedAt: string | null }) => f.syncedAt));
  t.equal(synced.progress, null);

  // Private: the owner's alone, admins included.
  t.equal((await other.request('GET', `/api/mail-accounts/${account.id}`)).statusCode, 404);
  t.equal((await admin.request('GET', `/api/mail-accounts/${account.id}`)).statusCode, 404);
  t.notOk((await other.request('GET', '/api/mail-accounts')).json().items.some((a: { id: string }) => a.id === account.id));
  t.equal((await other.request('PATCH', `/api/mail-accounts/${account.id}`, { name: 'x' })).statusCode, 404);
  t.equal((await other.request('DELETE', `/api/mail-accounts/${account.id}`)).statusCode, 404);
  t.equal((await other.request('POST', `/api/mail-accounts/${account.id}/sync`)).statusCode, 404);

  // Sync now, and refresh all I can see.
  const now = await owner.request('POST', `/api/mail-accounts/${account.id}/sync`);
  t.equal(now.statusCode, 202);
  const all = await owner.request('POST', '/api/mail-accounts/sync');
  t.equal(all.statusCode, 202);
  t.ok(all.json().queued >= 1);

  // The folder picker.
  const folders = await owner.request('GET', `/api/mail-accounts/${account.id}/server-folders`);
  t.equal(folders.statusCode, 200, folders.body);
  const byPath = Object.fromEntries(folders.json().items.map((f: { path: string }) => [f.path, f]));
  t.match(byPath.INBOX, { isDefault: true, selected: true });
  t.match(byPath.Sent, { specialUse: '\\Sent', isDefault: true, selected: true });
  t.match(byPath.Clients, { isDefault: false, selected: true });
  t.match(byPath.Junk, { specialUse: '\\Junk', isDefault: false, selected: false });
  t.match(byPath.Trash, { specialUse: '\\Trash', isDefault: false, selected: false });

  // Unpicking a folder stops syncing it.
  const patched = await owner.request('PATCH', `/api/mail-accounts/${account.id}`, { folders: [], name: 'Renamed' });
  t.equal(patched.statusCode, 200, patched.body);
  t.match(patched.json(), { name: 'Renamed', extraFolders: [] });
  t.same(patched.json().folders.map((f: { path: string }) => f.path), ['INBOX', 'Sent']);

  const del = await owner.request('DELETE', `/api/mail-accounts/${account.id}`);
  t.equal(del.statusCode, 204);
  t.equal((await owner.request('GET', `/api/mail-accounts/${account.id}`)).statusCode, 404);
});

t.test('public accounts: admins create and manage them, everyone sees them', async (t) => {
  const staff = await userSession(ta, 'staff');
  const admin = await userSession(ta, 'admin');
  const mail = await dovecot.addUser({ prefix: 'info' });
  const denied = await staff.request('POST', '/api/mail-accounts', body(mail, { visibility: 'public' }));
  t.equal(denied.statusCode, 403);
  const res = await admin.request('POST', '/api/mail-accounts', body(mail, { visibility: 'public' }));
  t.equal(res.statusCode, 201, res.body);
  const id = res.json().id;
  t.equal((await staff.request('GET', `/api/mail-accounts/${id}`)).statusCode, 200, 'visible to all');
  t.ok((await staff.request('GET', '/api/mail-accounts')).json().items.some((a: { id: string }) => a.id === id));
  t.equal((await staff.request('POST', `/api/mail-accounts/${id}/sync`)).statusCode, 202, 'anyone may ask for a sync');
  t.equal((await staff.request('PATCH', `/api/mail-accounts/${id}`, { name: 'mine now' })).statusCode, 403, 'only admins change it');
  t.equal((await staff.request('DELETE', `/api/mail-accounts/${id}`)).statusCode, 403);
  t.equal((await admin.request('PATCH', `/api/mail-accounts/${id}`, { name: 'Info' })).statusCode, 200);
});

t.test('re-entering the password clears needs_reauth and resumes sync; a wrong one is refused', async (t) => {
  const s = await userSession(ta);
  const mail = await dovecot.addUser();
  const res = await s.request('POST', '/api/mail-accounts', body(mail));
  t.equal(res.statusCode, 201);
  const id = res.json().id;
  t.ok(await until(async () => (await s.request('GET', `/api/mail-accounts/${id}`)).json().lastSyncAt !== null));
  // The password changes on the server; the account ends up needing new credentials.
  const newPassword = `pw-${randomUUID()}`;
  await dovecot.setPassword(mail.user, newPassword);
  await ta.db.em.fork().execute("update mail_account set status = 'needs_reauth', auth_failures = 3, last_error = 'The server refused the login' where id = ?", [id]);
  await dovecot.appendMany(mail.user, [createTestMail({ subject: 'while locked out' })]);

  const wrong = await s.request('PATCH', `/api/mail-accounts/${id}`, { imap: { password: 'still-wrong' } });
  t.equal(wrong.statusCode, 422);
  t.equal(wrong.json().error.code, 'imap_auth_failed');
  t.equal((await s.request('GET', `/api/mail-accounts/${id}`)).json().status, 'needs_reauth', 'unchanged');

  const fixed = await s.request('PATCH', `/api/mail-accounts/${id}`, { imap: { password: newPassword } });
  t.equal(fixed.statusCode, 200, fixed.body);
  t.not(fixed.json().status, 'needs_reauth');
  t.equal(fixed.json().lastError, null);
  t.ok(await until(async () => {
    const a = (await s.request('GET', `/api/mail-accounts/${id}`)).json();
    return a.status === 'idle' && a.folders.find((f: { path: string }) => f.path === 'INBOX')?.storedMessages === 1;
  }), 'sync resumed and picked up the new mail');
});
