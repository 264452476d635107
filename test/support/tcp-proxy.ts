// Test harness: a TCP proxy on a free loopback port in front of a real server (Dovecot, the SMTP sink) that can cut
// connections on command, to test reconnects and truncated transfers. It forwards bytes unchanged and never parses them.
import net from 'node:net';

type Pair = { client: net.Socket; upstream: net.Socket; toClient: number; cutAt: number | undefined; cutAfterText: string | undefined; cutDelayMs: number; tail: string; done: boolean; silentAt: number | undefined; silent: boolean; fromClientTail: string };

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
  #silenceNextAfter: number | undefined;
  #cutNextAfterText: { text: string; delayMs: number } | undefined;
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

  /**
   * Cuts the next accepted connection right after the server sent the line holding `text` (its first
   * occurrence, e.g. the tagged OK that ends one command's answer): the client receives that line whole
   * (when it came in one chunk with its CRLF), nothing after it, and the
   * connection closes `delayMs` later (so the client has handled the answer, and is between commands).
   */
  dropAfterServerSends(text: string, opts: { delayMs?: number } = {}): void {
    this.#cutNextAfterText = { text, delayMs: opts.delayMs ?? 0 };
  }

  /**
   * Makes connections go silent without closing them, as a path that black-holes packets (a dead NAT entry, a
   * pulled cable on the far side) does: once `n` more bytes went server→client, nothing more is forwarded in either
   * direction, and no FIN or RST is sent; both sockets stay open until close(). 'open': every connection open now;
   * 'next': the next accepted one (counting from its greeting). New connections after that are forwarded normally.
   */
  silenceAfterBytes(n: number, scope: DropScope = 'next'): void {
    if (scope === 'next') this.#silenceNextAfter = n;
    else {
      for (const pair of this.#pairs) {
        pair.silentAt = pair.toClient + n;
        if (n <= 0) pair.silent = true;
      }
    }
  }

  /** Connections silenced so far that are still open (the client has not noticed and closed them). */
  get silentConnections(): number {
    return [...this.#pairs].filter((p) => p.silent).length;
  }

  /** For each open connection, the last up to 200 characters the client sent (e.g. to see which one sits in IDLE). */
  clientTails(): string[] {
    return [...this.#pairs].map((p) => p.fromClientTail);
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
    const pair: Pair = { client, upstream, toClient: 0, cutAt: this.#cutNextAfter, cutAfterText: this.#cutNextAfterText?.text, cutDelayMs: this.#cutNextAfterText?.delayMs ?? 0, tail: '', done: false, silentAt: this.#silenceNextAfter, silent: false, fromClientTail: '' };
    this.#cutNextAfter = undefined;
    this.#silenceNextAfter = undefined;
    this.#cutNextAfterText = undefined;
    this.#pairs.add(pair);
    const finish = () => this.#cut(pair);
    client.on('error', finish).on('close', finish);
    // A silenced connection's client hears nothing of the server side going away either.
    const upstreamGone = () => (pair.silent ? undefined : finish());
    upstream.on('error', upstreamGone).on('close', upstreamGone);

    client.on('data', (chunk: Buffer) => {
      if (pair.silent) return; // black-holed
      pair.fromClientTail = (pair.fromClientTail + chunk.toString('latin1')).slice(-200);
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on('drain', () => client.resume());
    upstream.on('data', (chunk: Buffer) => {
      if (pair.cutAt === -1 || pair.silent) return; // cut (closing after a delay) or black-holed: nothing reaches the client
      let data = chunk;
      if (pair.silentAt !== undefined && pair.toClient + data.length >= pair.silentAt) {
        // Up to the silence point, then nothing more either way; the sockets stay open.
        data = data.subarray(0, Math.max(0, pair.silentAt - pair.toClient));
        pair.silent = true;
        pair.toClient += data.length;
        this.bytesToClient += data.length;
        if (data.length) client.write(data);
        return;
      }
      if (pair.cutAfterText !== undefined) {
        // Where the text ends, counting the bytes of the previous chunks' tail (it may straddle chunks).
        const seen = pair.tail + chunk.toString('latin1');
        const at = seen.indexOf(pair.cutAfterText);
        if (at >= 0) {
          // The whole line: a client reads a response only once its CRLF has come.
          const eol = seen.indexOf('\n', at + pair.cutAfterText.length);
          pair.cutAt = pair.toClient - pair.tail.length + (eol >= 0 ? eol + 1 : at + pair.cutAfterText.length);
          pair.cutAfterText = undefined;
        } else pair.tail = seen.slice(-pair.cutAfterText.length);
      }
      const left = pair.cutAt === undefined ? Infinity : pair.cutAt - pair.toClient;
      const cut = data.length >= left;
      if (cut) data = data.subarray(0, left);
      pair.toClient += data.length;
      this.bytesToClient += data.length;
      if (cut && pair.cutDelayMs > 0) {
        // Deliver up to the cut, forward nothing more, and close a little later.
        pair.cutAt = -1;
        setTimeout(() => this.#cut(pair), pair.cutDelayMs);
        if (data.length) pair.client.write(data);
        return;
      }
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
    client.on('end', () => {
      if (!pair.silent) upstream.end();
    });
    upstream.on('end', () => {
      if (!pair.silent) client.end();
    });
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
