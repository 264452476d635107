// Test harness: a TCP proxy on a free loopback port in front of a real server (Dovecot, the SMTP sink) that can cut
// connections on command, to test reconnects and truncated transfers. It forwards bytes unchanged and never parses them.
import net from 'node:net';

type Pair = { client: net.Socket; upstream: net.Socket; toClient: number; cutAt: number | undefined; done: boolean };

export type DropScope = 'next' | 'open';

export class TcpProxy {
  readonly host = '127.0.0.1';
  readonly port: number;
  readonly target: { host: string; port: number };
  /** Connections accepted so far (refused ones included). */
  connections = 0;
  /** Bytes sent server→client over all connections so far. */
  bytesToClient = 0;
  #server: net.Server;
  #pairs = new Set<Pair>();
  #cutNextAfter: number | undefined;
  #refusing = false;

  constructor(init: { port: number; target: { host: string; port: number }; server: net.Server }) {
    this.port = init.port;
    this.target = init.target;
    this.#server = init.server;
  }

  /** Connections currently open through the proxy. */
  get openConnections(): number {
    return this.#pairs.size;
  }

  /** Destroys every open connection at once, as a network failure or server restart would. */
  dropAll(): void {
    for (const pair of this.#pairs) this.#cut(pair);
  }

  /**
   * Cuts a connection once `n` more bytes went server→client; the client receives exactly those n bytes.
   * 'next' (default): the next accepted connection, counting from its first byte (greeting included).
   * 'open': every connection open now, counting from this call (e.g. cut a sync already logged in, mid-FETCH).
   */
  dropAfterBytes(n: number, scope: DropScope = 'next'): void {
    if (scope === 'next') this.#cutNextAfter = n;
    else for (const pair of this.#pairs) pair.cutAt = pair.toClient + n;
  }

  /** While on, new connections are accepted and closed at once (server down); open ones are not touched. */
  refuseConnections(on: boolean): void {
    this.#refusing = on;
  }

  /** Stops listening and drops every connection. */
  close(): Promise<void> {
    this.dropAll();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  accept(client: net.Socket): void {
    this.connections += 1;
    if (this.#refusing) {
      client.destroy();
      return;
    }
    const upstream = net.connect(this.target.port, this.target.host);
    const pair: Pair = { client, upstream, toClient: 0, cutAt: this.#cutNextAfter, done: false };
    this.#cutNextAfter = undefined;
    this.#pairs.add(pair);
    const finish = () => this.#cut(pair);
    client.on('error', finish).on('close', finish);
    upstream.on('error', finish).on('close', finish);

    client.on('data', (chunk: Buffer) => {
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on('drain', () => client.resume());
    upstream.on('data', (chunk: Buffer) => {
      let data = chunk;
      const left = pair.cutAt === undefined ? Infinity : pair.cutAt - pair.toClient;
      const cut = data.length >= left;
      if (cut) data = data.subarray(0, left);
      pair.toClient += data.length;
      this.bytesToClient += data.length;
      if (cut) {
        pair.done = true;
        this.#pairs.delete(pair);
        upstream.destroy();
        // Deliver exactly the allowed bytes, then close: the client sees a transfer that stops mid-way.
        client.end(data, () => client.destroy());
        return;
      }
      if (!client.write(data)) upstream.pause();
    });
    client.on('drain', () => upstream.resume());
    // Half-closes pass through, so a server's own close reaches the client as usual.
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
  }

  #cut(pair: Pair): void {
    if (pair.done) return;
    pair.done = true;
    this.#pairs.delete(pair);
    pair.client.destroy();
    pair.upstream.destroy();
  }
}

/** Starts a proxy on a free port forwarding to target; close() it when done. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const box: { proxy?: TcpProxy } = {};
  const server = net.createServer((socket) => box.proxy?.accept(socket));
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
  });
  // A test that forgets close() should not keep its process alive.
  server.unref();
  box.proxy = new TcpProxy({ port, target, server });
  return box.proxy;
}
