// Typed calls for Inbox+, the message view and compose, over the generic helpers of api.ts (the only fetch).
// Types come from the server's schemas (types only). No UI and no strings shown to users here.
import { deleteJson, getJson, patchJson, postJson, postRaw } from '../api.ts';
import type { MessageDetail, MessagePage, MessageSummary, ThreadResponse } from '../../server/schemas/messages.ts';
import type { OutboxCreate, OutboxQueued, OutboxView, ReplyBody } from '../../server/schemas/outbox.ts';
import type { CommunicationPage, CommunicationView, TagView } from '../../server/schemas/communications.ts';
import type { ClientListItem, DocumentView } from '../../server/schemas/crm.ts';
import type { MailAccountView } from '../../server/schemas/mail-accounts.ts';

export type { MessageDetail, MessageSummary, OutboxView, TagView, ClientListItem, DocumentView, MailAccountView, CommunicationView };

/** The Inbox+ filters, as they appear in the page's address (all optional strings). */
export type MessageFilters = {
  accountId?: string;
  folder?: string;
  clientId?: string;
  filed?: 'true' | 'false';
  /** The "Needs a client" view: mail of a contact in several clients who asks which one. */
  ambiguous?: 'true';
  hasAttachments?: 'true';
  reasonId?: string;
  areaId?: string;
  q?: string;
  /** One row per conversation instead of per message. */
  view?: 'conversations';
};

export const filterKeys = ['accountId', 'folder', 'clientId', 'filed', 'ambiguous', 'hasAttachments', 'reasonId', 'areaId', 'q', 'view'] as const;

/** How many visible messages wait for staff to choose a client. */
export const countAmbiguous = (signal?: AbortSignal) => getJson<{ count: number }>('/messages/ambiguous-count', undefined, signal);

export function listMessages(filters: MessageFilters, cursor: string | null, signal?: AbortSignal): Promise<MessagePage> {
  return getJson<MessagePage>('/messages', { ...filters, cursor, limit: 50 }, signal);
}

/** The view's unread count (no search: a count of matches would cost a search of its own). */
export function countUnread(filters: MessageFilters, signal?: AbortSignal): Promise<{ unread: number; more: boolean }> {
  const { q: _q, view: _view, ...rest } = filters;
  return getJson<{ unread: number; more: boolean }>('/messages/unread-count', rest, signal);
}

export type ReadChange = { ids: string[]; threadId: string | null; unread: boolean };
const READ_EVENT = 'dossier:read';

/**
 * Marks messages read or unread for the signed-in user (the mailbox's \Seen is never touched), then tells
 * every list on screen (Inbox+, the reading pane's list, a client's Emails tab) through a window event.
 */
export async function setRead(ids: string[], read: boolean, threadId: string | null = null): Promise<void> {
  if (ids.length === 0) return;
  await Promise.all(ids.map((id) => postJson<{ id: string; unread: boolean }>(`/messages/${id}/read`, { read })));
  window.dispatchEvent(new CustomEvent<ReadChange>(READ_EVENT, { detail: { ids, threadId, unread: !read } }));
}

/** Calls `handler` whenever setRead changed something; returns the unsubscribe function. */
export function onReadChange(handler: (change: ReadChange) => void): () => void {
  const listener = (event: Event) => handler((event as CustomEvent<ReadChange>).detail);
  window.addEventListener(READ_EVENT, listener);
  return () => window.removeEventListener(READ_EVENT, listener);
}

/** A list row after a read change: a message by id; a conversation row by its thread (reading it reads the thread). */
export function applyReadChange(m: MessageSummary, change: ReadChange): MessageSummary {
  const hit = change.ids.includes(m.id) || (m.threadCount !== undefined && change.threadId !== null && m.threadId === change.threadId);
  return hit && m.unread !== change.unread ? { ...m, unread: change.unread } : m;
}

export const getMessage = (id: string) => getJson<MessageDetail>(`/messages/${id}`);
export const getThread = (threadId: string) => getJson<ThreadResponse>(`/threads/${threadId}`);

/** The sanitised body document for the sandboxed frame; `images` asks the server to let remote images through. */
export const bodyUrl = (id: string, images: boolean) => `/api/messages/${id}/body${images ? '?images=1' : ''}`;
export const attachmentUrl = (id: string, inline = false) => `/api/attachments/${id}${inline ? '?inline=1' : ''}`;

export const fileMessage = (messageId: string, clientId: string) => postJson<MessageSummary>(`/messages/${messageId}/clients`, { clientId });
export const unfileMessage = (messageId: string, clientId: string) => deleteJson(`/messages/${messageId}/clients/${clientId}`);
export const addSenderAsContact = (messageId: string, clientId: string) =>
  postJson<{ contactId: string; contactCreated: boolean; address: string; clientId: string; filed: number }>(`/messages/${messageId}/add-sender-as-contact`, { clientId });

/** Clients matching q (the API's page size caps `limit` at 200: the filter list shows that many, a search 20). */
export async function listClients(q: string, signal?: AbortSignal, limit = 20): Promise<ClientListItem[]> {
  return (await getJson<{ items: ClientListItem[] }>('/clients', { q: q.trim() || undefined, limit }, signal)).items;
}

export async function listClientDocuments(clientId: string): Promise<DocumentView[]> {
  return (await getJson<{ items: DocumentView[] }>(`/clients/${clientId}/documents`, { limit: 200 })).items;
}

/** Uploads files as the client's documents (multipart, field "file"); answers the new documents. */
export async function uploadClientDocuments(clientId: string, files: File[]): Promise<DocumentView[]> {
  const form = new FormData();
  for (const file of files) form.append('file', file, file.name);
  return (await postRaw<{ items: DocumentView[] }>(`/clients/${clientId}/documents`, form)).items;
}

export async function listMailAccounts(): Promise<MailAccountView[]> {
  return (await getJson<{ items: MailAccountView[] }>('/mail-accounts')).items;
}

export async function listReasons(): Promise<TagView[]> {
  return (await getJson<{ items: TagView[] }>('/reasons')).items;
}

export async function listAreas(): Promise<TagView[]> {
  return (await getJson<{ items: TagView[] }>('/areas')).items;
}

/**
 * The client's log record for a filed message. The log API has no message filter, so this asks for the
 * email records at the message's own instant (records take the message's date) and picks the one for it.
 */
export async function findMessageRecord(clientId: string, message: { id: string; date: string }): Promise<CommunicationView | null> {
  const at = new Date(message.date).getTime();
  const from = new Date(at - 1000).toISOString();
  const to = new Date(at + 1000).toISOString();
  let cursor: string | null = null;
  for (let i = 0; i < 10; i++) {
    const page: CommunicationPage = await getJson<CommunicationPage>(`/clients/${clientId}/communications`, { kind: 'email', from, to, limit: 200, cursor });
    const found = page.items.find((r) => r.messageId === message.id);
    if (found) return found;
    if (!page.nextCursor) return null;
    cursor = page.nextCursor;
  }
  return null;
}

export const tagRecord = (recordId: string, patch: { reasonId?: string | null; areaId?: string | null }) =>
  patchJson<CommunicationView>(`/communications/${recordId}`, patch);

export const sendReply = (messageId: string, body: ReplyBody) => postJson<OutboxQueued>(`/messages/${messageId}/reply`, body);
export const sendMessage = (body: OutboxCreate) => postJson<OutboxQueued>('/outbox', body);
export const getOutbox = (id: string) => getJson<OutboxView>(`/outbox/${id}`);
