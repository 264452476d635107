// Inbox+: one list across every mailbox the user may see, newest first (messages or conversations), with
// filters and search kept in the address, infinite scroll, the view's unread count, and the keyboard (j/k
// move, Enter open, r reply, a reply all, f file, u read/unread, / search, Esc leave the search or close
// the pane). Unread is the user's own (Dossier's read state); Dossier never changes the mailbox's flags.
// With `pane` (wide screens), the open message shows beside the list and j/k show the next one.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { TFunction } from 'i18next';
import { useLocation } from 'preact-iso';
import { PageHeader } from '../components/page-header.tsx';
import { EmptyState } from '../components/empty-state.tsx';
import { useI18n } from '../i18n/context.tsx';
import { getJson } from '../api.ts';
import { useUser } from '../session.tsx';
import { describeError } from '../i18n/describe-error.ts';
import { useShortcuts } from '../components/keyboard-shortcuts.ts';
import {
  applyReadChange, countAmbiguous, countUnread, fileMessage, filterKeys, getThread, listMessages, onReadChange, setRead, type MessageFilters, type MessageSummary,
} from '../components/message-api.ts';
import { MailIcon } from '../components/message-icons.tsx';
import { listDate } from '../components/list-date.ts';
import { saveInboxSnapshot, takeInboxSnapshot } from '../components/message-list-state.ts';
import { InboxFilters } from '../components/message-filters.tsx';
import { FileToClientDialog } from '../components/file-to-client.tsx';
import { MessageDialog } from '../components/message-dialog.tsx';
import { Compose } from '../components/compose.tsx';
import { useLiveEvent } from '../live-events.ts';
import MessagePage from './message.tsx';
import '../styles/mail.css';

const LIVE_DEBOUNCE_MS = 300;

function filtersOf(query: Record<string, string>): MessageFilters {
  const filters: Record<string, string> = {};
  for (const key of filterKeys) if (query[key]) filters[key] = query[key];
  return filters as MessageFilters;
}

function searchOf(filters: MessageFilters): string {
  const params = new URLSearchParams();
  for (const key of filterKeys) if (filters[key]) params.set(key, filters[key]);
  const search = params.toString();
  return search ? `?${search}` : '';
}
const urlOf = (filters: MessageFilters) => `/inbox${searchOf(filters)}`;

export default function InboxPage({ pane = false, selectedId = null }: { pane?: boolean; selectedId?: string | null }) {
  const { t } = useI18n();
  const { path, query, route } = useLocation();
  // A message opened from the list keeps no filters in its address (list → message): keep the filters of
  // the inbox address. With the reading pane the message's address carries the list's filters.
  const lastQuery = useRef(query);
  if (path === '/inbox' || pane) lastQuery.current = query;
  const inboxQuery = lastQuery.current;
  const filters = useMemo(() => filtersOf(inboxQuery), [inboxQuery]);
  const url = urlOf(filters);
  const saved = takeInboxSnapshot(url);
  const [items, setItems] = useState<MessageSummary[] | null>(saved?.items ?? null);
  const [nextCursor, setNextCursor] = useState<string | null>(saved?.nextCursor ?? null);
  const [active, setActive] = useState(saved?.active ?? 0);
  const [loading, setLoading] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);
  const [filing, setFiling] = useState<MessageSummary | null>(null);
  const [notice, setNotice] = useState<((tr: TFunction) => string) | null>(null);
  const [composing, setComposing] = useState(false);
  // Mail waiting for a client (a contact in several clients who asks): counted for the view's tab.
  const [ambiguousCount, setAmbiguousCount] = useState<number | null>(null);
  const refreshAmbiguous = () => void countAmbiguous().then((r) => setAmbiguousCount(r.count)).catch(() => undefined);
  useEffect(refreshAmbiguous, [url]);
  const [search, setSearch] = useState(filters.q ?? '');
  const [unreadCount, setUnreadCount] = useState<{ unread: number; more: boolean } | null>(null);
  const searchInput = useRef<HTMLInputElement>(null);
  const listRef = useRef<HTMLUListElement>(null);
  const sentinel = useRef<HTMLDivElement>(null);
  const loadedUrl = useRef<string | null>(saved ? url : null);
  const state = useRef({ items, nextCursor, active, url });
  state.current = { items, nextCursor, active, url };

  // Coming back from a message: the list, the row and the scroll position as they were.
  useEffect(() => {
    if (saved) {
      window.scrollTo(0, saved.scrollY);
      focusRow(saved.active);
    }
    return () => {
      const s = state.current;
      if (s.items) saveInboxSnapshot({ url: s.url, items: s.items, nextCursor: s.nextCursor, active: s.active, scrollY: window.scrollY });
    };
  }, []);

  // One request at a time per list: a next page asked for twice (scroll and j at once) would repeat rows,
  // and a page of the previous filters must not be appended to the new list.
  const generation = useRef(0);
  const pending = useRef<string | null>(null);
  const loadPage = async (cursor: string | null, reset: boolean, signal?: AbortSignal) => {
    if (reset) generation.current += 1;
    else if (pending.current === cursor) return;
    const mine = generation.current;
    pending.current = cursor;
    setLoading(true);
    setFailure(null);
    try {
      const page = await listMessages(filters, cursor, signal);
      if (mine !== generation.current) return;
      setItems((prev) => {
        if (reset || !prev) return page.items;
        const seen = new Set(prev.map((m) => m.id));
        return [...prev, ...page.items.filter((m) => !seen.has(m.id))];
      });
      setNextCursor(page.nextCursor);
      if (reset) setActive(0);
    } catch (error) {
      if (mine === generation.current && !(error instanceof DOMException && error.name === 'AbortError')) setFailure(error);
    } finally {
      if (mine === generation.current) {
        pending.current = null;
        setLoading(false);
      }
    }
  };

  // The view's unread count: on a new view, new mail and every read change.
  const countTimer = useRef<number | undefined>(undefined);
  const refreshCount = () => {
    window.clearTimeout(countTimer.current);
    countTimer.current = window.setTimeout(() => {
      countUnread(filters).then(setUnreadCount, () => undefined);
    }, 50);
  };
  useEffect(() => {
    refreshCount();
    return () => window.clearTimeout(countTimer.current);
  }, [url]);
  useEffect(() => onReadChange((change) => {
    setItems((prev) => prev?.map((m) => applyReadChange(m, change)) ?? null);
    refreshCount();
  }), [url]);

  useEffect(() => {
    setSearch(filters.q ?? '');
    if (loadedUrl.current === url) return;
    loadedUrl.current = url;
    const ctrl = new AbortController();
    void loadPage(null, true, ctrl.signal);
    return () => ctrl.abort();
  }, [url]);

  // Live: new mail (or a reconnect after missed events) brings the newest page's unseen rows to the top,
  // keeping the rows, the selection and the scroll position the user has. Debounced: a sync batch is many events.
  const liveTimer = useRef<number | undefined>(undefined);
  const mergeNewest = () => {
    refreshCount();
    window.clearTimeout(liveTimer.current);
    liveTimer.current = window.setTimeout(async () => {
      const mine = generation.current;
      try {
        const page = await listMessages(filters, null);
        if (mine !== generation.current) return;
        const current = state.current.items;
        if (!current) return void setItems(page.items);
        const fresh = page.items.filter((m) => !current.some((c) => c.id === m.id));
        if (!fresh.length) return;
        // A conversation's new message replaces its row (the row is the thread's newest message).
        const threads = new Set(filters.view === 'conversations' ? fresh.map((m) => m.threadId) : []);
        const kept = current.filter((m) => !threads.has(m.threadId));
        setItems([...fresh, ...kept]);
        setActive((a) => Math.max(0, a + fresh.length - (current.length - kept.length)));
      } catch {
        /* the next event or a reload catches up */
      }
    }, LIVE_DEBOUNCE_MS);
  };
  useEffect(() => () => window.clearTimeout(liveTimer.current), []);
  useLiveEvent('message', mergeNewest);
  useLiveEvent('message', refreshAmbiguous);
  useLiveEvent('reconnected', mergeNewest);

  // Infinite scroll: the next page loads when the end of the list comes into view.
  useEffect(() => {
    const el = sentinel.current;
    if (!el || !nextCursor || loading) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) void loadPage(nextCursor, false);
    }, { rootMargin: '400px' });
    observer.observe(el);
    return () => observer.disconnect();
  }, [nextCursor, loading, items]);

  const setFilters = (next: MessageFilters) => route(urlOf(next), true);
  /** A row's message: beside the list (with the list's filters) or on its own page. */
  const rowHref = (id: string) => `/inbox/${id}${pane ? searchOf(filters) : ''}`;

  // The pane shows a message: its row is the list's current one.
  useEffect(() => {
    if (!pane || !selectedId || !items) return;
    const index = items.findIndex((m) => m.id === selectedId);
    if (index >= 0 && index !== active) setActive(index);
  }, [pane, selectedId, items]);

  function focusRow(index: number) {
    const row = listRef.current?.querySelectorAll<HTMLAnchorElement>('a.message-row')[index];
    row?.focus();
    row?.scrollIntoView({ block: 'nearest' });
  }

  const move = (delta: number) => {
    if (!items?.length) return;
    const next = Math.min(items.length - 1, Math.max(0, active + delta));
    setActive(next);
    focusRow(next);
    // The reading pane follows the list.
    if (pane && items[next]) route(rowHref(items[next].id), true);
    // Near the end: fetch more so j keeps going.
    if (delta > 0 && next >= items.length - 3 && nextCursor && !loading) void loadPage(nextCursor, false);
  };
  const current = items?.[active] ?? null;
  const open = (compose?: 'reply' | 'replyAll') => {
    if (!current) return;
    const href = rowHref(current.id);
    route(compose ? `${href}${href.includes('?') ? '&' : '?'}compose=${compose}` : href);
  };
  /** u: the current row read ↔ unread (a conversation is read as a whole). */
  const toggleRead = async () => {
    if (!current) return;
    let ids = [current.id];
    if (current.unread && current.threadCount !== undefined && current.threadCount > 1) {
      ids = (await getThread(current.threadId)).items.filter((m) => m.unread).map((m) => m.id);
    }
    await setRead(ids.length ? ids : [current.id], current.unread, current.threadId);
  };
  // With a message in the pane, r, a and f are the message's own (it handles them).
  const showing = pane && selectedId !== null;

  useShortcuts({
    j: () => move(1),
    k: () => move(-1),
    ArrowDown: (e) => (e.target instanceof HTMLElement && e.target.closest('.message-list') ? move(1) : undefined),
    ArrowUp: (e) => (e.target instanceof HTMLElement && e.target.closest('.message-list') ? move(-1) : undefined),
    Enter: () => open(),
    ...(showing ? {} : {
      r: () => open('reply'),
      a: () => open('replyAll'),
      f: () => current && setFiling(current),
    }),
    u: () => void toggleRead().catch(() => undefined),
    '/': () => searchInput.current?.focus(),
    Escape: (e) => {
      if (e.target === searchInput.current) {
        searchInput.current?.blur();
        focusRow(active);
      } else if (showing) {
        route(url);
        focusRow(active);
      }
    },
  });

  const onSearch = (event: Event) => {
    event.preventDefault();
    setFilters({ ...filters, q: search.trim() || undefined });
  };

  const filtered = filterKeys.some((k) => k !== 'view' && filters[k]);
  const conversations = filters.view === 'conversations';
  const list = (
    <div class="inbox-list-column">
      <PageHeader title={t('inbox.title')}>
        {unreadCount && (
          <span class="unread-count" data-testid="inbox-unread-count">
            {unreadCount.more ? t('inbox.unreadCountMore', { count: unreadCount.unread }) : t('inbox.unreadCount', { count: unreadCount.unread })}
          </span>
        )}
        <button type="button" class="btn btn-primary" onClick={() => setComposing(true)}>
          <MailIcon name="pen" size={16} />
          {t('inbox.newMessage')}
        </button>
      </PageHeader>

      <div class="view-toggle" role="group" aria-label={t('inbox.viewLabel')}>
        <button type="button" class="btn btn-small" aria-pressed={!conversations} onClick={() => setFilters({ ...filters, view: undefined })}>
          {t('inbox.viewMessages')}
        </button>
        <button type="button" class="btn btn-small" aria-pressed={conversations} onClick={() => setFilters({ ...filters, view: 'conversations' })}>
          {t('inbox.viewConversations')}
        </button>
      </div>

      <form role="search" class="inbox-search" onSubmit={onSearch}>
        <label for="inbox-search" class="visually-hidden">
          {t('inbox.search')}
        </label>
        <MailIcon name="search" />
        <input
          ref={searchInput}
          id="inbox-search"
          type="search"
          value={search}
          placeholder={t('inbox.searchPlaceholder')}
          aria-keyshortcuts="/"
          onInput={(e) => setSearch(e.currentTarget.value)}
        />
        <button type="submit" class="btn">
          {t('inbox.searchButton')}
        </button>
      </form>

      <nav class="inbox-views toolbar" aria-label={t('inbox.views')}>
        <a href={urlOf({ ...filters, ambiguous: undefined })} class="btn btn-small" aria-current={filters.ambiguous ? undefined : 'page'}>
          {t('inbox.allMail')}
        </a>
        <a href={urlOf({ ...filters, ambiguous: 'true', filed: undefined })} class="btn btn-small" aria-current={filters.ambiguous ? 'page' : undefined}>
          {t('inbox.needsClient')}
          {ambiguousCount !== null && ambiguousCount > 0 && <span class="badge" aria-label={t('inbox.needsClientCount', { count: ambiguousCount })}>{ambiguousCount}</span>}
        </a>
      </nav>

      <InboxFilters filters={filters} onChange={setFilters} />

      <p class="muted keyboard-hint">
        <MailIcon name="keyboard" size={16} /> {t('inbox.keyboardHint')}
      </p>
      <p role="status" aria-live="polite" class="notice">
        {notice?.(t)}
      </p>
      {failure !== null && (
        <div class="alert alert-error" role="alert">
          <p>{describeError(t, failure)}</p>
          <button type="button" class="btn" onClick={() => void loadPage(items ? nextCursor : null, !items)}>
            {t('inbox.retry')}
          </button>
        </div>
      )}

      {items === null ? (
        <div class="splash-inline" role="status">
          <span class="spinner" aria-hidden="true" />
          <span class="visually-hidden">{t('app.loading')}</span>
        </div>
      ) : items.length === 0 ? (
        <EmptyState icon="inbox" text={filters.ambiguous ? t('inbox.needsClientEmpty') : filtered ? t('inbox.noMatches') : t('inbox.empty')}>
          <EmptyInboxHint filedOnly={filters.filed === 'true'} />
        </EmptyState>
      ) : (
        <ul class="message-list" ref={listRef} aria-label={conversations ? t('inbox.conversationsLabel') : t('inbox.listLabel')}>
          {items.map((m, i) => (
            <MessageRow key={m.id} message={m} href={rowHref(m.id)} active={i === active} shown={pane && m.id === selectedId} onFocus={() => setActive(i)} onFile={filters.ambiguous ? () => setFiling(m) : undefined} />
          ))}
        </ul>
      )}
      <div ref={sentinel} class="list-end">
        {loading && items !== null && <span class="muted">{t('app.loading')}</span>}
        {!loading && nextCursor && (
          <button type="button" class="btn" onClick={() => void loadPage(nextCursor, false)}>
            {t('inbox.loadMore')}
          </button>
        )}
      </div>

      {filing && (
        <FileToClientDialog
          action="file"
          subject={filing.subject}
          exclude={filing.clients.map((c) => c.id)}
          onClose={() => setFiling(null)}
          onPick={async (client) => {
            const updated = await fileMessage(filing.id, client.id);
            // Filed: in the "Needs a client" view it no longer belongs.
            setItems((prev) => (filters.ambiguous
              ? prev?.filter((m) => m.id !== updated.id)
              : prev?.map((m) => (m.id === updated.id ? { ...m, clients: updated.clients } : m))) ?? null);
            refreshAmbiguous();
            setNotice(() => (tr: TFunction) => tr('message.filed', { client: client.name }));
            setFiling(null);
          }}
        />
      )}
      {composing && (
        <MessageDialog title={t('compose.new')} onClose={() => setComposing(false)} wide labelId="compose-new-dialog">
          <Compose mode="new" onClose={() => setComposing(false)} />
        </MessageDialog>
      )}
    </div>
  );
  if (!pane) return <div class="inbox-page">{list}</div>;
  return (
    <div class="inbox-page with-pane">
      {list}
      <section class="reading-pane" aria-label={t('inbox.readingPane')}>
        {selectedId ? (
          <MessagePage key={selectedId} embedded onClose={() => route(url)} />
        ) : (
          <EmptyState icon="inbox" text={t('inbox.selectMessage')} />
        )}
      </section>
    </div>
  );
}

/**
 * What to do about an empty list: without a mailbox of one's own, add one (Settings → Mail accounts);
 * with mailboxes but nothing filed (or no client yet), add clients and their contacts' addresses.
 */
function EmptyInboxHint({ filedOnly }: { filedOnly: boolean }) {
  const { t } = useI18n();
  const user = useUser();
  const [hint, setHint] = useState<'mailbox' | 'clients' | null>(null);
  useEffect(() => {
    const ctrl = new AbortController();
    void (async () => {
      try {
        const accounts = await getJson<{ items: { owner: { id: string } | null }[] }>('/mail-accounts', undefined, ctrl.signal);
        if (!accounts.items.some((a) => a.owner?.id === user.id)) return setHint('mailbox');
        if (filedOnly) return setHint('clients');
        const clients = await getJson<{ items: unknown[] }>('/clients', { limit: 1 }, ctrl.signal);
        if (clients.items.length === 0) setHint('clients');
      } catch {
        // Only a hint: the empty list already says what it can.
      }
    })();
    return () => ctrl.abort();
  }, [filedOnly, user.id]);
  if (hint === 'mailbox') {
    return (
      <p>
        {t('inbox.noMailbox')} <a href="/settings#settings-accounts">{t('inbox.addMailbox')}</a>
      </p>
    );
  }
  if (hint === 'clients') {
    return (
      <p>
        {t('inbox.nothingFiled')} <a href="/clients">{t('inbox.goToClients')}</a>
      </p>
    );
  }
  return null;
}

function MessageRow({ message, href, active, shown, onFocus, onFile }: { message: MessageSummary; href: string; active: boolean; shown: boolean; onFocus: () => void; onFile?: () => void }) {
  const { t, formatDate } = useI18n();
  const date = new Date(message.date);
  const shortDate = listDate(formatDate, message.date);
  const who = message.direction === 'outbound'
    ? t('inbox.toWhom', { names: message.to.map((a) => a.name || a.address).join(', ') || '—' })
    : message.from?.name || message.from?.address || t('message.unknownSender');
  return (
    <li class={`message-item${message.unread ? ' unread' : ''}${active ? ' active' : ''}${shown ? ' shown' : ''}`}>
      <a class="message-row" href={href} tabIndex={active ? 0 : -1} onFocus={onFocus} aria-current={active ? 'true' : undefined}>
        <span class="row-from">
          {message.unread && <span class="visually-hidden">{t('inbox.unread')} </span>}
          {who}
          {message.threadCount !== undefined && message.threadCount > 1 && (
            <span class="row-count" title={t('inbox.threadCount', { count: message.threadCount })}>
              {' '}
              {message.threadCount}
              <span class="visually-hidden"> {t('inbox.threadCount', { count: message.threadCount })}</span>
            </span>
          )}
        </span>
        <span class="row-main">
          <span class="row-subject">{message.subject || t('message.noSubject')}</span>
          <span class="row-snippet"> — {message.snippet}</span>
        </span>
        <span class="row-meta">
          {message.clients.length > 0 && (
            <span class="row-chips">
              {message.clients.map((c) => (
                <span key={c.id} class="chip chip-small">
                  {c.name}
                </span>
              ))}
            </span>
          )}
          {message.hasAttachments && (
            <span class="row-clip" title={t('inbox.hasAttachments')}>
              <MailIcon name="paperclip" size={15} />
              <span class="visually-hidden">{t('inbox.hasAttachments')}</span>
            </span>
          )}
          <time dateTime={message.date} title={formatDate(date, { dateStyle: 'full', timeStyle: 'short' })}>
            {shortDate}
          </time>
        </span>
      </a>
      {onFile && (
        <button type="button" class="btn btn-small row-file" onClick={onFile}>
          {t('inbox.chooseClient')}
        </button>
      )}
    </li>
  );
}
