// Renders a user's task feed as iCalendar (RFC 5545) with ical.js, Mozilla's maintained implementation.
// Each open task with a due time is a VTODO (what the contract promises: Thunderbird and Apple Reminders-style
// clients list it as a task) and also a short VEVENT at the due time, because Outlook, Google Calendar and
// Apple Calendar subscriptions show only events. UIDs derive from the task id, so they are stable across
// fetches; SEQUENCE follows the task's revision so a changed task replaces the old version.
import ICAL from 'ical.js';
import type { FeedTask } from '../core/log/tasks.ts';

const EVENT_MINUTES = 15;

function time(d: Date): ICAL.Time {
  return ICAL.Time.fromJSDate(d, true);
}

export function renderCalendarFeed(tasks: FeedTask[], opts: { ownerName: string; publicUrl: string; host: string; now?: Date }): string {
  const cal = new ICAL.Component(['vcalendar', [], []]);
  cal.addPropertyWithValue('prodid', '-//Dossier//Tasks//EN');
  cal.addPropertyWithValue('version', '2.0');
  cal.addPropertyWithValue('calscale', 'GREGORIAN');
  cal.addPropertyWithValue('method', 'PUBLISH');
  cal.addPropertyWithValue('x-wr-calname', `Dossier: ${opts.ownerName}`);
  // Subscribed calendars poll; ask for a refresh every 15 minutes where the client honours it.
  cal.addPropertyWithValue('refresh-interval', ICAL.Duration.fromSeconds(15 * 60)).setParameter('value', 'DURATION');
  cal.addPropertyWithValue('x-published-ttl', 'PT15M');
  const stamp = time(opts.now ?? new Date());
  for (const task of tasks) {
    const summary = task.clientName ? `${task.title} (${task.clientName})` : task.title;
    const url = `${opts.publicUrl}/tasks?task=${task.id}`;
    const description = [task.notes.trim(), url].filter(Boolean).join('\n\n');
    const common = (c: ICAL.Component, uid: string) => {
      c.addPropertyWithValue('uid', uid);
      c.addPropertyWithValue('dtstamp', stamp);
      c.addPropertyWithValue('sequence', task.revision);
      c.addPropertyWithValue('created', time(task.createdAt));
      c.addPropertyWithValue('last-modified', time(task.updatedAt));
      c.addPropertyWithValue('summary', summary);
      c.addPropertyWithValue('description', description);
      c.addPropertyWithValue('url', url);
    };
    const todo = new ICAL.Component('vtodo');
    common(todo, `task-${task.id}@${opts.host}`);
    todo.addPropertyWithValue('due', time(task.dueAt));
    todo.addPropertyWithValue('status', 'NEEDS-ACTION');
    cal.addSubcomponent(todo);

    const event = new ICAL.Component('vevent');
    common(event, `task-${task.id}-due@${opts.host}`);
    event.addPropertyWithValue('dtstart', time(task.dueAt));
    event.addPropertyWithValue('dtend', time(new Date(task.dueAt.getTime() + EVENT_MINUTES * 60_000)));
    event.addPropertyWithValue('transp', 'TRANSPARENT');
    cal.addSubcomponent(event);
  }
  return cal.toString();
}
