// A line-level IMAP client for the harness's own tests: sends a command, collects the lines up to its tagged reply.
// It handles no literals, so only commands whose answers fit on lines (CAPABILITY, LIST, SELECT, FETCH FLAGS, IDLE).
import net from 'node:net';

export class ImapProbe {
  readonly lines: string[] = [];
  #socket: net.Socket;
  #buf = '';
  #tag = 0;
  #waiters = new Set<() => void>();
  closed = false;

  constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.#buf += d;
      let i;
      while ((i = this.#buf.indexOf('\r\n')) >= 0) {
        this.lines.push(this.#buf.slice(0, i));
        this.#buf = this.#buf.slice(i + 2);
      }
      for (const w of [...this.#waiters]) w();
    });
    socket.on('close', () => {
      this.closed = true;
      for (const w of [...this.#waiters]) w();
    });
    socket.on('error', () => undefined);
  }

  static async connect(port: number, host = '127.0.0.1'): Promise<ImapProbe> {
    const socket = net.connect(port, host);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const probe = new ImapProbe(socket);
    await probe.waitForLine(/^\* (OK|PREAUTH|BYE)/);
    return probe;
  }

  /** Waits for a line (received from `from` on) matching `re`; rejects on timeout or when the server hangs up. */
  waitForLine(re: RegExp, timeoutMs = 5000, from = 0): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const hit = this.lines.slice(from).find((l) => re.test(l));
        if (hit === undefined && !this.closed) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        if (hit !== undefined) resolve(hit);
        else reject(new Error(`connection closed before ${re}; got:\n${this.lines.slice(from).join('\n')}`));
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`no line matching ${re} within ${timeoutMs} ms; got:\n${this.lines.slice(from).join('\n')}`));
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }

  /** Sends a command; resolves with the lines it produced, the tagged reply last. */
  async command(cmd: string, timeoutMs = 5000): Promise<string[]> {
    const tag = `p${++this.#tag}`;
    const from = this.lines.length;
    this.#socket.write(`${tag} ${cmd}\r\n`);
    await this.waitForLine(new RegExp(`^${tag} `), timeoutMs, from);
    const end = this.lines.findIndex((l, i) => i >= from && l.startsWith(`${tag} `));
    return this.lines.slice(from, end + 1);
  }

  /** Sends raw text (e.g. DONE to end IDLE). */
  write(text: string): void {
    this.#socket.write(text);
  }

  close(): void {
    this.#socket.destroy();
  }
}

/** The tagged reply's status: OK, NO or BAD. */
export function status(lines: string[]): string {
  return lines.at(-1)?.split(' ')[1] ?? '';
}

export function quote(s: string): string {
  return `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}
