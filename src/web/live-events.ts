// The live event stream (GET /api/events) shared by every component of the page: one EventSource, opened on
// first use. Components subscribe with useLiveEvent and reload what they show; they never poll for mail.
// On a reconnect (server restart, network change) listeners hear 'reconnected' and reload, since events sent
// while disconnected are gone. The server ends the stream with an `end` event when the session no longer
// stands (signed out elsewhere, password changed): the app stops listening and one API call lets the usual
// 401 handling take the user to the login page, instead of EventSource reconnecting into 401s.
import { useEffect, useRef } from 'preact/hooks';
import { getJson } from './api.ts';

export type LiveMessage = { id: string; accountIds: string[]; clientIds: string[] };
export type LiveSync = { accountId: string; progress: { done: number; total: number } | null; status: string | null };
type Payloads = { message: LiveMessage; notification: { id: string }; sync: LiveSync; reconnected: Record<string, never> };
export type LiveEventName = keyof Payloads;

const listeners = new Map<LiveEventName, Set<(data: unknown) => void>>();
let source: EventSource | null = null;

function emit(name: LiveEventName, data: unknown) {
  for (const listener of listeners.get(name) ?? []) listener(data);
}

function open() {
  if (source || typeof EventSource === 'undefined') return;
  source = new EventSource('/api/events');
  let opened = false;
  source.addEventListener('open', () => {
    if (opened) emit('reconnected', {});
    opened = true;
  });
  source.addEventListener('end', () => {
    closeLiveEvents();
    getJson('/me').catch(() => { /* the 401 handler has taken over */ });
  });
  for (const name of ['message', 'notification', 'sync'] as const) {
    source.addEventListener(name, (event) => {
      try {
        emit(name, JSON.parse((event as MessageEvent<string>).data));
      } catch {
        /* a malformed event is ignored, the next reload catches up */
      }
    });
  }
}

/** Calls `handler` for each `name` event while the component is mounted (the latest handler, no resubscribe). */
export function useLiveEvent<N extends LiveEventName>(name: N, handler: (data: Payloads[N]) => void): void {
  const current = useRef(handler);
  current.current = handler;
  useEffect(() => {
    open();
    const listener = (data: unknown) => current.current(data as Payloads[N]);
    const set = listeners.get(name) ?? new Set();
    set.add(listener);
    listeners.set(name, set);
    return () => void set.delete(listener);
  }, [name]);
}

/** Closes the stream (sign-out): the next subscriber opens a new one with the new session. */
export function closeLiveEvents(): void {
  source?.close();
  source = null;
}
