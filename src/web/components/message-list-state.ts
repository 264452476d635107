// Inbox+ remembered across a visit to a message: the list already loaded, where the user was in it and
// the filters in the address, so Esc / Back returns to the same place without reloading from the top.
import { applyReadChange, onReadChange, type MessageSummary, type ReadChange } from './message-api.ts';

export type InboxSnapshot = {
  /** The inbox address (path + query) the snapshot belongs to. */
  url: string;
  items: MessageSummary[];
  nextCursor: string | null;
  active: number;
  scrollY: number;
};

let snapshot: InboxSnapshot | null = null;

export function saveInboxSnapshot(value: InboxSnapshot): void {
  snapshot = value;
}

/** The saved list for this exact address, if any (filters differ → start afresh). */
export function takeInboxSnapshot(url: string): InboxSnapshot | null {
  return snapshot && snapshot.url === url ? snapshot : null;
}

/** Where "back to the inbox" leads: the last inbox address, filters included. */
export function inboxUrl(): string {
  return snapshot?.url ?? '/inbox';
}

/** A message changed (filed, replied): the saved list may be stale for that row; forget it. */
export function updateSnapshotMessage(message: MessageSummary): void {
  if (!snapshot) return;
  snapshot = { ...snapshot, items: snapshot.items.map((m) => (m.id === message.id ? { ...m, clients: message.clients } : m)) };
}

/** Read state changed while the list was not on screen (a message opened, u): the saved rows follow. */
function updateSnapshotRead(change: ReadChange): void {
  if (!snapshot) return;
  snapshot = { ...snapshot, items: snapshot.items.map((m) => applyReadChange(m, change)) };
}
onReadChange(updateSnapshotRead);

/**
 * The message `delta` rows away from `id` in the saved list (j: older, k: newer), made the list's current
 * row so Esc returns to it; null at either end or without a saved list.
 */
export function neighbourMessage(id: string, delta: number): string | null {
  if (!snapshot) return null;
  const index = snapshot.items.findIndex((m) => m.id === id);
  const next = index < 0 ? undefined : snapshot.items[index + delta];
  if (!next) return null;
  snapshot = { ...snapshot, active: index + delta };
  return next.id;
}

/**
 * A message's address opened from another page (a client's Emails or Log tab, a file request): `back`
 * carries that page, so the message view's Back returns there instead of to Inbox+.
 */
export function messageHref(id: string): string {
  const here = `${window.location.pathname}${window.location.search}`;
  return `/inbox/${id}?back=${encodeURIComponent(here)}`;
}
