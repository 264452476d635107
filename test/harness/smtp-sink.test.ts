// The SMTP sink against a raw SMTP conversation (node:net, RFC 5321): it records what was really sent, checks AUTH,
// and refuses on request with the code a sender's retry logic must tell apart (4xx transient, 5xx permanent).
import t from 'tap';
import net from 'node:net';
import { startSmtpSink } from '../support/smtp-sink.ts';

/** A minimal SMTP client: each step sends a line and resolves with the reply code (multi-line replies joined). */
class SmtpTalk {
  #socket: net.Socket;
  #buf = '';
  #replies: string[] = [];
  #waiting: ((reply: string) => void) | undefined;

  constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.#buf += d;
      // A reply ends with a line "NNN text" (a space after the code, RFC 5321 4.2.1).
      const m = /(^|\r\n)(\d{3}) [^\r\n]*\r\n/.exec(this.#buf);
      if (!m) return;
      const end = m.index + m[0].length;
      this.#replies.push(this.#buf.slice(0, end));
      this.#buf = this.#buf.slice(end);
      this.#flush();
    });
  }

  static async open(port: number): Promise<SmtpTalk> {
    const socket = net.connect(port, '127.0.0.1');
    const talk = new SmtpTalk(socket);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const greeting = await talk.reply();
    if (!greeting.startsWith('220')) throw new Error(`greeting: ${greeting}`);
    return talk;
  }

  reply(): Promise<string> {
    return new Promise((resolve) => {
      this.#waiting = resolve;
      this.#flush();
    });
  }

  async send(line: string): Promise<number> {
    this.#socket.write(`${line}\r\n`);
    return Number((await this.reply()).slice(0, 3));
  }

  /** MAIL FROM, RCPT TO…, DATA with dot-stuffing; returns the codes in order. */
  async mail(from: string, to: string[], body: string): Promise<number[]> {
    const codes = [await this.send(`MAIL FROM:<${from}>`)];
    if (codes[0] !== 250) return codes;
    for (const r of to) codes.push(await this.send(`RCPT TO:<${r}>`));
    if (codes.some((c) => c >= 400)) {
      await this.send('RSET');
      return codes;
    }
    codes.push(await this.send('DATA'));
    const stuffed = body.replace(/(^|\r\n)\./g, '$1..');
    codes.push(await this.send(stuffed.endsWith('\r\n') ? `${stuffed}.` : `${stuffed}\r\n.`));
    return codes;
  }

  close(): void {
    this.#socket.end('QUIT\r\n');
    this.#socket.destroy();
  }

  #flush() {
    const next = this.#replies[0];
    if (next === undefined || !this.#waiting) return;
    this.#replies.shift();
    const w = this.#waiting;
    this.#waiting = undefined;
    w(next);
  }
}

const body = 'From: firm@dossier.test\r\nTo: ann@client.test\r\nSubject: Invoice\r\n\r\nHello Ann,\r\n.a line starting with a dot\r\n';

t.test('records the envelope and the exact message, with the AUTH user', async (t) => {
  const sink = await startSmtpSink();
  t.teardown(() => sink.close());
  const talk = await SmtpTalk.open(sink.port);
  t.teardown(() => talk.close());
  t.equal(await talk.send('EHLO harness.test'), 250);
  const plain = Buffer.from(`\0${sink.user}\0${sink.password}`).toString('base64');
  t.equal(await talk.send(`AUTH PLAIN ${plain}`), 235, 'the configured credentials are accepted');
  t.same(await talk.mail('firm@dossier.test', ['ann@client.test', 'bob@client.test'], body), [250, 250, 250, 354, 250]);

  const got = await sink.waitFor((m) => m.to.includes('bob@client.test'));
  t.equal(got.from, 'firm@dossier.test');
  t.same(got.to, ['ann@client.test', 'bob@client.test']);
  t.equal(got.authUser, sink.user);
  t.equal(got.raw.toString('latin1'), body, 'the raw message arrives dot-unstuffed and otherwise byte for byte');
  t.equal(sink.messages.length, 1);
});

t.test('AUTH is optional, but wrong credentials are refused; requireAuth refuses unauthenticated mail', async (t) => {
  const sink = await startSmtpSink({ user: 'firm', password: 'right' });
  t.teardown(() => sink.close());
  const talk = await SmtpTalk.open(sink.port);
  t.teardown(() => talk.close());
  await talk.send('EHLO harness.test');
  t.equal(await talk.send(`AUTH PLAIN ${Buffer.from('\0firm\0wrong').toString('base64')}`), 535);
  t.same(await talk.mail('firm@dossier.test', ['ann@client.test'], body), [250, 250, 354, 250], 'unauthenticated mail is accepted');
  t.equal((await sink.waitFor()).authUser, undefined);

  const strict = await startSmtpSink({ requireAuth: true });
  t.teardown(() => strict.close());
  const talk2 = await SmtpTalk.open(strict.port);
  t.teardown(() => talk2.close());
  await talk2.send('EHLO harness.test');
  t.equal(await talk2.send('MAIL FROM:<firm@dossier.test>'), 530, 'authentication required');
  t.equal(strict.messages.length, 0);
});

t.test('rejectNext refuses the next N transactions with the given code, then accepts again', async (t) => {
  const sink = await startSmtpSink();
  t.teardown(() => sink.close());
  const talk = await SmtpTalk.open(sink.port);
  t.teardown(() => talk.close());
  await talk.send('EHLO harness.test');

  sink.rejectNext(2, 451);
  t.same(await talk.mail('firm@dossier.test', ['ann@client.test'], body), [250, 250, 354, 451], 'first: 451 after DATA');
  t.same(await talk.mail('firm@dossier.test', ['ann@client.test'], body), [250, 250, 354, 451], 'second: 451');
  t.same(await talk.mail('firm@dossier.test', ['ann@client.test'], body), [250, 250, 354, 250], 'third: accepted');
  t.equal(sink.messages.length, 1, 'refused messages are not recorded as received');
  t.same(sink.rejections.map((r) => [r.stage, r.code]), [['data', 451], ['data', 451]]);

  sink.rejectNext(1, 550, { stage: 'rcpt' });
  t.same(await talk.mail('firm@dossier.test', ['gone@client.test', 'ann@client.test'], body), [250, 550, 550], 'every recipient of the refused transaction');
  t.same(await talk.mail('firm@dossier.test', ['ann@client.test'], body), [250, 250, 354, 250]);
  sink.rejectNext(1, 452, { stage: 'mail' });
  t.same(await talk.mail('firm@dossier.test', ['ann@client.test'], body), [452], 'refused at MAIL FROM');
  t.same(sink.rejections.slice(2).map((r) => [r.stage, r.code, r.from, r.to.join(',')]), [
    ['rcpt', 550, 'firm@dossier.test', 'gone@client.test'],
    ['mail', 452, 'firm@dossier.test', ''],
  ]);
  t.equal(sink.messages.length, 2);
});

t.test('waitFor fails with what did arrive when nothing matches in time', async (t) => {
  const sink = await startSmtpSink();
  t.teardown(() => sink.close());
  const talk = await SmtpTalk.open(sink.port);
  t.teardown(() => talk.close());
  await talk.send('EHLO harness.test');
  await talk.mail('firm@dossier.test', ['ann@client.test'], body);
  await t.rejects(sink.waitFor((m) => m.to.includes('nobody@client.test'), 200), /no matching message within 200 ms \(received: firm@dossier.test -> ann@client.test\)/);
  sink.clear();
  t.equal(sink.messages.length, 0);
});
