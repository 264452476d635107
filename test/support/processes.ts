// Runs Dossier's real CLI (src/main.ts) as child processes, the way an operator does, for tests of the
// run modes, shutdown and crash recovery.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });

export type Proc = { child: ChildProcess; output: () => string; exited: Promise<number | null>; stop: (signal?: NodeJS.Signals) => Promise<number | null> };

/**
 * Polls `fn` until it holds, failing at once (with the process's last output) when a watched process exits,
 * and after `timeoutMs` otherwise: for tests that wait on real worker processes.
 */
export async function waitWhileRunning(what: string, fn: () => Promise<boolean>, timeoutMs: number, watch: Proc | Proc[] = []): Promise<void> {
  const procs = Array.isArray(watch) ? watch : [watch];
  const tail = () => (procs.length ? `:\n${procs.map((p) => p.output().slice(-3000)).join('\n---\n')}` : '');
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn()) return;
    if (procs.some((p) => p.child.exitCode !== null)) throw new Error(`a process exited while waiting for ${what}${tail()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}${tail()}`);
}

export function runDossier(command: string, env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [path.join(ROOT, 'src/main.ts'), command], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export async function waitForHttp(url: string, proc: Proc, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (proc.child.exitCode !== null) throw new Error(`process exited early:\n${proc.output()}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${url}:\n${proc.output()}`);
}
