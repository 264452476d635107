// Follow-up tasks through the full server on real PostgreSQL and Redis: create (defaults, links to a log
// record or a message, no probing of private mail), list pages and filters, status and counts, the due-time
// notification (once per due time, whether the job or the scan gets there first), and the calendar feed
// read back with a real iCalendar parser.
import t from 'tap';
import ICAL from 'ical.js';
import { randomUUID } from 'node:crypto';
import { startTestApp, userSession } from '../support/app.ts';
import { runTaskDueJob, runTaskDueScan } from '../../src/core/collaboration/task-due.ts';
import { createTestAccount, createTestClient, createTestCommunication, createTestMessage } from '../support/factories.ts';

const ta = await startTestApp();
t.teardown(ta.close);
const { db, blobs, queue } = ta;

const inHours = (h: number) => new Date(Date.now() + h * 3600_000).toISOString();

t.test('create: the caller is the default assignee; bad input names its field; a log record or message links both ways', async (t) => {
  const s = await userSession(ta, 'staff', 'Ana Staff');
  const res = await s.request('POST', '/api/tasks', { title: '  Call back about the VAT return ', dueAt: inHours(24), notes: 'Ask for Q3 invoices' });
  t.equal(res.statusCode, 201);
  const { task } = res.json();
  t.match(task, { title: 'Call back about the VAT return', status: 'open', notes: 'Ask for Q3 invoices', assignee: { id: s.user.id, name: 'Ana Staff' }, createdBy: { id: s.user.id }, client: null, communicationId: null, messageId: null, doneAt: null });
  t.same((await s.request('GET', `/api/tasks/${task.id}`)).json(), task, 'GET returns the same view');

  for (const [body, field] of [[{}, 'title'], [{ title: '' }, 'title'], [{ title: 'x', dueAt: 'tomorrow' }, 'dueAt'], [{ title: 'x', assigneeId: randomUUID() }, 'assigneeId'], [{ title: 'x', clientId: randomUUID() }, 'clientId']] as const) {
    const bad = await s.request('POST', '/api/tasks', body);
    t.equal(bad.statusCode, 400, `${JSON.stringify(body)} refused`);
    t.equal(bad.json().error.field, field, `names ${field}`);
  }

  const box = await createTestAccount(db, s.user, { visibility: 'private' });
  const client = await createTestClient(db);
  const message = await createTestMessage(db, blobs, { locations: [{ mailbox: box.inbox }], subject: 'Invoices' });
  const record = await createTestCommunication(db, message, client);
  const fromRecord = (await s.request('POST', '/api/tasks', { title: 'Follow up the invoices', communicationId: record.id })).json().task;
  t.match(fromRecord, { communicationId: record.id, client: { id: client.id } }, 'a follow-up on a log record takes its client');
  const fromMessage = (await s.request('POST', '/api/tasks', { title: 'Answer this', messageId: message.id })).json().task;
  t.match(fromMessage, { messageId: message.id, client: { id: client.id } }, 'a follow-up on a message filed to one client takes that client');
  const clientTasks = (await s.request('GET', `/api/tasks?clientId=${client.id}`)).json();
  t.same(clientTasks.items.map((x: { id: string }) => x.id).sort(), [fromRecord.id, fromMessage.id].sort(), 'the client overview lists its tasks');
  t.equal((await s.request('POST', '/api/tasks', { title: 'x', communicationId: randomUUID() })).statusCode, 404);
});

t.test("a task cannot reveal a colleague's private mail: an unfiled private message is 404, like a missing one", async (t) => {
  const alice = await userSession(ta);
  const bob = await userSession(ta);
  const box = await createTestAccount(db, alice.user, { visibility: 'private' });
  const secret = await createTestMessage(db, blobs, { locations: [{ mailbox: box.inbox }], subject: 'Privileged' });
  const probe = await bob.request('POST', '/api/tasks', { title: 'probe', messageId: secret.id });
  const missing = await bob.request('POST', '/api/tasks', { title: 'probe', messageId: randomUUID() });
  t.equal(probe.statusCode, 404);
  t.same(probe.json(), missing.json(), 'the answer reads exactly like an unknown id');
  t.equal((await alice.request('POST', '/api/tasks', { title: 'mine', messageId: secret.id })).statusCode, 201, 'the owner may');
});

t.test('lists: open first by due time (undated last), then done; every task once at any page size; filters', async (t) => {
  const s = await userSession(ta);
  const other = await userSession(ta);
  const same = inHours(5);
  const specs = [
    { title: 'later', dueAt: inHours(48) }, { title: 'undated' }, { title: 'soon-a', dueAt: same }, { title: 'soon-b', dueAt: same },
    { title: 'overdue', dueAt: inHours(-2) }, { title: 'undated-2' }, { title: 'for someone else', assigneeId: other.user.id },
  ];
  const ids: Record<string, string> = {};
  for (const spec of specs) ids[spec.title] = (await s.request('POST', '/api/tasks', spec)).json().task.id;
  const done = await s.request('PATCH', `/api/tasks/${ids.later}`, { status: 'done' });
  t.equal(done.json().status, 'done');
  t.ok(done.json().doneAt, 'done time is set');
  t.same((await s.request('GET', '/api/tasks/count')).json(), { open: 5, overdue: 1 }, 'the navigation count: open and overdue of the caller');

  const all = (await s.request('GET', '/api/tasks?limit=200')).json().items.map((x: { title: string }) => x.title);
  t.equal(all[0], 'overdue');
  t.same(all.slice(1, 3).sort(), ['soon-a', 'soon-b']);
  t.same(all.slice(3, 5).sort(), ['undated', 'undated-2']);
  t.equal(all[5], 'later', 'done last');
  t.notOk(all.includes('for someone else'), "the default list is the caller's");
  for (const limit of [1, 2, 4]) {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: { title: string }[]; nextCursor: string | null } = (await s.request('GET', `/api/tasks?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`)).json();
      seen.push(...page.items.map((x) => x.title));
      cursor = page.nextCursor;
    } while (cursor);
    t.same(seen, all, `pages of ${limit} yield every task once, in order`);
  }
  t.same((await s.request('GET', '/api/tasks?status=done')).json().items.map((x: { id: string }) => x.id), [ids.later]);
  t.same((await s.request('GET', `/api/tasks?assignee=${other.user.id}`)).json().items.map((x: { id: string }) => x.id), [ids['for someone else']]);
  t.equal((await s.request('GET', '/api/tasks?cursor=bogus')).json().error.field, 'cursor');
  t.equal((await s.request('GET', '/api/tasks?status=later')).statusCode, 400);
});

t.test('due tasks notify their assignee once per due time: the job and the scan never double up', async (t) => {
  const boss = await userSession(ta);
  const s = await userSession(ta);
  const task = (await boss.request('POST', '/api/tasks', { title: 'File the annual accounts', dueAt: inHours(-0.01), assigneeId: s.user.id })).json().task;
  const future = (await boss.request('POST', '/api/tasks', { title: 'Not yet', dueAt: inHours(3), assigneeId: s.user.id })).json().task;
  const dueNotes = async () => (await s.request('GET', '/api/notifications/page?limit=50')).json().items.filter((n: { kind: string }) => n.kind === 'task_due');

  t.equal(await runTaskDueJob(db, queue, task.id), true, 'the job notifies');
  t.equal(await runTaskDueJob(db, queue, task.id), false, 'a repeated job does not');
  t.equal(await runTaskDueJob(db, queue, future.id), false, 'a task not yet due does not notify');
  await runTaskDueScan(db, queue);
  let notes = await dueNotes();
  t.equal(notes.length, 1, 'one notification');
  t.match(notes[0], { kind: 'task_due', taskId: task.id, title: 'File the annual accounts', link: `/tasks?task=${task.id}` });
  t.equal((await boss.request('GET', '/api/notifications/page')).json().items.filter((n: { kind: string }) => n.kind === 'task_due').length, 0, 'only the assignee is told');

  // A new due time is a new reminder; the scan finds it even without its job (lost on an embedded restart).
  await boss.request('PATCH', `/api/tasks/${task.id}`, { dueAt: inHours(1) });
  t.equal(await runTaskDueScan(db, queue, { now: new Date(Date.now() + 4 * 3600_000) }) >= 2, true, 'the scan notifies the moved task and the one that fell due meanwhile');
  notes = await dueNotes();
  t.equal(notes.filter((n: { taskId: string }) => n.taskId === task.id).length, 2, 'the moved task notified again');
  t.equal(notes.filter((n: { taskId: string }) => n.taskId === future.id).length, 1);
  await boss.request('PATCH', `/api/tasks/${future.id}`, { status: 'done' });
  await boss.request('PATCH', `/api/tasks/${future.id}`, { status: 'open', dueAt: inHours(-1) });
  await boss.request('PATCH', `/api/tasks/${future.id}`, { status: 'done' });
  t.equal(await runTaskDueJob(db, queue, future.id), false, 'a done task never notifies');
});

t.test('calendar feed: a secret URL, one VTODO per open dated task with stable UIDs; done and deleted tasks leave; a new URL retires the old', async (t) => {
  const s = await userSession(ta, 'staff', 'Carla Feed');
  const client = await createTestClient(db);
  const a = (await s.request('POST', '/api/tasks', { title: 'Send the tax return', dueAt: '2027-01-31T09:00:00Z', clientId: client.id, notes: 'Check box 12' })).json().task;
  const b = (await s.request('POST', '/api/tasks', { title: 'Call the bank', dueAt: '2027-02-01T15:30:00Z' })).json().task;
  await s.request('POST', '/api/tasks', { title: 'No date' });
  const created = await s.request('POST', '/api/me/calendar-feed');
  t.equal(created.statusCode, 200);
  const url = new URL(created.json().url);
  t.match(url.pathname, /^\/calendar\/[A-Za-z0-9_-]{40,}\.ics$/);
  t.equal(url.origin, ta.config.publicUrl, 'an absolute URL on the public address');

  const fetchFeed = async (path = url.pathname) => ta.app.inject({ method: 'GET', url: path });
  const todos = (body: string) => new ICAL.Component(ICAL.parse(body)).getAllSubcomponents('vtodo');
  const res = await fetchFeed();
  t.equal(res.statusCode, 200, 'no session needed');
  t.match(res.headers['content-type'], /^text\/calendar/);
  const first = todos(res.body);
  t.equal(first.length, 2, 'one VTODO per open task with a due time');
  const byUid = new Map(first.map((c) => [c.getFirstPropertyValue('uid') as string, c]));
  const todoA = [...byUid.values()].find((c) => String(c.getFirstPropertyValue('summary')).startsWith('Send the tax return'))!;
  t.ok(todoA, 'the task is there');
  t.equal(todoA.getFirstPropertyValue('summary'), `Send the tax return (${client.name})`, 'with its client');
  t.equal((todoA.getFirstPropertyValue('due') as ICAL.Time).toJSDate().toISOString(), '2027-01-31T09:00:00.000Z');
  t.match(String(todoA.getFirstPropertyValue('description')), /Check box 12/);
  const events = new ICAL.Component(ICAL.parse(res.body)).getAllSubcomponents('vevent');
  t.equal(events.length, 2, 'and an event at each due time, for calendars that show only events');

  const again = todos((await fetchFeed()).body).map((c) => c.getFirstPropertyValue('uid')).sort();
  t.same(again, [...byUid.keys()].sort(), 'UIDs are stable across fetches');

  await s.request('PATCH', `/api/tasks/${a.id}`, { status: 'done' });
  await s.request('DELETE', `/api/tasks/${b.id}`);
  t.equal(todos((await fetchFeed()).body).length, 0, 'done and deleted tasks leave the feed');

  const rotated = new URL((await s.request('POST', '/api/me/calendar-feed')).json().url);
  t.not(rotated.pathname, url.pathname);
  t.equal((await fetchFeed()).statusCode, 404, 'the previous URL answers 404');
  t.equal((await fetchFeed(rotated.pathname)).statusCode, 200);
  t.equal((await fetchFeed('/calendar/nonsense.ics')).statusCode, 404);
});
