// The TCP proxy forwards both ways unchanged and cuts connections exactly when told: all of them, the next one after
// n bytes, or an IMAP session already logged in to the real Dovecot in the middle of a FETCH.
import t from 'tap';
import net from 'node:net';
import { startTcpProxy } from '../support/tcp-proxy.ts';
import { getDovecot } from '../support/dovecot.ts';
import { ImapProbe, quote, status } from './imap-probe.ts';

/** A server that greets with `greeting` bytes and echoes what it receives. */
async function startEchoServer(greeting: Buffer): Promise<{ port: number; close: () => void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s)).on('error', () => undefined);
    s.write(greeting);
    s.pipe(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/** Connects and collects everything received until the connection closes. */
function collect(port: number): { socket: net.Socket; received: () => Buffer; closed: Promise<Buffer> } {
  const socket = net.connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => undefined);
  const closed = new Promise<Buffer>((resolve) => socket.on('close', () => resolve(Buffer.concat(chunks))));
  return { socket, received: () => Buffer.concat(chunks), closed };
}

async function until(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

t.test('forwards both ways, counts connections, drops them all on command', async (t) => {
  const greeting = Buffer.from('hello\r\n');
  const echo = await startEchoServer(greeting);
  t.teardown(echo.close);
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: echo.port });
  t.teardown(() => proxy.close());

  const a = collect(proxy.port);
  const b = collect(proxy.port);
  const payload = Buffer.alloc(256 * 1024, 'x');
  a.socket.write(payload);
  await until(() => a.received().length === greeting.length + payload.length);
  t.ok(a.received().equals(Buffer.concat([greeting, payload])), '256 KB echoed back unchanged (backpressure holds)');
  await until(() => b.received().length === greeting.length);
  t.equal(proxy.connections, 2);
  t.equal(proxy.openConnections, 2);

  proxy.dropAll();
  await Promise.all([a.closed, b.closed]);
  t.pass('both client connections were closed');
  await until(() => proxy.openConnections === 0);

  proxy.refuseConnections(true);
  const c = collect(proxy.port);
  t.equal((await c.closed).length, 0, 'while refusing, a connection closes without a byte');
  proxy.refuseConnections(false);
  const d = collect(proxy.port);
  await until(() => d.received().length === greeting.length);
  t.equal(proxy.connections, 4);
  d.socket.destroy();
});

t.test('dropAfterBytes cuts the next connection after exactly n server bytes', async (t) => {
  const greeting = Buffer.alloc(100_000, 'g');
  const echo = await startEchoServer(greeting);
  t.teardown(echo.close);
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: echo.port });
  t.teardown(() => proxy.close());

  proxy.dropAfterBytes(12_345);
  const cut = await collect(proxy.port).closed;
  t.equal(cut.length, 12_345, 'the client got exactly 12,345 bytes, then the connection ended');
  const whole = collect(proxy.port);
  await until(() => whole.received().length === greeting.length);
  t.pass('only that one connection was cut');
  whole.socket.destroy();
});

t.test('a logged-in IMAP session through the proxy is cut mid-FETCH; Dovecot serves the next one', async (t) => {
  const dovecot = await getDovecot();
  const u = await dovecot.addUser();
  const big = `Subject: big\r\n\r\n${'0123456789abcdef'.repeat(16 * 1024)}\r\n`; // 256 KB
  await dovecot.deliver(u.user, big);
  const proxy = await startTcpProxy({ host: dovecot.host, port: dovecot.port });
  t.teardown(() => proxy.close());

  const p = await ImapProbe.connect(proxy.port);
  t.teardown(() => p.close());
  t.equal(status(await p.command(`LOGIN ${quote(u.user)} ${quote(u.password)}`)), 'OK');
  await p.command('SELECT INBOX');
  proxy.dropAfterBytes(50_000, 'open');
  const before = proxy.bytesToClient;
  await t.rejects(p.command('UID FETCH 1 (BODY.PEEK[])'), /connection closed/, 'the FETCH never completes');
  t.equal(proxy.bytesToClient - before, 50_000, 'exactly 50,000 bytes of the answer got through');

  const q = await ImapProbe.connect(proxy.port);
  t.teardown(() => q.close());
  t.equal(status(await q.command(`LOGIN ${quote(u.user)} ${quote(u.password)}`)), 'OK');
  await q.command('SELECT INBOX');
  const res = await q.command('UID FETCH 1 (RFC822.SIZE)');
  t.match(res[0], /RFC822\.SIZE \d{6}/, 'a new connection works and the message is intact');
  t.equal(proxy.connections, 2);
  t.same(await dovecot.fetchFlags(u.user, 'INBOX'), new Map([[1, []]]), 'the cut FETCH did not mark it seen');
});
