// The navigation's count of the user's open tasks: loaded on start, every minute, and whenever a page
// changes a task (notifyTaskCountChanged), so the badge never waits for the next poll after an edit.
import { useEffect, useState } from 'preact/hooks';
import type { Static } from 'typebox';
import type { TaskCount } from '../../server/schemas/tasks.ts';
import { getJson } from '../api.ts';

const POLL_MS = 60_000;
const EVENT = 'dossier:tasks-changed';

export function notifyTaskCountChanged(): void {
  window.dispatchEvent(new Event(EVENT));
}

export function useTaskCount(): Static<typeof TaskCount> | null {
  const [count, setCount] = useState<Static<typeof TaskCount> | null>(null);
  useEffect(() => {
    let alive = true;
    const load = () => void getJson<Static<typeof TaskCount>>('/tasks/count').then((c) => alive && setCount(c), () => undefined);
    load();
    const timer = window.setInterval(load, POLL_MS);
    window.addEventListener(EVENT, load);
    return () => {
      alive = false;
      window.clearInterval(timer);
      window.removeEventListener(EVENT, load);
    };
  }, []);
  return count;
}
