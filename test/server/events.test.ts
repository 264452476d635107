// The live event stream over real HTTP and Redis pub/sub: each user hears only what they may see. A private
// mailbox's unfiled mail reaches its owner and never a colleague (not even its id); filed mail reaches
// everyone (with only the accounts each may see); notifications reach their user alone. Events arrive in
// order, so a later event that must arrive proves an earlier one was withheld, without waiting on a timer.
import t from 'tap';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { signIn, startTestApp, userSession, type Session } from '../support/app.ts';
import { createTestAccount, createTestClient, createTestCommunication, createTestMessage } from '../support/factories.ts';
import { describeMessageEvents } from '../../src/core/mail/message-events.ts';
import { createNotification } from '../../src/core/collaboration/staff-notifications.ts';

const ta = await startTestApp();
t.teardown(ta.close);
await ta.app.listen({ host: '127.0.0.1', port: 0 });
const port = (ta.app.server.address() as AddressInfo).port;
const { db, blobs } = ta;

type Received = { event: string; data: Record<string, unknown> };

/** Opens the stream as `s`; `until(pred)` resolves with everything received once an event matching pred arrives. */
async function listen(t: { teardown: (fn: () => void) => void }, s: Session) {
  const received: Received[] = [];
  const waiters: { pred: (r: Received) => boolean; resolve: () => void }[] = [];
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/api/events', headers: { cookie: s.cookie, accept: 'text/event-stream' } }, resolve);
    req.on('error', reject);
    t.teardown(() => req.destroy());
  });
  let buffer = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    buffer += chunk;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (!event || !data) continue;
      const r = { event, data: JSON.parse(data) as Record<string, unknown> };
      received.push(r);
      for (const w of [...waiters]) if (w.pred(r)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(); }
    }
  });
  return {
    res, received,
    until: (pred: (r: Received) => boolean, timeoutMs = 15_000) => new Promise<Received[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`event not received; got ${JSON.stringify(received)}`)), timeoutMs);
      const done = () => { clearTimeout(timer); resolve(received); };
      if (received.some(pred)) return done();
      waiters.push({ pred, resolve: done });
    }),
  };
}

t.test('GET /api/events needs a session', async (t) => {
  const res = await ta.app.inject({ method: 'GET', url: '/api/events' });
  t.equal(res.statusCode, 401);
});

t.test("a colleague's stream carries nothing of a private mailbox's unfiled mail; filed mail and notifications go where they may", async (t) => {
  const alice = await userSession(ta);
  const bob = await userSession(ta);
  const aliceStream = await listen(t, alice);
  const bobStream = await listen(t, bob);
  t.equal(bobStream.res.statusCode, 200);
  t.match(bobStream.res.headers['content-type'], /^text\/event-stream/);

  const box = await createTestAccount(db, alice.user, { visibility: 'private' });
  const secret = await createTestMessage(db, blobs, { locations: [{ mailbox: box.inbox }], subject: 'Privileged' });
  const client = await createTestClient(db);
  const filed = await createTestMessage(db, blobs, { locations: [{ mailbox: box.inbox }], subject: 'For the client file' });
  await createTestCommunication(db, filed, client);

  for (const event of await describeMessageEvents(db.em.fork(), [secret.id, filed.id])) ta.events.publish(event);
  const em = db.em.fork();
  await createNotification(em, { userId: alice.user.id, kind: 'test', title: 'For Alice only' });
  await em.flush();
  // The marker: filed mail everyone may see, published last.
  const marker = await createTestMessage(db, blobs, { locations: [{ mailbox: box.inbox }], subject: 'Marker' });
  await createTestCommunication(db, marker, client);
  for (const event of await describeMessageEvents(db.em.fork(), [marker.id])) ta.events.publish(event);

  const bobGot = await bobStream.until((r) => r.data.id === marker.id);
  t.notOk(JSON.stringify(bobGot).includes(secret.id), "Bob's stream never names the private message");
  t.notOk(JSON.stringify(bobGot).includes(box.account.id), "nor Alice's private account");
  t.same(bobGot.filter((r) => r.event === 'notification'), [], "nor Alice's notification");
  t.same(bobGot.find((r) => r.data.id === filed.id)?.data, { id: filed.id, accountIds: [], clientIds: [client.id] }, 'filed mail reaches Bob without the private account');

  const aliceGot = await aliceStream.until((r) => r.data.id === marker.id);
  t.same(aliceGot.find((r) => r.data.id === secret.id)?.data, { id: secret.id, accountIds: [box.account.id], clientIds: [] }, 'the owner hears of her own unfiled mail');
  t.equal(aliceGot.filter((r) => r.event === 'notification').length, 1, 'and of her notification, after it committed');
  const order = aliceGot.map((r) => r.data.id ?? r.event);
  t.ok(order.indexOf(secret.id) < order.indexOf(marker.id), 'in the order published');
});

t.test('signing out ends an open stream; the same user\'s other session keeps listening', async (t) => {
  const first = await userSession(ta);
  const second = { user: first.user, ...(await signIn(ta.app, first.user.email)) };
  const firstStream = await listen(t, first);
  const secondStream = await listen(t, second);
  const closed = new Promise<void>((resolve) => firstStream.res.on('end', resolve));

  t.equal((await first.request('POST', '/api/auth/logout')).statusCode, 204);
  // The stream re-asks about its session every 10 s.
  await firstStream.until((r) => r.event === 'end', 25_000);
  await closed;
  t.pass('the signed-out stream got `end` and was closed by the server');

  const em = db.em.fork();
  const { notification: note } = await createNotification(em, { userId: first.user.id, kind: 'test', title: 'Still here' });
  await em.flush();
  await secondStream.until((r) => r.event === 'notification' && r.data.id === note.id);
  t.notOk(firstStream.received.some((r) => r.event === 'notification'), 'nothing reaches the ended stream');
});
