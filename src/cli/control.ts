// The CLI's way into a running embedded Dossier: PGlite allows one process per data dir, so while
// `npm start` serves, `user add` and `backup` ask it over a loopback-only HTTP port whose bearer token is in
// the data dir's lock file (mode 0600, readable only by whoever could read the database files anyway).
// It is not the public API: no sessions, no browser, bound to 127.0.0.1, started only by `start`.
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import type { Db } from '../core/platform/db.ts';
import type { DataDirOwner } from '../core/platform/data-dir-lock.ts';
import { createUser } from '../core/staff/users.ts';
import { DomainError } from '../core/platform/errors.ts';

export type ControlHandlers = {
  db: Db;
  /** Writes a backup archive of this installation to the stream (see src/core/ops/backup.ts). */
  backup?: (out: Writable) => Promise<void>;
};

export type ControlServer = { port: number; token: string; close: () => Promise<void> };

export async function startControlServer(handlers: ControlHandlers): Promise<ControlServer> {
  const token = randomBytes(32).toString('hex');
  const expected = createHash('sha256').update(`Bearer ${token}`).digest();
  const server = createServer((req, res) => {
    // Compared as hashes so the comparison takes the same time whatever the header's length.
    const given = createHash('sha256').update(req.headers.authorization ?? '').digest();
    if (!timingSafeEqual(given, expected)) return send(res, 401, { error: 'unauthorized' });
    handle(handlers, req, res).catch((err) => send(res, 500, { error: (err as Error).message }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
  return {
    port, token,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

async function handle(handlers: ControlHandlers, req: IncomingMessage, res: ServerResponse) {
  if (req.method === 'POST' && req.url === '/user') {
    const body = JSON.parse(await readBody(req)) as { email: string; name: string; role: 'admin' | 'staff'; password: string };
    const em = handlers.db.em.fork();
    try {
      const user = await createUser(em, body);
      await em.flush();
      return send(res, 201, { email: user.email, role: user.role });
    } catch (err) {
      if (err instanceof DomainError || (err as Error).name === 'UniqueConstraintViolationException') return send(res, 422, { error: (err as Error).message });
      throw err;
    }
  }
  if (req.method === 'GET' && req.url === '/backup' && handlers.backup) {
    res.writeHead(200, { 'content-type': 'application/x-tar' });
    // Headers are gone by the time a failure shows: a cut connection is what tells the CLI.
    await handlers.backup(res).catch((err: Error) => res.destroy(err));
    return;
  }
  send(res, 404, { error: 'not found' });
}

function send(res: ServerResponse, status: number, body: object) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  let data = '';
  for await (const chunk of req) {
    data += chunk;
    if (data.length > 1_000_000) throw new Error('body too large');
  }
  return data;
}

/** One call to the running Dossier that owns the data dir; resolves with its status and response stream. */
export function callControl(owner: DataDirOwner, method: 'GET' | 'POST', urlPath: string, body?: object): Promise<{ status: number; stream: IncomingMessage }> {
  const control = owner.control!;
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: control.port, method, path: urlPath, headers: { authorization: `Bearer ${control.token}`, 'content-type': 'application/json' } }, (res) => resolve({ status: res.statusCode ?? 0, stream: res }));
    req.once('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

export async function readJson<T>(stream: Readable): Promise<T> {
  let data = '';
  for await (const chunk of stream) data += chunk;
  return JSON.parse(data) as T;
}
