// Test harness: a private Dovecot (the system binary) per test file, with its own config, free port, logs and maildirs
// in a fresh temp dir. Tests reach it over IMAP like any mail server and check it through doveadm; this module never
// touches maildir files except where Dovecot itself cannot do the job (renumbering INBOX, see recreateFolder).
import { spawn, execFile } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rename, rm, utimes, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export type MailUser = {
  /** IMAP login name. */
  user: string;
  password: string;
  /** The address mail to this user would carry (nothing routes by it: deliver() is by user). */
  email: string;
  host: string;
  port: number;
};

export type DeliverOptions = {
  /** Mailbox to save into; default INBOX. It must exist (INBOX, Sent, Drafts, Junk, Trash always do; see createFolder). */
  folder?: string;
  /** IMAP flags/keywords to set right after saving, e.g. ['\\Seen', '$Label1']. */
  flags?: string[];
};

export type FolderStatus = {
  messages: number;
  unseen: number;
  uidnext: number;
  uidvalidity: number;
  highestmodseq: number;
  guid: string;
};

export type StartDovecotOptions = {
  /** Keep the temp dir after stop() (for debugging a failing test). */
  keep?: boolean;
  /**
   * Also accept OAuth2 logins (SASL XOAUTH2 and OAUTHBEARER): an `oauth2` passdb validating the access token
   * by RFC 7662 introspection at this URL (with the resource server's credentials in it) and requiring the
   * token's `email` to be the login name. Users still need a passwd-file entry (addUser) to exist for doveadm.
   */
  oauth2?: { introspectionUrl: string };
  /** No Sent folder (as with some hosts, or a user who deleted it): every other special folder still exists. */
  withoutSent?: boolean;
  /** Settings appended to the generated config (e.g. a benchmark's raised process limits). */
  extraConfig?: string;
};

const NOT_FOUND = 'dovecot not found: apt-get install -y dovecot-imapd';
const HOST = '127.0.0.1';

/** The mail processes' owner: Dovecot refuses uid 0 for mail. */
const MAIL_USER = 'nobody';
const MAIL_GROUP = 'nogroup';

// The wrapper ties Dovecot's life to ours: when our end of its stdin closes (stop(), or this process dying in any way,
// even SIGKILL), it stops Dovecot, waits for it, and removes the temp dir unless asked to keep it.
const WRAPPER = `
dir=$1; bin=$2; keep=$3
exec 3<&0
"$bin" -F -c "$dir/dovecot.conf" </dev/null &
pid=$!
{ cat <&3 >/dev/null; kill -TERM "$pid" 2>/dev/null; } >/dev/null 2>&1 &
wait "$pid"; rc=$?
[ "$keep" = keep ] || rm -rf "$dir"
exit "$rc"
`;

const DOVECOT = '/usr/sbin/dovecot';
const DOVEADM = '/usr/bin/doveadm';

function run(cmd: string, args: string[], input?: Buffer | string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        reject(new Error(`${path.basename(cmd)} ${args.join(' ')} failed (${code}): ${stderr.trim() || err.message}`));
      } else resolve({ stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function lookupId(file: string, name: string): number {
  const line = readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  const id = line?.split(':')[2];
  if (id === undefined) throw new Error(`${name} not found in ${file}: the Dovecot harness runs mail as ${MAIL_USER}:${MAIL_GROUP}`);
  return Number(id);
}

/** Parses doveadm's `-f tab` output: a header line, then one tab-separated row per record. */
function parseTab(out: string): Record<string, string>[] {
  const lines = out.split('\n').filter((l) => l !== '');
  const head = lines.shift()?.split('\t') ?? [];
  return lines.map((l) => {
    const cells = l.split('\t');
    return Object.fromEntries(head.map((h, i) => [h, cells[i] ?? '']));
  });
}

function uidSet(uids: number | number[]): string {
  const list = Array.isArray(uids) ? uids : [uids];
  if (list.length === 0) throw new Error('no UIDs given');
  return list.join(',');
}

/** `\Recent` belongs to an IMAP session (RFC 3501 2.3.2), not to the message: leave it out of what tests compare. */
function parseFlags(s: string): string[] {
  return s.split(' ').filter((f) => f !== '' && f !== '\\Recent').sort();
}

function imapQuote(s: string): string {
  return `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** INTERNALDATE form of RFC 3501 date-time, in UTC. */
function imapDate(d: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${p2(d.getUTCDate())}-${months[d.getUTCMonth()]}-${d.getUTCFullYear()} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`;
}

export async function getDovecotVersion(): Promise<string> {
  if (!existsSync(DOVECOT) || !existsSync(DOVEADM)) throw new Error(NOT_FOUND);
  const { stdout } = await run(DOVECOT, ['--version']);
  return stdout.trim().split(' ')[0] ?? '';
}

function isAtLeast24(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > 2 || (major === 2 && minor >= 4);
}

type ConfigInput = { dir: string; port: number; instance: string; oauth2?: { introspectionUrl: string }; withoutSent?: boolean };

const FOLDERS = [
  ['Drafts', '\\Drafts'],
  ['Sent', '\\Sent'],
  ['Junk', '\\Junk'],
  ['Trash', '\\Trash'],
] as const;

// Dovecot 2.3 syntax (Debian 12 ships 2.3.19).
const foldersOf = (withoutSent?: boolean) => FOLDERS.filter(([name]) => !(withoutSent && name === 'Sent'));

function config23({ dir, port, instance, oauth2, withoutSent }: ConfigInput): string {
  return `# Written by test/support/dovecot.ts for one test process; removed when it stops.
protocols = imap
listen = ${HOST}
base_dir = ${dir}/run
state_dir = ${dir}/state
instance_name = ${instance}
log_path = ${dir}/dovecot.log
ssl = no
# Cleartext LOGIN on loopback without TLS: tests configure accounts with secure=false explicitly.
disable_plaintext_auth = no
auth_mechanisms = plain login${oauth2 ? ' xoauth2 oauthbearer' : ''}
# Wrong-password tests should not wait 2 s per attempt.
auth_failure_delay = 0
mail_location = maildir:~/Maildir
mail_fsync = never
# IDLE notices new mail through inotify; this is the fallback poll when inotify is unavailable.
mailbox_idle_check_interval = 1 secs
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/passwd.d/%u${oauth2 ? '\n  mechanisms = plain login' : ''}
}${oauth2 ? `
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = ${dir}/dovecot-oauth2.conf.ext
}` : ''}
userdb {
  driver = static
  args = uid=${MAIL_USER} gid=${MAIL_GROUP} home=${dir}/mail/%u${oauth2 ? ' allow_all_users=yes' : ''}
}
namespace inbox {
  inbox = yes
  separator = /
${foldersOf(withoutSent).map(([name, use]) => `  mailbox ${name} {\n    special_use = ${use}\n    auto = subscribe\n  }`).join('\n')}
}
protocol imap {
  # Several workers and tests may hold connections to one account at once.
  mail_max_userip_connections = 100
}
service imap-login {
  inet_listener imap {
    address = ${HOST}
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
# No brute-force penalty: every test logs in from 127.0.0.1, so one wrong-password test would slow every login
# in this instance by up to 15 s. (The auth process logs once that it cannot reach this socket; that is expected.)
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
`;
}

// Dovecot 2.4 rewrote the settings (https://doc.dovecot.org/2.4.0/installation/upgrade/2.3-to-2.4.html).
// Written from that guide for when Debian moves to 2.4; the machines here run 2.3, so it is not exercised yet.
function config24({ dir, port, instance, withoutSent }: ConfigInput): string {
  return `dovecot_config_version = 2.4.0
dovecot_storage_version = 2.4.0
# Written by test/support/dovecot.ts for one test process; removed when it stops.
protocols = imap
listen = ${HOST}
base_dir = ${dir}/run
state_dir = ${dir}/state
instance_name = ${instance}
log_path = ${dir}/dovecot.log
ssl = no
auth_allow_cleartext = yes
auth_mechanisms = plain login
auth_failure_delay = 0
mail_driver = maildir
mail_home = ${dir}/mail/%{user}
mail_path = ~/Maildir
mail_fsync = never
mailbox_idle_check_interval = 1s
passdb passwd-file {
  passwd_file_path = ${dir}/passwd.d/%{user}
  passdb_default_password_scheme = PLAIN
}
userdb static {
  fields {
    uid = ${MAIL_USER}
    gid = ${MAIL_GROUP}
    home = ${dir}/mail/%{user}
  }
}
namespace inbox {
  inbox = yes
  separator = /
${foldersOf(withoutSent).map(([name, use]) => `  mailbox ${name} {\n    special_use = ${use}\n    auto = subscribe\n  }`).join('\n')}
}
protocol imap {
  mail_max_userip_connections = 100
}
service imap-login {
  inet_listener imap {
    listen = ${HOST}
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
`;
}

function waitForGreeting(port: number, exited: () => string | undefined, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const failure = exited();
      if (failure !== undefined) return reject(new Error(failure));
      if (Date.now() > deadline) return reject(new Error(`Dovecot did not greet on ${HOST}:${port} within ${timeoutMs} ms`));
      const sock = net.connect(port, HOST);
      let buf = '';
      const retry = () => {
        sock.destroy();
        setTimeout(attempt, 25);
      };
      sock.setTimeout(2000, retry);
      sock.on('error', retry);
      sock.on('data', (d) => {
        buf += d.toString('latin1');
        if (!buf.includes('\r\n')) return;
        sock.end('x LOGOUT\r\n');
        sock.destroy();
        if (buf.startsWith('* OK')) resolve();
        else reject(new Error(`unexpected greeting from Dovecot: ${buf.trim()}`));
      });
    };
    attempt();
  });
}

export class Dovecot {
  readonly host = HOST;
  readonly port: number;
  readonly version: string;
  /** Temp dir holding dovecot.conf, dovecot.log, passwd.d/<user>, run/ and mail/<user>/Maildir. */
  readonly dir: string;
  readonly configPath: string;
  readonly logPath: string;
  #child: ChildProcess;
  #exit: Promise<number | null>;
  #doveadm: string;
  #users = new Map<string, string>();
  #passwdWrites = 0;
  #locks = new Map<string, Promise<unknown>>();
  #stopping: Promise<void> | undefined;

  constructor(init: { port: number; version: string; dir: string; child: ChildProcess; exit: Promise<number | null>; doveadm: string }) {
    this.port = init.port;
    this.version = init.version;
    this.dir = init.dir;
    this.configPath = path.join(init.dir, 'dovecot.conf');
    this.logPath = path.join(init.dir, 'dovecot.log');
    this.#child = init.child;
    this.#exit = init.exit;
    this.#doveadm = init.doveadm;
  }

  /** Runs doveadm against this instance (`-f tab` output); the escape hatch for anything not wrapped below. */
  async doveadm(args: string[], input?: Buffer | string): Promise<string> {
    // The running config service's socket instead of dovecot.conf: doveadm then skips parsing the config
    // (a save takes 8 ms instead of 20).
    const { stdout } = await run(this.#doveadm, ['-c', path.join(this.dir, 'run', 'config'), '-f', 'tab', ...args], input);
    return stdout;
  }

  /** Creates a mail user with a unique name; Dovecot rereads the passwd-file on its next lookup. */
  async addUser(opts: { prefix?: string; password?: string; name?: string } = {}): Promise<MailUser> {
    // `name`: an exact login name, e.g. an address for OAuth2 logins (whose tokens name the user by address).
    const user = opts.name ?? `${opts.prefix ?? 'u'}-${randomBytes(5).toString('hex')}`;
    const password = opts.password ?? randomBytes(9).toString('base64url');
    await this.setPassword(user, password);
    return { user, password, email: user.includes('@') ? user : `${user}@dossier.test`, host: this.host, port: this.port };
  }

  /**
   * Sets (or changes) a user's password, as an admin would on the real server. Each user has its own passwd-file:
   * Dovecot 2.3 stats a passwd-file at most once a second and reloads it only when its mtime (in seconds) or size
   * changed, so one shared file would hide users added in the same second. A changed password therefore gets a
   * never-used mtime and takes effect from the next second on (this waits for it).
   */
  async setPassword(user: string, password: string): Promise<void> {
    if (/[:\s]/.test(password) || !/^[A-Za-z0-9._@-]+$/.test(user)) {
      throw new Error('user may use letters, digits and ._@- only; password no ":" or white space');
    }
    const existed = this.#users.has(user);
    this.#users.set(user, password);
    const file = path.join(this.dir, 'passwd.d', user);
    const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, `${user}:{PLAIN}${password}\n`, { mode: 0o644 });
    const stamp = 1_000_000_000 + ++this.#passwdWrites;
    await utimes(tmp, stamp, stamp);
    await rename(tmp, file);
    if (existed) await new Promise((r) => setTimeout(r, 1010 - (Date.now() % 1000)));
  }

  /** Delivers one raw message through Dovecot's own save path (`doveadm save`); returns its UID. */
  async deliver(user: string, raw: Buffer | string, opts: DeliverOptions = {}): Promise<number> {
    const [uid] = await this.deliverMany(user, [raw], opts);
    return uid as number;
  }

  /** Delivers messages in order into one folder; returns their UIDs in the same order. */
  async deliverMany(user: string, raws: (Buffer | string)[], opts: DeliverOptions = {}): Promise<number[]> {
    const folder = opts.folder ?? 'INBOX';
    return this.#locked(user, async () => {
      const { uidnext } = await this.folderStatus(user, folder);
      // One save at a time (this lock): Dovecot gives each the next UID, so the new UIDs come in save order.
      for (const raw of raws) await this.doveadm(['save', '-u', user, '-m', folder], raw);
      const uids = (await this.listUids(user, folder)).filter((uid) => uid >= uidnext);
      if (uids.length !== raws.length) {
        throw new Error(`${user}/${folder}: saved ${raws.length} messages but found ${uids.length} new UIDs (something else saved there meanwhile)`);
      }
      if (opts.flags?.length && uids.length) await this.addFlags(user, folder, uids, opts.flags);
      return uids;
    });
  }

  /**
   * Appends messages over IMAP as the user (LOGIN, then pipelined APPENDs), the way a mail client or migration tool
   * files mail: much faster than deliverMany for a whole corpus. Literals are sent as BINARY literal8 (RFC 3516), so
   * NUL bytes and bare line ends reach Dovecot unchanged. Returns the UIDs from APPENDUID (RFC 4315), in order.
   */
  async appendMany(user: string, raws: (Buffer | string)[], opts: DeliverOptions & { internalDate?: Date } = {}): Promise<number[]> {
    const password = this.#users.get(user);
    if (password === undefined) throw new Error(`unknown user ${user}: create it with addUser()`);
    const folder = opts.folder ?? 'INBOX';
    const flags = opts.flags?.length ? ` (${opts.flags.join(' ')})` : '';
    const date = opts.internalDate ? ` "${imapDate(opts.internalDate)}"` : '';
    const socket = net.connect(this.port, this.host);
    const lines: string[] = [];
    let buf = '';
    let onLine = () => {};
    let failure: Error | undefined;
    const closed = new Promise<void>((resolve) => {
      socket.on('error', (err) => (failure = err));
      socket.on('close', () => {
        onLine();
        resolve();
      });
      socket.on('data', (d: Buffer) => {
        buf += d.toString('latin1');
        let i;
        while ((i = buf.indexOf('\r\n')) >= 0) {
          lines.push(buf.slice(0, i));
          buf = buf.slice(i + 2);
        }
        onLine();
      });
    });
    const tagged = () => new Map(lines.filter((l) => /^a\d+ /.test(l)).map((l) => [l.slice(0, l.indexOf(' ')), l]));
    // Log in before sending any message: the login process buffers little, and it may still be waiting for
    // the auth process (the first login after start) while pipelined literals pile up.
    socket.write(`a0 LOGIN ${imapQuote(user)} ${imapQuote(password)}\r\n`);
    await new Promise<void>((resolve) => {
      onLine = () => {
        if (tagged().has('a0') || socket.destroyed) resolve();
      };
      onLine();
    });
    const login = tagged().get('a0');
    if (!login?.startsWith('a0 OK')) {
      socket.destroy();
      throw new Error(`IMAP LOGIN as ${user} failed: ${login ?? failure?.message ?? lines.join(' | ')}`);
    }
    raws.forEach((raw, i) => {
      const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw, 'utf8');
      socket.write(`a${i + 1} APPEND ${imapQuote(folder)}${flags}${date} ~{${bytes.length}+}\r\n`);
      socket.write(bytes);
      socket.write('\r\n');
    });
    socket.end('z LOGOUT\r\n');
    await closed;
    const replies = tagged();
    return raws.map((_, i) => {
      const reply = replies.get(`a${i + 1}`) ?? 'no reply';
      const uid = /^a\d+ OK \[APPENDUID \d+ (\d+)\]/.exec(reply)?.[1];
      if (uid === undefined) throw new Error(`APPEND of message ${i} to ${user}/${folder} failed: ${failure?.message ?? reply}`);
      return Number(uid);
    });
  }

  async createFolder(user: string, folder: string): Promise<void> {
    await this.doveadm(['mailbox', 'create', '-u', user, '-s', folder]);
  }

  /** Deletes a folder and its messages (never INBOX: Dovecot would empty it and then refuse). */
  async deleteFolder(user: string, folder: string): Promise<void> {
    if (folder.toUpperCase() === 'INBOX') throw new Error('INBOX cannot be deleted');
    await this.doveadm(['mailbox', 'delete', '-u', user, '-s', folder]);
  }

  async listFolders(user: string): Promise<string[]> {
    const out = await this.doveadm(['mailbox', 'list', '-u', user]);
    return out.split('\n').slice(1).filter(Boolean).sort();
  }

  async folderStatus(user: string, folder: string): Promise<FolderStatus> {
    const out = await this.doveadm(['mailbox', 'status', '-u', user, 'messages unseen uidnext uidvalidity highestmodseq guid', folder]);
    const row = parseTab(out)[0];
    if (!row) throw new Error(`no status for ${user}/${folder}`);
    return {
      messages: Number(row.messages),
      unseen: Number(row.unseen),
      uidnext: Number(row.uidnext),
      uidvalidity: Number(row.uidvalidity),
      highestmodseq: Number(row.highestmodseq),
      guid: row.guid ?? '',
    };
  }

  async messageCount(user: string, folder = 'INBOX'): Promise<number> {
    return (await this.folderStatus(user, folder)).messages;
  }

  async listUids(user: string, folder = 'INBOX'): Promise<number[]> {
    const out = await this.doveadm(['fetch', '-u', user, 'uid', 'mailbox', folder, 'all']);
    return parseTab(out).map((r) => Number(r.uid)).sort((a, b) => a - b);
  }

  /** Flags per UID, sorted, without the session flag \Recent. */
  async fetchFlags(user: string, folder = 'INBOX', uids?: number | number[]): Promise<Map<number, string[]>> {
    const query = uids === undefined ? ['all'] : ['uid', uidSet(uids)];
    const out = await this.doveadm(['fetch', '-u', user, 'uid flags', 'mailbox', folder, ...query]);
    return new Map(parseTab(out).map((r) => [Number(r.uid), parseFlags(r.flags ?? '')]));
  }

  /** Replaces the flags of the given messages, as another mail client would (bumps their MODSEQ). */
  async setFlags(user: string, folder: string, uids: number | number[], flags: string[]): Promise<void> {
    if (flags.length > 0) {
      await this.doveadm(['flags', 'replace', '-u', user, flags.join(' '), 'mailbox', folder, 'uid', uidSet(uids)]);
      return;
    }
    const current = new Set([...(await this.fetchFlags(user, folder, uids)).values()].flat());
    if (current.size > 0) await this.removeFlags(user, folder, uids, [...current]);
  }

  async addFlags(user: string, folder: string, uids: number | number[], flags: string[]): Promise<void> {
    await this.doveadm(['flags', 'add', '-u', user, flags.join(' '), 'mailbox', folder, 'uid', uidSet(uids)]);
  }

  async removeFlags(user: string, folder: string, uids: number | number[], flags: string[]): Promise<void> {
    await this.doveadm(['flags', 'remove', '-u', user, flags.join(' '), 'mailbox', folder, 'uid', uidSet(uids)]);
  }

  /** Expunges messages for good, as another client's delete + EXPUNGE would. */
  async expunge(user: string, folder: string, uids: number | number[]): Promise<void> {
    await this.doveadm(['expunge', '-u', user, 'mailbox', folder, 'uid', uidSet(uids)]);
  }

  /**
   * Deletes the folder and recreates it with the same messages and flags: a new UIDVALIDITY, UIDs from 1 again
   * (RFC 3501 2.3.1.1), a new mailbox GUID. A folder is renamed aside, recreated and its messages moved back.
   * INBOX cannot be renamed or deleted in Dovecot, so it is emptied, its UID list and index are removed (what a
   * server does after losing them) and the messages are moved back.
   */
  async recreateFolder(user: string, folder: string): Promise<FolderStatus> {
    return this.#locked(user, async () => {
      const aside = `dossier-recreate-${randomBytes(4).toString('hex')}`;
      if (folder.toUpperCase() === 'INBOX') {
        await this.createFolder(user, aside);
        await this.doveadm(['move', '-u', user, aside, 'mailbox', 'INBOX', 'all']);
        const root = path.join(this.dir, 'mail', user, 'Maildir');
        for (const f of ['dovecot-uidlist', 'dovecot.index', 'dovecot.index.log', 'dovecot.index.log.2', 'dovecot.index.cache']) {
          await rm(path.join(root, f), { force: true });
        }
        // A session with INBOX open now has a view Dovecot can only answer with "NO Internal error": end the
        // user's sessions, as an admin rebuilding a mailbox would; clients reconnect and meet the new UIDVALIDITY.
        await this.kick(user);
      } else {
        await this.doveadm(['mailbox', 'rename', '-u', user, '-s', folder, aside]);
        await this.createFolder(user, folder);
      }
      await this.doveadm(['move', '-u', user, folder, 'mailbox', aside, 'all']);
      await this.deleteFolder(user, aside);
      return this.folderStatus(user, folder);
    });
  }

  /** Disconnects every IMAP session of the user (`doveadm kick`). */
  async kick(user: string): Promise<void> {
    await this.doveadm(['kick', user]);
  }

  /** The last lines of Dovecot's log, for a failing test's diagnostics. */
  async logTail(lines = 40): Promise<string> {
    const text = await readFile(this.logPath, 'utf8').catch(() => '');
    return text.split('\n').slice(-lines - 1).join('\n');
  }

  /** Stops Dovecot and waits for it; the temp dir is removed unless started with keep. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#child.ref();
      this.#child.stdin?.end();
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), 15_000);
      await this.#exit;
      clearTimeout(timer);
    })();
    return this.#stopping;
  }

  /** Synchronous last resort for process 'exit': closing the wrapper's stdin makes it stop Dovecot. */
  stopNow(): void {
    this.#child.stdin?.destroy();
  }

  #locked<T>(user: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#locks.get(user) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    this.#locks.set(user, next.catch(() => undefined));
    return next;
  }
}

async function startOnce(bin: string, doveadm: string, version: string, opts: StartDovecotOptions): Promise<Dovecot> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dossier-dovecot-'));
  // Login processes (dovenull) and mail processes (nobody) must traverse the dir; the mail tree belongs to nobody.
  await chmod(dir, 0o755);
  const mailDir = path.join(dir, 'mail');
  await mkdir(mailDir, { mode: 0o700 });
  await chown(mailDir, lookupId('/etc/passwd', MAIL_USER), lookupId('/etc/group', MAIL_GROUP));
  await mkdir(path.join(dir, 'passwd.d'), { mode: 0o755 });
  const port = await freePort();
  const instance = `dossier-${path.basename(dir)}`;
  const write = isAtLeast24(version) ? config24 : config23;
  if (opts.oauth2 && isAtLeast24(version)) throw new Error('the OAuth2 Dovecot harness is written for Dovecot 2.3');
  await writeFile(path.join(dir, 'dovecot.conf'), write({ dir, port, instance, oauth2: opts.oauth2, withoutSent: opts.withoutSent }) + (opts.extraConfig ? `\n${opts.extraConfig}\n` : ''));
  if (opts.oauth2) {
    // Introspection on every login (no tokeninfo, no cache), so an expired or revoked token is refused at once.
    await writeFile(path.join(dir, 'dovecot-oauth2.conf.ext'), [
      'introspection_mode = post', `introspection_url = ${opts.oauth2.introspectionUrl}`, 'force_introspection = yes',
      'username_attribute = email', 'active_attribute = active', 'active_value = true', '',
    ].join('\n'), { mode: 0o644 });
  }

  const child = spawn('bash', ['-c', WRAPPER, 'dovecot-wrapper', dir, bin, opts.keep ? 'keep' : 'remove'], {
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  let exitCode: number | null | undefined;
  const exit = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => {
      exitCode = code;
      child.stdin?.destroy();
      resolve(code);
    });
  });
  // Not holding the event loop open: a test file ends when its tests end, and the wrapper then stops Dovecot.
  child.unref();
  (child.stdin as unknown as net.Socket | null)?.unref?.();
  (child.stderr as unknown as net.Socket | null)?.unref?.();

  const dovecot = new Dovecot({ port, version, dir, child, exit, doveadm });
  try {
    await waitForGreeting(port, () => (exitCode === undefined ? undefined : `dovecot exited (${exitCode}): ${stderr.trim()}`), 15_000);
  } catch (err) {
    await dovecot.stop();
    throw err;
  }
  return dovecot;
}

/** Starts a new Dovecot on a free port. Call stop() when done (or use getDovecot for one shared per test file). */
export async function startDovecot(opts: StartDovecotOptions = {}): Promise<Dovecot> {
  if (process.getuid?.() !== 0) throw new Error('the Dovecot harness must run as root (Dovecot runs mail as nobody)');
  const version = await getDovecotVersion();
  // The port is probed free and then bound by Dovecot; another process may take it in between, so try again.
  let last: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      return await startOnce(DOVECOT, DOVEADM, version, opts);
    } catch (err) {
      last = err;
      if (!String((err as Error).message).includes('Address already in use')) throw err;
    }
  }
  throw last;
}

let shared: Promise<Dovecot> | undefined;
let sharedInstance: Dovecot | undefined;

/**
 * One Dovecot per test file, started on first use: tests call it freely and give each test its own user (addUser)
 * instead of stopping it. It does not keep the process alive; when the process ends, the wrapper stops Dovecot and
 * removes its dir in the background (1–2 s), so the next test file need not wait for that.
 */
export function getDovecot(): Promise<Dovecot> {
  if (!shared) {
    shared = startDovecot();
    shared.then((d) => (sharedInstance = d)).catch(() => undefined);
    process.once('exit', () => sharedInstance?.stopNow());
  }
  return shared;
}

/** Dovecot's auth process may still be starting after the greeting: wait until a login goes through. */
export async function warmUpDovecot(dovecot: Dovecot): Promise<void> {
  const probe = await dovecot.addUser({ prefix: 'warmup' });
  for (let i = 0; ; i++) {
    try {
      await dovecot.appendMany(probe.user, ['Subject: warm-up\r\n\r\nhi\r\n']);
      return;
    } catch (err) {
      if (i >= 20) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
