// One process per embedded data dir: PGlite is a single-process database, and two processes writing one
// directory lose data silently (each keeps its own WAL and buffers). Every process that opens the embedded
// database first takes `dossier.lock` in the data dir, holding its pid; a lock whose pid is dead is stale
// and taken over. The running server also records how to reach it (`control`), so the CLI can do its work
// through it instead of opening the directory a second time.
import { randomUUID } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

export type DataDirOwner = {
  pid: number;
  command: string;
  startedAt: string;
  /** Set by a serving process: a loopback port and a bearer token for CLI commands (see src/cli/control.ts). */
  control?: { port: number; token: string } | null;
};

export class DataDirBusyError extends Error {
  readonly owner: DataDirOwner;
  readonly lockFile: string;
  constructor(dataDir: string, lockFile: string, owner: DataDirOwner) {
    super(`The data dir ${dataDir} is in use by Dossier "${owner.command}" (pid ${owner.pid}); stop it first, or run this command while only it serves (if no such process runs, delete ${lockFile})`);
    this.owner = owner;
    this.lockFile = lockFile;
  }
}

export type DataDirLock = {
  readonly file: string;
  /** Records how to reach this process (or clears it); readers see the old or the new file, never half. */
  setControl: (control: DataDirOwner['control']) => Promise<void>;
  release: () => Promise<void>;
};

export const lockFilePath = (dataDir: string) => path.join(dataDir, 'dossier.lock');

/** The live owner of the data dir, or null when it is free or its lock is stale. */
export async function readDataDirOwner(dataDir: string): Promise<DataDirOwner | null> {
  const owner = await readLock(lockFilePath(dataDir));
  return owner && owner !== 'garbage' && isAlive(owner.pid) ? owner : null;
}

export async function acquireDataDirLock(dataDir: string, command: string): Promise<DataDirLock> {
  await mkdir(dataDir, { recursive: true });
  const file = lockFilePath(dataDir);
  let me: DataDirOwner = { pid: process.pid, command, startedAt: new Date().toISOString(), control: null };
  for (let attempt = 0; ; attempt++) {
    try {
      // 'wx': exactly one of several processes starting at once creates the file.
      await writeFile(file, JSON.stringify(me), { flag: 'wx', mode: 0o600 });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw err;
    }
    const owner = await readLock(file);
    if (owner && owner !== 'garbage' && owner.pid !== process.pid && isAlive(owner.pid)) throw new DataDirBusyError(dataDir, file, owner);
    // Stale (its process is gone), unreadable (a crash while writing), or ours from an earlier open: take it over.
    await unlink(file).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }
  let released = false;
  // A process.exit() that skips release (a crash path) would leave a lock with a dead pid, which the next
  // process takes over anyway; removing it here just keeps the directory tidy.
  const onExit = () => {
    if (!released && ownsLockSync(file)) unlinkSafeSync(file);
  };
  process.once('exit', onExit);
  return {
    file,
    setControl: async (control) => {
      me = { ...me, control };
      const tmp = `${file}.${randomUUID().slice(0, 8)}.tmp`;
      await writeFile(tmp, JSON.stringify(me), { mode: 0o600 });
      await rename(tmp, file);
    },
    release: async () => {
      if (released) return;
      released = true;
      process.removeListener('exit', onExit);
      const owner = await readLock(file);
      if (owner && owner !== 'garbage' && owner.pid === process.pid) await unlink(file).catch(() => {});
    },
  };
}

async function readLock(file: string): Promise<DataDirOwner | 'garbage' | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  return parseLock(text);
}

function parseLock(text: string): DataDirOwner | 'garbage' {
  try {
    const v = JSON.parse(text) as DataDirOwner;
    return Number.isInteger(v?.pid) && v.pid > 0 ? v : 'garbage';
  } catch {
    return 'garbage';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user — still alive.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function ownsLockSync(file: string): boolean {
  try {
    const v = parseLock(readFileSync(file, 'utf8'));
    return v !== 'garbage' && v.pid === process.pid;
  } catch {
    return false;
  }
}

function unlinkSafeSync(file: string) {
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}
